# maas: `make run` starts everything on the embedded default; `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
MAAS_DATA_DIR ?= $(CURDIR)/var
export MAAS_DATA_DIR
# The Procfile's commands (python, celery) come from the venv.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
STAMP := $(VENV)/.installed

.PHONY: install run test test-services lint format migrate clean openapi openapi-check contract

# Re-installs only when the dependency files change, so every target can depend on it cheaply.
$(STAMP): pyproject.toml requirements.lock client/pyproject.toml
	@test -x $(PY) || { command -v $(PYTHON) >/dev/null && $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c requirements.lock -e '.[dev]' -e ./client
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput -v 0

run: migrate
	$(PY) manage.py collectstatic --noinput -v 0
	$(PY) manage.py demo_tenant --port $(PORT)
	@# Counters of processes from an earlier run (prometheus-client's multiprocess files) go.
	rm -rf $(MAAS_DATA_DIR)/metrics
	@# Each process writes to this terminal directly (maas/launcher.py); Ctrl-C stops them all.
	PORT=$(PORT) exec $(PY) -m maas.launcher Procfile

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# The suite on real PostgreSQL and Redis (installed and started by .ci/services.sh, as root).
SERVICES_ENV := DATABASE_URL=postgres://maas:maas@127.0.0.1:5432/maas REDIS_URL=redis://127.0.0.1:6379/0
test-services: install
	bash .ci/services.sh
	$(SERVICES_ENV) $(PY) -m pytest $(PYTEST_ARGS)

lint: install openapi-check
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# The OpenAPI document, generated from the code (also served at /v1/openapi.json) and committed
# as docs/openapi.json (and the client's types, generated from it); `make lint` fails when the committed file is not what the code generates.
OPENAPI := docs/openapi.json
SPECTACULAR := $(PY) manage.py spectacular --validate --fail-on-warn --format openapi-json
openapi: install
	$(SPECTACULAR) --file $(OPENAPI)
	$(PY) client/scripts/generate.py $(OPENAPI)

openapi-check: install
	@generated=$$(mktemp) && $(SPECTACULAR) --file $$generated && \
	  if diff -u $(OPENAPI) $$generated > $$generated.diff; then rm -f $$generated $$generated.diff; \
	  else head -60 $$generated.diff; rm -f $$generated $$generated.diff; \
	    echo "$(OPENAPI) differs from what the code generates: run make openapi and commit it"; exit 1; fi

# Schemathesis, every check, against a live embedded server (.ci/schemathesis.sh).
contract: install
	bash .ci/schemathesis.sh

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var
