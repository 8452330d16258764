# Quick start: `make run` (set up, then the headline study with figures in results/headline)
#              `make test` (set up, then the test suite; what CI runs)
PYTHON ?= python3.11
VENV ?= .venv
BIN = $(VENV)/bin

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,app]"
	touch $@

.PHONY: setup run test test-fast
setup: $(BIN)/.installed

run: $(BIN)/.installed
	$(BIN)/cxsim-headline

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q

test-fast: $(BIN)/.installed
	$(BIN)/python -m pytest -q -m "not slow"
