.PHONY: test-airflow
test-airflow:
	@echo "airflow adapter: no tests yet"
