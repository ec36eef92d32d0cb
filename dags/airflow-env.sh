# The environment Airflow runs in for this project; sourced by `make airflow-init` and
# `make airflow` (and by hand: `source dags/airflow-env.sh` before any `airflow` command).
# Every variable already set wins, so a deployment can override any of them.

_listening_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The config every task reads (an Airflow Variable LISTENING_CONFIG overrides it in tasks).
export LISTENING_CONFIG="${LISTENING_CONFIG:-$_listening_root/listening.toml}"

# The store's folder: the folder of LISTENING_DB, else of settings.store in the config,
# else data/. Airflow's own files (metadata DB, logs) go in its airflow/ subfolder.
if [[ -n "${LISTENING_DB:-}" ]]; then
    _listening_store_dir="$(dirname "$LISTENING_DB")"
elif [[ -f "$LISTENING_CONFIG" && -x "$_listening_root/.venv/bin/python" ]]; then
    _listening_store_dir="$("$_listening_root/.venv/bin/python" -c '
import os, sys
from listening.configfile import load_config
print(load_config(os.environ["LISTENING_CONFIG"]).store_path.parent)' 2>/dev/null \
        || echo "$_listening_root/data")"
else
    _listening_store_dir="$_listening_root/data"
fi

export AIRFLOW_HOME="${AIRFLOW_HOME:-$_listening_store_dir/airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="${AIRFLOW__CORE__DAGS_FOLDER:-$_listening_root/dags}"
export AIRFLOW__CORE__LOAD_EXAMPLES="${AIRFLOW__CORE__LOAD_EXAMPLES:-False}"
# Serve on loopback only; put a reverse proxy with TLS in front to expose it.
export AIRFLOW__API__HOST="${AIRFLOW__API__HOST:-127.0.0.1}"
export AIRFLOW__API__PORT="${AIRFLOW__API__PORT:-8080}"
export AIRFLOW__API__BASE_URL="${AIRFLOW__API__BASE_URL:-http://127.0.0.1:$AIRFLOW__API__PORT}"
export PATH="$_listening_root/.venv/bin:$PATH"
unset _listening_root _listening_store_dir
