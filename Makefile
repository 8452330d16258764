# Quick start: `make run` (set up, then the headline study with figures in results/headline)
#              `make test` (set up, then the test suite; what CI runs)
PYTHON ?= python3.11
VENV ?= .venv
BIN = $(VENV)/bin
# the cluster launchers' environment (extras ray and slurm: hydra-ray-launcher pins
# cloudpickle<3, which holds joblib at 1.5), apart from .venv so that the core keeps
# joblib 1.6; tests/cluster run their sweeps with its python (CXSIM_CLUSTER_PYTHON)
CLUSTER_VENV ?= .venv-cluster
CLUSTER_BIN = $(CLUSTER_VENV)/bin
# pytest-xdist workers of make test (CI: 2 cores)
TEST_WORKERS ?= 2

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,app]"
	touch $@

$(CLUSTER_BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(CLUSTER_VENV)
	$(CLUSTER_BIN)/python -m pip install --quiet --upgrade pip
	$(CLUSTER_BIN)/python -m pip install --quiet -e ".[test,ray,slurm]"
	touch $@

.PHONY: setup setup-cluster run test test-fast
setup: $(BIN)/.installed

setup-cluster: $(CLUSTER_BIN)/.installed

run: $(BIN)/.installed
	$(BIN)/cxsim-headline

test: $(BIN)/.installed $(CLUSTER_BIN)/.installed
	CXSIM_CLUSTER_PYTHON=$(CLUSTER_BIN)/python $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup

test-fast: $(BIN)/.installed
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup -m "not slow"
