# Every target installs what it needs from the project's own files: a Python virtualenv
# (.venv, which also brings Node.js 24) and the pinned CDK CLI (node_modules). A stamp file
# inside each remembers what it was installed from, so a second run reinstalls nothing that
# is up to date.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VENV_STAMP := $(VENV)/.installed-from-requirements
NODE_STAMP := node_modules/.installed-from-package-lock
CDK := node_modules/.bin/cdk
# Arguments for `make local`, e.g. `make local ARGS="--format json"`.
ARGS ?=
# Extra arguments for the cdk commands, e.g. `make deploy CDK_ARGS="--profile prod"`.
CDK_ARGS ?=

# The virtualenv's Node 24 comes first: the system's may be end-of-life, and jsii and the
# CDK CLI print a warning banner on every run under an unsupported Node.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Keep the CDK CLI's cache and settings inside the project, not in the user's home.
export CDK_HOME := $(CURDIR)/.cdk-home
# No telemetry and no "new version available" check: synth makes no network call.
export CDK_DISABLE_CLI_TELEMETRY := true
export CDK_DISABLE_VERSION_CHECK := true

.PHONY: help venv deps synth test deploy-local local redrive bench lint bootstrap diff deploy destroy clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python 3.11 or newer is needed (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV_STAMP): requirements.txt requirements-dev.txt | $(VENV)/bin/python
	# --no-compile: byte-compiling every file of every package took more than half of the
	# install; Python compiles the modules it actually imports on first use anyway.
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-compile -r requirements-dev.txt
	touch $@

# npm ci installs exactly the lock file. It needs the virtualenv's Node, not its packages,
# hence the order-only prerequisite.
$(NODE_STAMP): package.json package-lock.json | $(VENV_STAMP)
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

venv: $(VENV_STAMP) ## Create or refresh the virtualenv (Python packages and Node.js)

deps: $(VENV_STAMP) $(NODE_STAMP) ## Install everything: the virtualenv and the CDK CLI

synth: deps ## Synthesize the CloudFormation template into cdk.out/
	$(CDK) synth --quiet $(CDK_ARGS)

test: deps ## Run the tests (the deploy test needs the CDK CLI too)
	$(VENV)/bin/python -m pytest

deploy-local: deps ## Check a change before deploying: cdk bootstrap/deploy/destroy against a local moto server
	$(VENV)/bin/python -m pytest tests/deploy -v

local: $(VENV_STAMP) ## Run the pipeline on this machine: embedded DynamoDB stream, real handler (ARGS="--help")
	$(VENV)/bin/python -m local $(ARGS)

# @: the command's output is for piping (e.g. --format json), so make does not echo the recipe.
redrive: $(VENV_STAMP) ## List, show and replay parked batches (ARGS="list --stack-name InventoryStack")
	@$(VENV)/bin/python -m stacks.table_stream_logger $(ARGS)

bench: deps ## Benchmark against the tutorials' handlers; writes bench/RESULTS.md (ARGS="--quick")
	$(VENV)/bin/python -m bench $(ARGS)

# The second mypy checks the construct library alone, strictly: the typed API (py.typed) its users get.
lint: $(VENV_STAMP) ## Check formatting, lint and types (ruff, mypy)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy --strict stacks/table_stream_logger

# The targets below need AWS credentials and a region (AWS_PROFILE / AWS_REGION, ...).
bootstrap: deps ## Once per account and region: cdk bootstrap
	$(CDK) bootstrap $(CDK_ARGS)

diff: deps ## Compare the deployed stack with the local one
	$(CDK) diff $(CDK_ARGS)

deploy: deps ## Deploy the stack
	$(CDK) deploy $(CDK_ARGS)

destroy: deps ## Delete the stack (the table and the log group are retained)
	$(CDK) destroy $(CDK_ARGS)

clean: ## Remove cdk.out/ and tool caches (keeps .venv and node_modules)
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache .hypothesis
