# Two commands on a fresh machine with Python 3.11+ and make:
#   make run   - virtualenv, install, migrate, serve on 127.0.0.1:4000
#   make test  - the whole suite against real PostgreSQL
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint schema bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/edgehog-creds serve --dev

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check edgehog_creds tests
	$(BIN)/mypy

schema: $(STAMP)
	$(BIN)/edgehog-creds export-schema > schema.graphql

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .edgehog-creds-test
