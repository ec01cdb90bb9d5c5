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

.PHONY: venv run test test-fast services lint bench reliability scaleout train-model eval-model clean

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

# The everyday loop (under 3 minutes on two cores): everything but tests marked slow (over ~3 s) or integration.
test-fast: venv services
	$(BIN)/pytest -m "not slow and not integration" $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .

bench: venv services
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

# The reliability scenarios (tests/reliability/SCENARIOS.md) at full size (about 30-40 minutes); writes docs/RELIABILITY.md. `make test` runs the short ones.
RELIABILITY_SUITES := tests/reliability tests/hostile tests/dashboard/test_dashboard_hostile_input.py \
	tests/api/test_schemathesis.py tests/api/test_api_roles.py tests/api/test_api_isolation.py \
	tests/api/test_api_memberships.py tests/api/test_api_invitations.py tests/dashboard/test_dashboard_invitations.py \
	tests/api/test_api_moves.py tests/dashboard/test_dashboard_moves.py \
	tests/dashboard/test_dashboard_permissions.py tests/clipcast/test_login_throttle.py tests/clipcast/test_shared_throttle.py \
	tests/dashboard/test_dashboard_role_pages.py tests/accounts/test_roles.py tests/clipcast/test_secrets_at_rest.py \
	tests/clipcast/test_key_rotation.py tests/clipcast/test_security.py tests/clipcast/test_deploy_check.py
reliability: venv services
	@command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	@mkdir -p var/reliability && rm -f var/reliability/results.jsonl var/reliability/junit.xml
	-CLIPCAST_RELIABILITY=full CLIPCAST_RELIABILITY_OUT=$(CURDIR)/var/reliability/results.jsonl \
		$(BIN)/pytest $(RELIABILITY_SUITES) --junitxml=var/reliability/junit.xml $(PYTEST_ARGS)
	$(BIN)/python tests/reliability/report.py var/reliability/results.jsonl var/reliability/junit.xml docs/RELIABILITY.md

# The multi-host proof (a few minutes; root): four hosts as network namespaces sharing only PostgreSQL,
# Redis, an S3 bucket and the X sandbox (its own instances, on a private bridge), a GPU host lost mid-run.
scaleout: venv services
	@command -v ip >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2)
	@mkdir -p var/reliability
	CLIPCAST_SCALEOUT=1 CLIPCAST_RELIABILITY_OUT=$(CURDIR)/var/reliability/scaleout.jsonl \
		$(BIN)/pytest tests/reliability/test_scale_out.py -s -p no:cacheprovider $(PYTEST_ARGS)

train-model: venv
	$(BIN)/python -m training.train $(TRAIN_ARGS)

eval-model: venv
	$(BIN)/python -m training.evaluate $(EVAL_ARGS)

clean:
	rm -rf var .pytest_cache .ruff_cache
