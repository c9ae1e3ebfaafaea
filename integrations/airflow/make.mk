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

# The core's and the adapter's code: a change reinstalls both (same version, new code).
AIRFLOW_CODE := $(shell find src templates $(AIRFLOW_DIR)/src -type f -not -name '*.pyc' \
	2>/dev/null)

.PHONY: venv-airflow test-airflow demo-airflow bench-airflow venv-airflow2 test-airflow2

# Two stamps: dependencies (slow, only when a pin or a pyproject changes) and the code of the
# core and the adapter (forced rebuild of the two local packages: same version, new code).
$(AIRFLOW_DEPS_STAMP): $(AIRFLOW_DIR)/constraints.txt $(AIRFLOW_DIR)/requirements-test.txt \
		$(AIRFLOW_DIR)/pyproject.toml pyproject.toml
	test -x $(AIRFLOW_PY) || $(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_PIP) -c $(AIRFLOW_DIR)/constraints.txt apache-airflow==$(AIRFLOW_VERSION) \
		-r $(AIRFLOW_DIR)/requirements-test.txt . ./$(AIRFLOW_DIR)
	touch $@

$(AIRFLOW_STAMP): $(AIRFLOW_DEPS_STAMP) $(AIRFLOW_CODE)
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

# Airflow 2.11, the last 2.x release: the same tests in .venv-airflow2, pinned by
# constraints-2.11.txt.  2.x pins SQLAlchemy < 2 and Flask, so it shares no environment with 3.3.
AIRFLOW2_VERSION := 2.11.2
AIRFLOW2_VENV := .venv-airflow2
AIRFLOW2_PY := $(AIRFLOW2_VENV)/bin/python
AIRFLOW2_DEPS_STAMP := $(AIRFLOW2_VENV)/.deps-installed
AIRFLOW2_STAMP := $(AIRFLOW2_VENV)/.installed
AIRFLOW2_PIP := $(AIRFLOW2_PY) -m pip install -q --disable-pip-version-check

$(AIRFLOW2_DEPS_STAMP): $(AIRFLOW_DIR)/constraints-2.11.txt $(AIRFLOW_DIR)/requirements-test.txt \
		$(AIRFLOW_DIR)/pyproject.toml pyproject.toml
	test -x $(AIRFLOW2_PY) || $(PYTHON) -m venv $(AIRFLOW2_VENV)
	$(AIRFLOW2_PIP) -c $(AIRFLOW_DIR)/constraints-2.11.txt apache-airflow==$(AIRFLOW2_VERSION) \
		-r $(AIRFLOW_DIR)/requirements-test.txt . ./$(AIRFLOW_DIR)
	touch $@

$(AIRFLOW2_STAMP): $(AIRFLOW2_DEPS_STAMP) $(AIRFLOW_CODE)
	$(AIRFLOW2_PIP) --no-deps --force-reinstall . ./$(AIRFLOW_DIR)
	touch $@

venv-airflow2: $(AIRFLOW2_STAMP)

# Every adapter test applies to 2.x, the real-scheduler one included (about 25 s there: the
# scheduler alone, with the SequentialExecutor).
test-airflow2: $(AIRFLOW2_STAMP)
	cd $(AIRFLOW_DIR) && $(CURDIR)/$(AIRFLOW2_PY) -m pytest -q tests
