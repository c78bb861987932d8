# The index of what a developer can do. Every target creates the virtual environment when needed.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
SANDBOX_STAMP := $(VENV)/.sandbox-stamp
PIP_FLAGS := --quiet --disable-pip-version-check
PIP_INSTALL := $(PY) -m pip install $(PIP_FLAGS)
PIP_VERSION := 26.3
NODE_STAMP := node_modules/.installed-stamp
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := 1
PYTEST_ARGS ?=

.PHONY: help run test lint format typecheck docs docs-tables pytest synth diff cfn-lint bench fuzz stop-test timing-test load deploy openapi vendor-web wheel ranges pump clean

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | column -t -s $$'\t'

# Only what the sandbox imports (requirements-sandbox.txt), so that `make run` on a fresh clone is quick.
# --no-compile: Python compiles what the sandbox imports when it first imports it, not all of moto.
# A new environment gets its pip from the pip that creates it, in the same run as the packages
# (`pip --python`, pip >= 22.3) and uncompiled: `python -m venv` would run ensurepip, which byte-compiles
# pip and setuptools, a third of a fresh clone's wait on a busy machine. Without such a pip, ensurepip.
$(SANDBOX_STAMP): requirements-sandbox.txt lambda/requirements.txt
	if [ -x $(VENV)/bin/pip ]; then \
	  $(PIP_INSTALL) --no-compile -r requirements-sandbox.txt; \
	else \
	  $(PYTHON) -m venv --without-pip $(VENV) && \
	  { $(PYTHON) -m pip --python $(PY) install $(PIP_FLAGS) --no-compile pip==$(PIP_VERSION) \
	      -r requirements-sandbox.txt || \
	    { echo "make: no pip >= 22.3 beside $(PYTHON): ensurepip instead"; $(PY) -m ensurepip --default-pip && \
	      $(PIP_INSTALL) --no-compile -r requirements-sandbox.txt; }; }; \
	fi
	touch $@

# Everything else: the CDK libraries, the development and documentation tools.
$(STAMP): $(SANDBOX_STAMP) requirements.txt requirements-dev.txt requirements-docs.txt pyproject.toml
	$(PIP_INSTALL) -r requirements-dev.txt
	# The construct library (infra/cdk_sms_otp), editable: app.py imports it as users do.
	$(PIP_INSTALL) --no-deps -e .
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: $(SANDBOX_STAMP) ## start the local sandbox: AWS endpoint on :4566, HTTP API on :3000
	$(PY) -m local

test: lint typecheck docs pytest ## every check: ruff, mypy, the docs build, pytest (what CI runs)

lint: $(STAMP) ## ruff lint + format check, and the layers (import-linter contracts in pyproject.toml)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	PYTHONPATH=lambda:infra $(VENV)/bin/lint-imports --no-cache

format: $(STAMP) ## apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: $(STAMP) ## mypy, strict
	$(VENV)/bin/mypy

docs: $(STAMP) ## the documentation site, strictly (broken links fail), offline, into site/
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

pytest: $(STAMP) $(NODE_STAMP) ## the test suite (unit, integration, infra, e2e)
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

docs-tables: $(STAMP) ## regenerate docs/configuration.md's tables from the configuration schema
	$(PY) -m cdk_sms_otp.options_reference

openapi: $(STAMP) ## regenerate docs/openapi.json from the handler
	PYTHONPATH=lambda $(PY) -m otp.openapi > docs/openapi.json

vendor-web: $(STAMP) $(NODE_STAMP) ## copy the pinned libphonenumber-js into web/sign-in/ (after bumping it)
	$(PY) -m local.sign_in_page_vendor

synth: $(STAMP) $(NODE_STAMP) ## cdk synth (no AWS credentials needed; CDK_ARGS="-c otp.engine=endusermessaging")
	PATH="$(abspath $(VENV))/bin:$$PATH" npx cdk synth --quiet $(CDK_ARGS)

diff: $(STAMP) $(NODE_STAMP) ## cdk diff against the deployed stack (AWS credentials; CDK_ARGS as for deploy)
	PATH="$(abspath $(VENV))/bin:$$PATH" npx cdk diff $(CDK_ARGS)

cfn-lint: synth ## cfn-lint on the synthesized templates
	$(VENV)/bin/cfn-lint cdk.out/*.template.json

deploy: $(STAMP) $(NODE_STAMP) ## cdk deploy into the current AWS account (pass CDK_ARGS="-c otp.brandName=...")
	PATH="$(abspath $(VENV))/bin:$$PATH" npx cdk deploy $(CDK_ARGS)

bench: $(STAMP) $(NODE_STAMP) ## benchmarks that print ratios; writes bench/results.json
	$(PY) -m bench

fuzz: $(STAMP) ## long schemathesis run against the sandbox API
	$(PY) -m pytest -p no:xdist tests/reliability -m fuzz --fuzz-long

stop-test: $(STAMP) ## the sandbox stops within 2 s of SIGINT/SIGTERM, 50 runs under load (prints each time)
	SANDBOX_STOP_RUNS=50 $(PY) -m pytest -p no:xdist -s -q --timeout 1800 tests/sandbox/test_sandbox_stops.py

timing-test: $(STAMP) ## registered vs unknown numbers at sign-in: 200 samples each, medians and Mann-Whitney p
	SIGN_IN_TIMING_SAMPLES=200 $(PY) -m pytest -p no:xdist -s -q --timeout 7200 tests/e2e/test_sign_in_timing_sandbox.py

load: $(STAMP) ## bounded load test on loopback against the sandbox API
	$(PY) -m bench.load

ranges: $(STAMP) ## the adaptive defence's range blocks: ARGS="list", "lift|pin|allow|disallow +4477009" (OTP_TABLE_NAME)
	PYTHONPATH=lambda $(PY) -m otp.operator $(ARGS)

pump: $(STAMP) ## 48 simulated hours of real users and three pumps, adaptive defence off vs on (PUMP_ARGS="--scale 0.1")
	PYTHONPATH=lambda:. $(PY) -m local.pump $(PUMP_ARGS)

wheel: $(STAMP) ## the installable library (constructs + Lambda code) as a wheel in dist/
	$(PY) -m pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir dist .

clean: ## removes cdk.out, dist, site and the tools' caches
	rm -rf cdk.out dist site .mypy_cache .ruff_cache .pytest_cache
