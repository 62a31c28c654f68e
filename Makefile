# jupyter-mlops — `make lab` and `make test` do the whole set-up, idempotently.
#
# Set-up steps are file targets under .make/ that depend on what they install from, so a second
# run only checks timestamps. System packages (Chromium, PostgreSQL) are installed with apt-get
# when missing (as root, or through sudo).

SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
STAMP := .make
DEMO := .demo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST_ARGS ?=
# pytest-xdist workers: the suite mostly waits on kernels, servers and browsers starting, so two
# workers on two cores take about half the time of one (`make test PYTEST_WORKERS=0` runs serially).
PYTEST_WORKERS ?= 2
# Everything, for development and the test suite; `pip install jupyter-mlops` alone is the kernel
# side (tracking, magics, CLI) and the extras add the rest (README, "Install").
EXTRAS := test,lab,serve,sklearn,postgres,dask,s3,mlflow,report,quality,dev

# The venv's tools first: jlpm (from jupyter-builder), jupyter, mlops.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export YARN_ENABLE_PROGRESS_BARS := false
export YARN_ENABLE_TELEMETRY := 0

.PHONY: help lab test setup lint bench clean system python frontend

help:
	@echo "make lab    set everything up and open JupyterLab on the demo project"
	@echo "make test   set everything up, run make lint, then the whole test suite"
	@echo "make lint   ruff check + ruff format --check + mypy + lint-imports + the front end's lint:check"
	@echo "make bench  side-by-side benchmarks against MLflow and papermill"

$(STAMP):
	mkdir -p $(STAMP)

# --- system packages: Chromium for the browser tests, PostgreSQL for the integration tests --------
$(STAMP)/system: | $(STAMP)
	missing=()
	command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || missing+=(chromium)
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null || missing+=(postgresql)
	command -v node >/dev/null || missing+=(nodejs npm)
	if [ $${#missing[@]} -gt 0 ]; then
		echo "Installing system packages: $${missing[*]}"
		$(SUDO) apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends "$${missing[@]}" >/dev/null
	fi
	touch $@

system: $(STAMP)/system

# --- Python: the virtual environment with the package (editable) and the test/lab extras ---------
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP)/python-deps: pyproject.toml $(BIN)/python | $(STAMP)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q "jupyter-builder>=1.2" "jupyterlab>=4.2,<5"
	touch $@

# --- the front end: node packages, then the labextension build --------------------------------------
$(STAMP)/node-modules: extension/package.json extension/yarn.lock $(STAMP)/python-deps $(STAMP)/system
	(cd extension && jlpm install)
	touch $@

FRONTEND_SOURCES := $(shell find extension/src extension/style extension/schema -type f 2>/dev/null) \
	extension/tsconfig.json

$(STAMP)/frontend: $(STAMP)/node-modules $(FRONTEND_SOURCES)
	(cd extension && jlpm build)
	touch $@

$(STAMP)/python: $(STAMP)/python-deps $(STAMP)/frontend
	# The front end is already built into kernel_magics/labextension (the step above), so the
	# install skips the jupyter-builder hook (an editable install ignores skip-if-exists, runs its
	# own `jlpm install` in pip's build environment and prints a build error when that fails) and
	# copies the built extension into the venv's share/jupyter.
	SKIP_JUPYTER_BUILDER=1 $(PIP) install -q -e ".[$(EXTRAS)]"
	test -f $(VENV)/share/jupyter/labextensions/jupyter-mlops/package.json || { echo "The labextension was not installed"; exit 1; }
	touch $@

python: $(STAMP)/python
frontend: $(STAMP)/frontend

setup: $(STAMP)/system $(STAMP)/python

# --- the two commands -------------------------------------------------------------------------------
lab: setup
	mkdir -p $(DEMO)
	[ -e $(DEMO)/demo.ipynb ] || cp binder/demo/demo.ipynb $(DEMO)/
	shopt -s nullglob
	for nb in templates/*.ipynb; do [ -e "$(DEMO)/$$(basename $$nb)" ] || cp "$$nb" $(DEMO)/; done
	export MLOPS_HOME="$(CURDIR)/$(DEMO)/.mlops"
	$(BIN)/mlops db upgrade
	echo "Store: $$MLOPS_HOME"
	echo "Open demo.ipynb and run its cells. train, evaluate, batch_predict and monitor.ipynb are templates: run them cell by cell, or with parameters from a terminal in the lab, e.g. mlops run train.ipynb -p C=0.1"
	exec $(BIN)/jupyter lab --notebook-dir=$(DEMO) $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_ARGS)

# The lint step first: CI runs `make test`, so a lint failure blocks like a failing test.
test: setup lint
	(cd extension && jlpm test)
	$(BIN)/python -m pytest tests -n $(PYTEST_WORKERS) --dist loadscope --no-loadscope-reorder $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check kernel_magics tests benchmarks
	$(BIN)/ruff format --check kernel_magics tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports
	(cd extension && jlpm lint:check)

bench: setup
	command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk >/dev/null; }
	$(PIP) install -q -e ".[bench]"
	for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python "$$script"; done

clean:
	rm -rf $(STAMP) $(VENV) kernel_magics/labextension extension/node_modules extension/lib
