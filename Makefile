# Two commands on a fresh machine with Python 3.11+ and make:
#   make run   - virtualenv, install, migrate, serve on 127.0.0.1:4000
#   make test  - the whole suite against real PostgreSQL
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint schema bench clean edgehog-e2e edgehog-compat

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,test]'
	touch $(STAMP)

HOST ?= 127.0.0.1
PORT ?= 4000

run: $(STAMP)
	$(BIN)/edgehog-creds serve --dev --host $(HOST) --port $(PORT)

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

# Edgehog's own web UI against this service, in headless Chromium (needs node/npm,
# /usr/bin/chromium, `pip install playwright`). E2E_ARGS: e.g. --only creds-delete, --keep.
edgehog-e2e: $(STAMP)
	$(if $(EDGEHOG),,$(error EDGEHOG=<path to an Edgehog checkout> is required))
	$(BIN)/python -m tests.edgehog.e2e $(EDGEHOG) $(E2E_ARGS)

# Every GraphQL operation of Edgehog's frontend, validated against schema.graphql.
edgehog-compat: $(STAMP)
	$(if $(EDGEHOG),,$(error EDGEHOG=<path to an Edgehog checkout> is required))
	$(BIN)/python -m tests.edgehog.compat $(EDGEHOG) -v

# Stops the embedded PostgreSQL servers (make run's, make test's) first: removing
# their binaries (in the venv) or data under a running server leaves it running,
# orphaned. A failed stop stops here, before anything is removed.
clean:
	if [ -x $(BIN)/edgehog-creds ]; then \
	    $(BIN)/edgehog-creds dev stop && \
	    EDGEHOG_CREDS_DATA_DIR=.edgehog-creds-test $(BIN)/edgehog-creds dev stop; \
	fi
	rm -rf $(VENV) .edgehog-creds-test
