# Every target installs what it needs from the project's own files: a Python virtualenv
# (.venv, which also brings Node.js 24) and the pinned CDK CLI (node_modules). A stamp file
# inside each remembers what it was installed from, so a second run reinstalls nothing that
# is up to date.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
# A target's stdout carries its own output only, so that `make local | jq ...` reads JSON
# lines: make echoes no recipe (.SILENT), says nothing about directories, and the install
# steps report on stderr.
.SILENT:
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV := .venv
VENV_STAMP := $(VENV)/.installed-from-requirements
NODE_STAMP := node_modules/.installed-from-package-lock
# checkov pins its own boto3 (and more): a virtualenv of its own, for `make scan` only.
SCAN_VENV := .venv-checkov
SCAN_STAMP := $(SCAN_VENV)/.installed-from-requirements
CDK := node_modules/.bin/cdk
# Arguments for `make local`, `make bench` and `make cdk`, e.g. `make local ARGS="--format json"`.
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

.PHONY: help venv deps synth test scan deploy-local local redrive bench lint docs cdk bootstrap diff deploy destroy clean

help: ## List the targets
	grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(VENV)/bin/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python 3.11 or newer is needed (set PYTHON=...)" >&2; exit 1; }
	echo "# creating the virtualenv $(VENV)" >&2
	$(PYTHON) -m venv $(VENV) >&2

# Byte-compiled once, here, on every core (compileall -j 0; pip compiles one file after another):
# with PYTHONDONTWRITEBYTECODE set, as on many CI machines, Python would otherwise compile
# aws-cdk-lib, boto3 and botocore again in every process (each test worker, each function's
# cold start, each app.py): importing the stack took 8 s instead of 2 (bench/RESULTS.md).
$(VENV_STAMP): requirements.txt requirements-dev.txt | $(VENV)/bin/python
	echo "# installing requirements-dev.txt into $(VENV) (Python packages and Node.js)" >&2
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-compile -r requirements-dev.txt >&2
	$(VENV)/bin/python -m compileall -q -j 0 $$($(VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))') >/dev/null
	touch $@

# npm ci installs exactly the lock file. It needs the virtualenv's Node, not its packages,
# hence the order-only prerequisite.
$(NODE_STAMP): package.json package-lock.json | $(VENV_STAMP)
	echo "# installing package-lock.json into node_modules (the CDK CLI)" >&2
	npm ci --no-audit --no-fund --loglevel=error >&2
	touch $@

$(SCAN_STAMP): requirements-scan.txt | $(VENV)/bin/python
	echo "# installing requirements-scan.txt (checkov) into $(SCAN_VENV)" >&2
	$(PYTHON) -m venv $(SCAN_VENV) >&2
	$(SCAN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-compile -r requirements-scan.txt >&2
	touch $@

venv: $(VENV_STAMP) ## Create or refresh the virtualenv (Python packages and Node.js)

deps: $(VENV_STAMP) $(NODE_STAMP) ## Install everything: the virtualenv and the CDK CLI

synth: deps ## Synthesize the CloudFormation template into cdk.out/
	$(CDK) synth --quiet $(CDK_ARGS)
	echo "# wrote cdk.out/InventoryStack.template.json" >&2

test: deps ## Run the tests (the deploy test needs the CDK CLI too)
	$(VENV)/bin/python -m pytest

# -s shows the counts per template that the README quotes.
scan: deps $(SCAN_STAMP) ## Run checkov on every template the tests synthesize (installs it into .venv-checkov)
	CHECKOV=$(SCAN_VENV)/bin/checkov $(VENV)/bin/python -m pytest -m scan tests/scan -s -q

deploy-local: deps ## Check a change before deploying: cdk bootstrap/deploy/destroy against a local moto server
	$(VENV)/bin/python -m pytest tests/deploy -v

local: $(VENV_STAMP) ## Run the pipeline on this machine: embedded DynamoDB stream, real handler (ARGS="--help")
	$(VENV)/bin/python -m local $(ARGS)

# @: the command's output is for piping (e.g. --format json), so make does not echo the recipe.
redrive: $(VENV_STAMP) ## List, show and replay parked batches (ARGS="list --stack-name InventoryStack")
	@$(VENV)/bin/python -m stacks.table_stream_logger $(ARGS)

bench: deps ## Benchmark against the tutorials' handlers into bench/RESULTS.md (ARGS=--quick: bench/.data/)
	$(VENV)/bin/python -m bench $(ARGS)

# The second mypy checks the construct library alone, strictly: the typed API (py.typed) its users get.
lint: $(VENV_STAMP) ## Check formatting, lint and types (ruff, mypy)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy --strict stacks/table_stream_logger

# The site of docs/ (mkdocs.yml), offline; --strict makes a broken link, anchor or included file an
# error. NO_MKDOCS_2_WARNING: no banner about MkDocs 2.0 on every build.
docs: $(VENV_STAMP) ## Build the docs site into site/ (mkdocs build --strict; ARGS=serve previews it)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs $(or $(ARGS),build) --strict

cdk: deps ## Any command of the pinned CDK CLI, e.g. make cdk ARGS="ls"
	$(CDK) $(ARGS)

# The targets below need AWS credentials and a region (AWS_PROFILE / AWS_REGION, ...):
# tools/check_aws.py says how to give them, before the CLI fails without a hint.
CHECK_AWS := $(VENV)/bin/python tools/check_aws.py $(CDK_ARGS)

bootstrap: deps ## Once per account and region: cdk bootstrap
	$(CHECK_AWS)
	$(CDK) bootstrap $(CDK_ARGS)

diff: deps ## Compare the deployed stack with the local one
	$(CHECK_AWS)
	$(CDK) diff $(CDK_ARGS)

deploy: deps ## Deploy the stack
	$(CHECK_AWS)
	$(CDK) deploy $(CDK_ARGS)

destroy: deps ## Delete the stack (the table, the failure bucket and the log group are kept)
	$(CHECK_AWS)
	$(CDK) destroy $(CDK_ARGS)

clean: ## Remove what runs leave behind (keeps .venv and node_modules)
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache .hypothesis .local-failures .local-archive dist bench/.data site
