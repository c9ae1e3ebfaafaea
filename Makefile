# postmortem-scribe: `make demo` runs the main job on embedded defaults, `make test` runs every test.
# Each target installs what it needs into a local virtualenv, pinned by requirements/*.txt.

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: all demo test test-core venv clean bench

all: test

$(STAMP): pyproject.toml requirements/test.txt $(shell find src templates -type f 2>/dev/null)
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --disable-pip-version-check -r requirements/test.txt
	$(VPY) -m pip install -q --disable-pip-version-check --no-deps --force-reinstall .
	touch $(STAMP)

venv: $(STAMP)

test-core: $(STAMP)
	$(VPY) -m pytest -q tests

# Benchmarks print ratios against a baseline measured in the same run; not part of `make test`.
bench: $(STAMP)
	$(VPY) benchmarks/bench_report.py
	$(VPY) benchmarks/bench_log_excerpt.py
	$(VPY) benchmarks/bench_scrub_render.py
	$(VPY) benchmarks/bench_inspect_csv.py
	$(VPY) benchmarks/bench_storm.py
	$(VPY) benchmarks/bench_similarity.py
	$(MAKE) bench-airflow bench-prefect

clean:
	rm -rf $(VENV) .venv-* build dist postmortems .scribe-demo .bench

include integrations/airflow/make.mk
include integrations/prefect/make.mk
include examples/make.mk

test: test-core test-airflow test-airflow2 test-prefect
