# `make run` starts the local stack; `make test` runs every test. Both install what is missing.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
TOOLS  := .venv-tools
export PYTHONPATH := $(CURDIR)/layers/core:$(CURDIR)
export AUDIOSTREAM_TOOLS_BIN := $(CURDIR)/$(TOOLS)/bin
export SAM_CLI_TELEMETRY := 0

# Python 3.12 (the Lambda runtime), else 3.13: on PATH, or installed by pyenv.
PYTHON ?= $(shell for p in python3.12 $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) \
                         python3.13 $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13); do \
                     $$p -c 'import sys; assert sys.version_info >= (3, 12)' >/dev/null 2>&1 && { echo $$p; break; }; \
                   done)

# The slow groups (pytest markers, see pytest.ini) that `make check` leaves out.
SLOW := stack or build or browser or recognition

.PHONY: help run test check bench deploy sysdeps browser venv tools web lock clean

help:
	@echo "make run    start the local stack (demo page, API, generation, embedded storage)"
	@echo "make test   run the whole test suite"
	@echo "make check  lint and the fast tests, for the inner loop (no dev stack, no build, no browser)"
	@echo "make bench  measure the local stack (bench/results/latest.json, latest.png; about 2 minutes)"
	@echo "make deploy build and deploy to AWS with SAM, then upload the demo page (DEPLOY_ARGS=--guided the first time)"
	@echo "make lock   after changing a pin in a requirements*.txt file: write the .lock files (hashes) again"

run: sysdeps venv web
	$(PY) -m devstack

test: sysdeps browser venv tools web
	npx --no-install eslint web
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m pytest $(PYTEST_ARGS)

# Three workers on two cores: much of a test's time is spent waiting on espeak-ng, ffmpeg and loopback servers.
check: sysdeps venv node_modules/.installed
	npx --no-install eslint web
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -n 3 -m "not ($(SLOW))" $(PYTEST_ARGS)

bench: sysdeps browser venv web
	$(PY) bench/run.py

# sam build needs a python3.12 on PATH: the virtual environment's.
deploy: venv tools web
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(TOOLS)/bin/sam build
	$(TOOLS)/bin/sam deploy $(DEPLOY_ARGS)
	$(PY) scripts/upload_page.py

# $(call apt_install,COMMANDS,PACKAGES): install the Debian packages if any of the commands is missing.
define apt_install
	@missing=""; for tool in $(1); do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing $(2) (missing:$$missing)"; \
	  sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $(2) >/dev/null; \
	fi
endef

sysdeps:
	$(call apt_install,ffmpeg ffprobe espeak-ng,ffmpeg espeak-ng)

# Debian's chromium, for the browser tests (Playwright drives it; no browser download).
browser:
	$(call apt_install,chromium,chromium)

venv: $(VENV)/.installed

# Every dependency from the lock file, each file checked against its hash (make lock writes them).
$(VENV)/.installed: requirements-dev.lock
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (on PATH or under pyenv)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock
	touch $@

# SAM CLI, cfn-lint and checkov, in a virtual environment of their own.
tools: $(TOOLS)/.installed

$(TOOLS)/.installed: requirements-tools.lock
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (on PATH or under pyenv)"; exit 1; }
	test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-tools.lock
	touch $@

web: web/dist/.built

# The page's modules as they are (no bundler), hls.js's build beside them.
web/dist/.built: web/index.html web/*.js web/style.css node_modules/.installed
	mkdir -p web/dist
	rm -f web/dist/*.js
	cp web/index.html web/*.js web/style.css web/dist/
	cp node_modules/hls.js/dist/hls.min.js web/dist/
	touch $@

# hls.js for the page, eslint for `make check` (package-lock.json).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# After changing a pin in a requirements*.txt file: resolve every .lock file again (PyPI only).
lock: tools
	$(TOOLS)/bin/python scripts/lock.py

clean:
	rm -rf $(VENV) $(TOOLS) .aws-sam web/dist node_modules .pytest_cache test-output
