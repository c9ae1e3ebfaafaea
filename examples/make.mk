# `make demo` runs the main job: the Airflow example DAG with the plugin installed, failing on a
# malformed CSV twice (see integrations/airflow/make.mk).  `make demo-core` is the same story
# without Airflow, in the core's own virtualenv, in a few seconds.
.PHONY: demo demo-core
demo: demo-airflow

demo-core: $(STAMP)
	$(VPY) examples/demo.py
