# Ambrogio: `make run` serves the API on a fresh machine, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup db migrate demo-data lint typecheck pytest schema stop status

$(STAMP): pyproject.toml
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  if [ "$${AMBROGIO_APT_INSTALL:-1}" = "0" ]; then \
	    echo "python3-venv is missing: apt-get install -y python3-venv"; exit 1; fi; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv && \
	  $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

db: setup
	$(BIN)/ambrogio db start

migrate: db
	$(BIN)/ambrogio migrate

demo-data: migrate
	$(BIN)/ambrogio demo-data

run: demo-data
	$(BIN)/ambrogio serve

lint: setup
	$(BIN)/ruff check ambrogio tests migrations $(wildcard bench)
	$(BIN)/ruff format --check ambrogio tests migrations $(wildcard bench)

typecheck: setup
	$(BIN)/mypy

pytest: db
	$(BIN)/pytest

test: demo-data lint typecheck pytest

schema: setup
	$(BIN)/ambrogio schema > schema.graphql

status: setup
	$(BIN)/ambrogio db status

stop: setup
	$(BIN)/ambrogio db stop
