# The whole set-up on a fresh machine: `make run` and `make test` (see README).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
export YILIAN_HOST ?= 127.0.0.1
export YILIAN_PORT ?= 8000

.PHONY: run test test-fast test-browser check screenshots lock clean

$(BIN)/yilian: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e .
	touch $@

$(VENV)/.test-installed: $(BIN)/yilian
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[test]'
	touch $@

run: $(BIN)/yilian
	$(BIN)/yilian db upgrade
	$(BIN)/yilian demo load
	$(BIN)/yilian jobs run
	$(BIN)/yilian demo accounts
	@echo "Yilian 医联 on http://$(YILIAN_HOST):$(YILIAN_PORT)"
	$(BIN)/yilian serve

test: $(VENV)/.test-installed
	$(BIN)/pytest -q -p no:cacheprovider --ignore=tests/browser
	$(BIN)/pytest -q -p no:cacheprovider -p no:asyncio tests/browser

test-fast: $(VENV)/.test-installed
	$(BIN)/pytest -q -x --ignore=tests/browser

# What each demo account sees on a 390×844 phone, as PNGs in var/screenshots (not committed):
# the app on a demo database of its own, each account signed in, each page it reaches.
screenshots: $(VENV)/.test-installed
	$(BIN)/yilian screenshots --out var/screenshots

check: $(VENV)/.test-installed
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

# Re-pin every dependency from a fresh resolution (then commit requirements.lock).
lock:
	rm -rf /tmp/yilian-lock && $(PYTHON) -m venv /tmp/yilian-lock
	/tmp/yilian-lock/bin/pip install --quiet -e '.[test]'
	/tmp/yilian-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
