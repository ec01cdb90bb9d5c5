# Clipcast: `make run` (the whole service on embedded defaults) and `make test` (PostgreSQL + Redis + real workers).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

export PYTHONPATH := $(CURDIR)/platform:$(CURDIR)
export HF_HUB_OFFLINE := 1
export VENV_BIN := $(BIN)

# The embedded defaults for `make run`: SQLite + filesystem broker under var/, DEBUG on.
SANDBOX_PORT ?= 8765
SANDBOX_URL := http://127.0.0.1:$(SANDBOX_PORT)
RUN_ENV := DEBUG=1 CLIPCAST_PORT=$(PORT) SITE_URL=http://127.0.0.1:$(PORT) SANDBOX_PORT=$(SANDBOX_PORT) \
	X_API_BASE_URL=$(SANDBOX_URL) X_UPLOAD_BASE_URL=$(SANDBOX_URL) X_WEB_BASE_URL=$(SANDBOX_URL) \
	X_CONSUMER_KEY=clipcast-demo-consumer X_CONSUMER_SECRET=clipcast-demo-consumer-secret \
	X_OAUTH2_CLIENT_ID=clipcast-demo-client

.PHONY: venv run test test-fast services lint bench train-model eval-model clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	@# A CPU build of torch lies on this machine's disk; a bare `torch` requirement would pull GBs of CUDA wheels.
	$(VENV)/bin/pip install -q torch==2.13.0
	$(VENV)/bin/pip install -q -e '.[dev]'
	@touch $(STAMP)

run: venv
	@mkdir -p var
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput
	$(RUN_ENV) $(BIN)/python manage.py seed_demo --url http://127.0.0.1:$(PORT)/
	@echo ""
	@echo "  Clipcast is starting on http://127.0.0.1:$(PORT)/  (admin: http://127.0.0.1:$(PORT)/admin/)  Ctrl-C stops all."
	@echo "  X sandbox: $(SANDBOX_URL)/"
	@echo ""
	$(RUN_ENV) exec $(BIN)/honcho start -f Procfile

services:
	@bash .ci/services.sh

test: venv services
	$(BIN)/pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .

bench: venv services
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

train-model: venv
	$(BIN)/python -m generation.training.train $(TRAIN_ARGS)

eval-model: venv
	$(BIN)/python -m generation.training.evaluate $(EVAL_ARGS)

clean:
	rm -rf var .pytest_cache .ruff_cache
