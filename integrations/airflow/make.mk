# Airflow adapter: its own virtualenv (Airflow 3.3 pins fastapi below Prefect's), pinned by
# integrations/airflow/constraints.txt so the install resolves from PyPI alone, offline from
# Airflow's own constraint hosting.  Included from the root Makefile (PYTHON is defined there).

AIRFLOW_VERSION := 3.3.2
AIRFLOW_DIR := integrations/airflow
AIRFLOW_VENV := .venv-airflow
AIRFLOW_PY := $(AIRFLOW_VENV)/bin/python
AIRFLOW_STAMP := $(AIRFLOW_VENV)/.installed
AIRFLOW_PIP := $(AIRFLOW_PY) -m pip install -q --disable-pip-version-check

.PHONY: venv-airflow test-airflow demo-airflow bench-airflow

# Re-installs only when a pin, a pyproject or a source file of the core or the adapter changed.
$(AIRFLOW_STAMP): $(AIRFLOW_DIR)/constraints.txt $(AIRFLOW_DIR)/requirements-test.txt \
		$(AIRFLOW_DIR)/pyproject.toml pyproject.toml \
		$(shell find src templates $(AIRFLOW_DIR)/src -type f -not -name '*.pyc' 2>/dev/null)
	test -x $(AIRFLOW_PY) || $(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_PIP) -c $(AIRFLOW_DIR)/constraints.txt apache-airflow==$(AIRFLOW_VERSION) \
		-r $(AIRFLOW_DIR)/requirements-test.txt . ./$(AIRFLOW_DIR)
	# Same version number, new code: force the two local packages to be rebuilt.
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
