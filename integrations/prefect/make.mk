.PHONY: test-prefect
test-prefect:
	@echo "prefect adapter: no tests yet"
