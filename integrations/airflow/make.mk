# Airflow adapter: its own virtualenv (Airflow 3.3 pins fastapi below Prefect's), pinned by
# integrations/airflow/constraints.txt so the install resolves from PyPI alone, offline from
# Airflow's own constraint hosting.  Included from the root Makefile (PYTHON is defined there).

AIRFLOW_VERSION := 3.3.2
AIRFLOW_DIR := integrations/airflow
AIRFLOW_VENV := .venv-airflow
AIRFLOW_PY := $(AIRFLOW_VENV)/bin/python
AIRFLOW_DEPS_STAMP := $(AIRFLOW_VENV)/.deps-installed
AIRFLOW_STAMP := $(AIRFLOW_VENV)/.installed
AIRFLOW_PIP := $(AIRFLOW_PY) -m pip install -q --disable-pip-version-check

.PHONY: venv-airflow test-airflow demo-airflow bench-airflow

# Two stamps: dependencies (slow, only when a pin or a pyproject changes) and the code of the
# core and the adapter (forced rebuild of the two local packages: same version, new code).
$(AIRFLOW_DEPS_STAMP): $(AIRFLOW_DIR)/constraints.txt $(AIRFLOW_DIR)/requirements-test.txt \
		$(AIRFLOW_DIR)/pyproject.toml pyproject.toml
	test -x $(AIRFLOW_PY) || $(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_PIP) -c $(AIRFLOW_DIR)/constraints.txt apache-airflow==$(AIRFLOW_VERSION) \
		-r $(AIRFLOW_DIR)/requirements-test.txt . ./$(AIRFLOW_DIR)
	touch $@

$(AIRFLOW_STAMP): $(AIRFLOW_DEPS_STAMP) \
		$(shell find src templates $(AIRFLOW_DIR)/src -type f -not -name '*.pyc' 2>/dev/null)
	$(AIRFLOW_PIP) --no-deps --force-reinstall . ./$(AIRFLOW_DIR)
	touch $@

venv-airflow: $(AIRFLOW_STAMP)

# cd into the adapter so its own pytest settings (markers) apply, not the core's.
test-airflow: $(AIRFLOW_STAMP)
	cd $(AIRFLOW_DIR) && $(CURDIR)/$(AIRFLOW_PY) -m pytest -q tests

demo-airflow: $(AIRFLOW_STAMP)
	$(AIRFLOW_PY) examples/airflow/run_demo.py

bench-airflow: $(AIRFLOW_STAMP)
	$(AIRFLOW_PY) benchmarks/bench_airflow_overhead.py
