# One-command set-up and checks. `make test` builds everything it needs (a
# virtual environment from pinned requirements, the npm lint tools, the
# Terraform CLI configuration) and runs every check offline.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON        ?= python3
VENV          := .venv
CHECKOV_VENV  := .venv-checkov
BIN           := $(VENV)/bin
TF_PLUGIN_DIR ?=
COV_FLOOR     ?= 90
INSTANCES     ?= 1000
# make bench-fleet: more flags for bench/fleet.py (an account's quotas: --quota, with the
# module's --freeze-slots and --start-rate for them).
BENCH_FLEET_ARGS ?=
# make test: how many stages (and their set-up steps) run at once, and pytest's workers.
TEST_JOBS      ?= 4
PYTEST_WORKERS ?= 4

export TF_CLI_CONFIG_FILE := $(CURDIR)/.tfcli/terraformrc
export TF_PLUGIN_CACHE_DIR := $(CURDIR)/.tfcli/plugin-cache
export TF_IN_AUTOMATION := 1
export CHECKPOINT_DISABLE := 1

TF_MODULES  := $(sort $(dir $(wildcard modules/*/main.tf)))
TF_EXAMPLES := $(sort $(dir $(wildcard examples/*/main.tf)))
TF_DIRS     := . $(TF_MODULES) $(TF_EXAMPLES)
SHELL_FILES  = $(shell git ls-files --cached --others --exclude-standard '*.sh' 'ssm/**' '.ci/*' | xargs -r grep -lE '^#!.*(ba)?sh' 2>/dev/null | sort -u)
ASL_FILES   := $(wildcard asl/*.asl.json)

.PHONY: help test demo bench bench-fleet lint package-check ruff shellcheck fmt-check asl-lint test-stages terraform validate tf-test checkov pytest package tools clean docs docs-check pre-commit smoke

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

test: tools ## Every check and test, offline: the stages run side by side, each one's output shown whole when it ends
	@echo "make test: terraform, pytest, checkov and lint side by side (TEST_JOBS=$(TEST_JOBS)); each stage prints when it ends"
	@$(MAKE) --no-print-directory --keep-going -j$(TEST_JOBS) --output-sync=target test-stages
	@echo "make test: all checks passed"

# The stages of `make test`, in the order they start (the longest first; their set-up steps
# run side by side too). Each recipe's output is held back and printed whole (--output-sync),
# so two stages never interleave; a failing stage's output is printed like any other, and
# --keep-going lets the others finish so every failure shows in one run.
test-stages: terraform pytest checkov lint

# The first run installs the virtual environment before the demo: say so at once; each
# install step's command shows as it starts (pip bootstraps uv, uv installs the pinned
# requirements), without progress bars (fold counts bytes), folded at 100 columns like the rest.
demo: ## Run the module in a local AWS emulator (KEEP_WORKDIR=1 keeps its files)
	@echo "make demo: the module applied into a local AWS emulator, one backup cycle, a report (2-4 min)"
	@$(MAKE) -s --no-print-directory .tfcli/terraformrc
	@if ! $(MAKE) --no-print-directory --question $(VENV)/.installed; then \
	  echo "make demo: first installing $(VENV) from the pinned requirements (once, under a minute)..."; \
	  PIP_PROGRESS_BAR=off $(MAKE) --no-print-directory $(VENV)/.installed 2>&1 | fold -s -w 100; \
	fi
	$(BIN)/python -m demo $(if $(KEEP_WORKDIR),--keep-workdir) $(DEMO_ARGS)

smoke: $(VENV)/.installed .tfcli/terraformrc ## Try the module in a sandbox account: SMOKE_CONFIRM_ACCOUNT=<id> make smoke REGION=.. SUBNET=..
	$(BIN)/python -m smoke --region "$(REGION)" --subnet "$(SUBNET)"

bench: $(VENV)/.installed ## Print the benchmarks' figures (the fleet has its own target)
	@for b in bench/*.py; do case "$$b" in bench/fleet*) continue;; esac; echo "== $$b"; $(BIN)/python "$$b"; done

bench-fleet: $(VENV)/.installed ## INSTANCES (default 1000) backed up at once on virtual time, inside AWS quotas; BENCH_FLEET_ARGS: more flags
	$(BIN)/python bench/fleet.py --instances $(INSTANCES) $(BENCH_FLEET_ARGS)

# --- set-up ------------------------------------------------------------------

tools: ## Check the tools that cannot come from the virtual environment
	@command -v $(PYTHON) >/dev/null || { echo "missing: $(PYTHON) (3.11 or newer); install it from your distribution"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "$(PYTHON) is older than 3.11; set PYTHON=python3.11 or newer"; exit 1; }
	@command -v terraform >/dev/null || { echo "missing: terraform >= 1.9 (https://developer.hashicorp.com/terraform/install)"; exit 1; }
	@command -v shellcheck >/dev/null || { echo "missing: shellcheck (apt-get install shellcheck, brew install shellcheck)"; exit 1; }
	@command -v npm >/dev/null || { echo "missing: npm (Node.js 18 or newer) for asl-validator (apt-get install npm)"; exit 1; }

# uv (from PyPI, pinned) installs both environments' pinned requirements: about 3 s of CPU
# each, where pip took 60 to 70 s (it resolves slower and compiles every module up front; uv
# leaves the bytecode to the first import). It sits in $(VENV), bootstrapped by pip; a
# PIP_INDEX_URL, if set, is passed on, and the system's certificates are trusted as pip's are.
UV_VERSION := 0.9.30
UV         := $(BIN)/uv
UV_INSTALL  = UV_NATIVE_TLS=1 $(UV) pip install --quiet $${PIP_INDEX_URL:+--default-index "$$PIP_INDEX_URL"}

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: requirements-dev.txt constraints.txt | $(UV)
	$(UV_INSTALL) --python $(BIN)/python -r requirements-dev.txt -c constraints.txt
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt constraints-checkov.txt | $(UV)
	$(PYTHON) -m venv --without-pip $(CHECKOV_VENV)
	$(UV_INSTALL) --python $(CHECKOV_VENV)/bin/python -r requirements-checkov.txt -c constraints-checkov.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The plugin cache is filled here, once, by an init of the root's versions.tf alone: later
# inits that run side by side (make test's stages, pytest's workers, the demo) only read it.
# Terraform does not promise that concurrent inits can fill one cache.
# Quiet recipe (one line said instead): the demo's output stays within 100 columns.
.tfcli/terraformrc: scripts/terraform-cli-config.sh versions.tf
	@echo "make: Terraform CLI configuration in .tfcli (provider mirror, plugin cache filled once)"
	@mkdir -p .tfcli/plugin-cache .tfcli/warm
	@scripts/terraform-cli-config.sh $@.tmp $(TF_PLUGIN_DIR)
	@cp versions.tf .tfcli/warm/versions.tf
	@TF_CLI_CONFIG_FILE=$@.tmp terraform -chdir=.tfcli/warm init -backend=false -input=false -no-color >/dev/null
	@mv $@.tmp $@

# --- checks ------------------------------------------------------------------

lint: ruff shellcheck fmt-check asl-lint package-check ## ruff, shellcheck, terraform fmt, asl-validator and statelint, Lambda package

ruff: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

shellcheck:
	@echo "shellcheck: $(words $(SHELL_FILES)) scripts"
	shellcheck --severity=style $(SHELL_FILES)

fmt-check: .tfcli/terraformrc
	terraform fmt -check -recursive -diff

asl-lint: node_modules/.installed $(VENV)/.installed
	@test -n "$(ASL_FILES)" || { echo "no asl/*.asl.json found"; exit 1; }
	node_modules/.bin/asl-validator --silent $(foreach f,$(ASL_FILES),--json-path $(f)) && echo "asl-validator: $(ASL_FILES) valid"
	$(BIN)/python scripts/statelint_asl.py $(ASL_FILES)

terraform: .tfcli/terraformrc ## terraform init of every directory; test (mock provider) where there are tests, validate elsewhere
	@scripts/terraform-test-all.sh $(TF_DIRS)

validate: .tfcli/terraformrc ## terraform validate of the root, every submodule and every example
	@scripts/terraform-test-all.sh --validate-only $(TF_DIRS)

tf-test: terraform

checkov: $(CHECKOV_VENV)/.installed ## checkov over the module: no failed check without an inline reason
	HCL_PARSE_TIMEOUT_SEC=300 $(CHECKOV_VENV)/bin/checkov -d . --framework terraform --skip-download --compact --quiet \
	  --skip-path '.terraform' --skip-path 'node_modules' --skip-path '.venv'

pytest: $(VENV)/.installed node_modules/.installed .tfcli/terraformrc ## Python tests with coverage of src/, on PYTEST_WORKERS workers
	@rc=0; $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder --cov=src --cov-report=term --cov-fail-under=$(COV_FLOOR) --durations=15 || rc=$$?; \
	if [[ $$rc -eq 5 ]]; then echo "pytest collected no tests: the suite is missing, which is a failure"; exit 1; fi; \
	exit $$rc

package-check: $(VENV)/.installed
	$(BIN)/python scripts/package_lambda.py --check

docs: $(VENV)/.installed ## Regenerate the README tables (terraform-docs layout) of the root, modules/* and examples/*
	$(BIN)/python scripts/readme_tables.py

docs-check: $(VENV)/.installed
	$(BIN)/python scripts/readme_tables.py --check

pre-commit: $(VENV)/.installed ## Install the git hooks of .pre-commit-config.yaml (they call these targets)
	$(BIN)/pre-commit install --install-hooks

package: $(VENV)/.installed ## Rebuild the Lambda package from src/ (deterministic)
	$(BIN)/python scripts/package_lambda.py

clean: ## Remove everything the Makefile created
	rm -rf $(VENV) $(CHECKOV_VENV) node_modules .tfcli .pytest_cache .ruff_cache .coverage
	find . -name .terraform -type d -prune -exec rm -rf {} +
	find . -name .terraform.lock.hcl -delete
