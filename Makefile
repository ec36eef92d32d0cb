# The two commands: `make demo` and `make test`. Everything else is for development.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Never let uv download an interpreter: the python3 on PATH (>= 3.11) is the one we use.
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv
# Ship bytecode: where .pyc cannot be written at run time (PYTHONDONTWRITEBYTECODE, a venv the
# running user cannot write), every process would compile each module it imports, every time:
# each parser process of a collect paid 0.35-0.55 s of CPU and ~6 MiB for it.
export UV_COMPILE_BYTECODE := 1
PYTHON ?= python3
UV := $(PYTHON) -m uv
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install demo test browser pdf lint format dashboard docs clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

install: $(STAMP) ## build .venv from uv.lock (installs uv with pip when missing)

$(STAMP): pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen --python $(PYTHON)
	@$(BIN)/python -m compileall -q src/listening >/dev/null
	@touch $@

demo: install pdf ## run the whole pipeline on the bundled French demo world
	$(BIN)/listening demo --airflow

test: install browser pdf install-scale scale-system ## run the test suite
	$(BIN)/pytest

# The dashboard tests drive Debian's Chromium (never a downloaded browser build).
browser: ## install Debian's chromium for the dashboard tests (apt, as root) when missing
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
		else echo "the dashboard tests need Debian's chromium: sudo apt-get install chromium"; \
		exit 1; fi; }

# Weekly reports: WeasyPrint lays out with Debian's Pango; DejaVu and Noto Color Emoji cover
# French text and the emoji people write.
PDF_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core fonts-noto-color-emoji
pdf: ## install Debian's Pango and fonts for the PDF reports (apt, as root) when missing
	@dpkg -s $(PDF_PACKAGES) >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $(PDF_PACKAGES); \
		else echo "PDF reports need: sudo apt-get install $(PDF_PACKAGES)"; exit 1; fi; }

lint: install ## ruff (with the Airflow AIR rules on dags/)
	$(BIN)/ruff check src tests bench dashboards dags
	$(BIN)/ruff check --select AIR dags
	$(BIN)/ruff format --check src tests bench dashboards dags

format: install ## reformat the code with ruff
	$(BIN)/ruff format src tests bench dashboards dags
	$(BIN)/ruff check --fix src tests bench dashboards dags

dashboard: install ## start the dashboards on http://127.0.0.1:8501 (demo store by default)
	$(BIN)/listening dashboard $(if $(LISTENING_DB)$(LISTENING_CONFIG),,--db data/demo/listening.duckdb)

clean: ## remove the venv and generated data
	rm -rf $(VENV) data .pytest_cache .ruff_cache

docs: install ## regenerate the README's SQL reference from the store's COMMENT ON text
	$(BIN)/python tests/test_docs.py --write

# -- Airflow (docs-operations.md) -------------------------------------------------------------
# Both targets source dags/airflow-env.sh: AIRFLOW_HOME (default: airflow/ in the store's
# folder), the DAGs folder, no examples, the API on 127.0.0.1.
AIRFLOW_ENV := source dags/airflow-env.sh &&

.PHONY: airflow-init airflow

airflow-init: install ## prepare Airflow: metadata DB migrated, pools listening_http and listening_store
	$(AIRFLOW_ENV) mkdir -p "$$AIRFLOW_HOME" && echo "AIRFLOW_HOME=$$AIRFLOW_HOME" \
		&& airflow db migrate \
		&& airflow pools set listening_http 8 "concurrent fetch tasks (HTTP)" \
		&& airflow pools set listening_store 1 "the single DuckDB writer: plan, load, analyze, build" \
		&& airflow dags reserialize

airflow: airflow-init ## start Airflow (scheduler, DAG processor, API server) on http://127.0.0.1:8080
	$(AIRFLOW_ENV) exec airflow standalone

# -- Scale-out on one machine (README "Growing past one machine") ------------------------------
# The scale extra (Celery, PostgreSQL client) on top of the default install, and Debian's
# postgresql and redis-server; `make scale-demo` then runs the DAGs on the CeleryExecutor.
SCALE_STAMP := $(VENV)/.installed-scale

.PHONY: install-scale scale-system scale-demo

install-scale: $(SCALE_STAMP) ## add the scale extra (apache-airflow[celery,postgres]) to .venv

$(SCALE_STAMP): $(STAMP)
	$(UV) sync --frozen --extra scale --inexact --python $(PYTHON)
	@touch $@

scale-system: ## install Debian's postgresql, redis-server and strace (apt, as root) when missing
	@{ ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v redis-server >/dev/null \
		&& command -v strace >/dev/null; } || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq \
			&& apt-get install -y -qq -o DPkg::Lock::Timeout=600 postgresql redis-server strace; \
		else echo "the scale demo and its test need: sudo apt-get install postgresql redis-server strace"; \
		exit 1; fi; }

scale-demo: install-scale scale-system ## the DAGs on Celery: PostgreSQL, Redis, 2 workers (as root)
	$(BIN)/listening demo --scale --dir data/demo-scale
