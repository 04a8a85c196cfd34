# Ambrogio: `make run` serves the API on a fresh machine, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup db migrate demo-data lint typecheck pytest schema stop status chromium maplibre bench-tools

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

pytest: db chromium
	$(BIN)/pytest

# The map preview's browser tests drive Debian's Chromium (Playwright's own browsers are never
# downloaded); installed with apt when missing, as the database is.
CHROMIUM_PACKAGES := chromium chromium-driver
chromium:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  if [ "$${AMBROGIO_APT_INSTALL:-1}" = "0" ]; then \
	    echo "Chromium is missing: apt-get install -y $(CHROMIUM_PACKAGES)"; exit 1; fi; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(CHROMIUM_PACKAGES); }

# MapLibre GL JS for the map preview, from npm at this version, into the package (committed).
MAPLIBRE_VERSION := 6.20.0
MAPLIBRE_DIR := ambrogio/http/static/map/maplibre-gl
maplibre:
	@work=$$(mktemp -d) && cd $$work && npm pack --silent maplibre-gl@$(MAPLIBRE_VERSION) >/dev/null && \
	  tar xzf maplibre-gl-$(MAPLIBRE_VERSION).tgz && cd - >/dev/null && mkdir -p $(MAPLIBRE_DIR) && \
	  for name in maplibre-gl.mjs maplibre-gl-worker.mjs; do \
	    sed '/^\/\/# sourceMappingURL=/d' $$work/package/dist/$$name > $(MAPLIBRE_DIR)/$$name; done && \
	  cp $$work/package/dist/maplibre-gl.css $$work/package/LICENSE.txt $(MAPLIBRE_DIR)/ && \
	  rm -rf $$work && echo "MapLibre GL JS $(MAPLIBRE_VERSION) in $(MAPLIBRE_DIR)"

test: demo-data lint typecheck pytest

schema: setup
	$(BIN)/ambrogio schema > schema.graphql

status: setup
	$(BIN)/ambrogio db status

stop: setup
	$(BIN)/ambrogio db stop

# The load generator of bench/ (wrk), from apt.
bench-tools:
	@command -v wrk >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; }
