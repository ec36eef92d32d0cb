"""`make airflow-init` leaves Airflow ready to inspect: right after it, without a DAG processor
having run, ``airflow dags list`` shows the four DAGs and ``list-import-errors`` is empty.

The real ``make airflow-init`` in a private AIRFLOW_HOME (sqlite metadata DB).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DAG_IDS = ["listening_analyze", "listening_collect", "listening_report", "listening_reputation"]

pytestmark = pytest.mark.slow


def test_make_airflow_init_serializes_every_dag(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "MAKE"))},
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "LISTENING_CONFIG": str(tmp_path / "listening.toml"),
    }
    init = subprocess.run(
        ["make", "--no-print-directory", "airflow-init"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert init.returncode == 0, init.stdout[-3000:] + init.stderr[-3000:]
    assert f"AIRFLOW_HOME={tmp_path / 'airflow'}" in init.stdout
    # What an operator types next (the two commands in one shell: Airflow is slow to start).
    check = subprocess.run(
        [
            "bash",
            "-c",
            "source dags/airflow-env.sh && airflow dags list -o json "
            "&& echo '--- import errors ---' && airflow dags list-import-errors -o json",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-3000:]
    listed, errors = check.stdout.split("--- import errors ---")
    assert sorted(re.findall(r'"dag_id": "(\w+)"', listed)) == DAG_IDS, listed[-2000:]
    # list-import-errors exits 1 when the metadata DB holds any; the JSON rows name the file.
    assert '"filepath"' not in errors, errors[-2000:]
