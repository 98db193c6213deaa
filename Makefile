# Quick start: `make run` then `make test`. Each target creates .venv on first use; `make lint` checks style,
# types and the import contracts (configured in pyproject.toml).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench soak clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dask,lint,app]'
	@touch $@

run: $(STAMP)
	$(BIN)/escalation run scenarios/limited_deployment.yaml

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check sim tests scripts
	$(BIN)/mypy sim
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/escalation bench

# 1,000 stop signals at random moments of real batches (docs/robustness.md); about an hour on two cores
SOAK_TRIES ?= 1000
soak: $(STAMP)
	ESCALATION_SOAK_TRIES=$(SOAK_TRIES) $(BIN)/python -m pytest -q -s -p no:cacheprovider tests/faults/test_stops.py \
		-k random_stops

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache .ruff_cache .import_linter_cache
