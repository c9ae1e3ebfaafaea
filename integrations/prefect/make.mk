# Prefect adapter: its own virtualenv (.venv-prefect), because Prefect 3.9 and Airflow 3.3 cannot
# share one.  Included by the root Makefile; paths are relative to the repository root.

PREFECT_VENV := .venv-prefect
PREFECT_PY := $(PREFECT_VENV)/bin/python
PREFECT_STAMP := $(PREFECT_VENV)/.installed
# A closed network: no telemetry, no HTTP/2 probing, nothing read from the user's ~/.prefect.
PREFECT_ENV := PREFECT_SERVER_ANALYTICS_ENABLED=false PREFECT_API_ENABLE_HTTP2=false

.PHONY: test-prefect demo-prefect bench-prefect venv-prefect

$(PREFECT_STAMP): integrations/prefect/requirements-test.txt integrations/prefect/pyproject.toml pyproject.toml \
		$(shell find src templates integrations/prefect/src -type f -not -name '*.pyc' 2>/dev/null)
	test -x $(PREFECT_PY) || $(PYTHON) -m venv $(PREFECT_VENV)
	$(PREFECT_PY) -m pip install -q --disable-pip-version-check -r integrations/prefect/requirements-test.txt
	$(PREFECT_PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation \
		--force-reinstall . ./integrations/prefect
	touch $(PREFECT_STAMP)

venv-prefect: $(PREFECT_STAMP)

test-prefect: $(PREFECT_STAMP)
	cd integrations/prefect && $(PREFECT_ENV) ../../$(PREFECT_PY) -m pytest -q tests

demo-prefect: $(PREFECT_STAMP)
	$(PREFECT_ENV) $(PREFECT_PY) examples/prefect/demo.py

bench-prefect: $(PREFECT_STAMP)
	$(PREFECT_ENV) $(PREFECT_PY) benchmarks/bench_prefect_overhead.py
