# Quick start: `make run` then `make test`. Each target creates .venv on first use; `make lint` checks style,
# types and the import contracts (configured in pyproject.toml).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench soak clean editor-tools

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)

# The build backend's editable-install banner goes to a log, shown only if the install fails.
$(STAMP): pyproject.toml | $(BIN)/python
	@echo "installing into $(VENV) (log: $(VENV)/install.log)"
	@$(BIN)/python -m pip install --quiet --upgrade pip > $(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@$(BIN)/python -m pip install --quiet -e '.[test,dask,lint,app]' >> $(VENV)/install.log 2>&1 \
		|| (cat $(VENV)/install.log; exit 1)
	@touch $@

# yaml-language-server (npm) for the editor test, into the git-ignored .tools/editor, installed with the other
# packages before the tests run (the tests themselves never reach a registry); without npm the test is skipped.
EDITOR := .tools/editor/node_modules/yaml-language-server/bin/yaml-language-server
editor-tools:
	@[ -f $(EDITOR) ] || { command -v npm >/dev/null 2>&1 && npm install --prefix .tools/editor --no-audit --no-fund \
		--loglevel=error 'yaml-language-server@^1.15' >/dev/null 2>&1; } \
		|| echo "yaml-language-server could not be installed (npm missing or unreachable): the editor test will skip"

run: $(STAMP)
	$(BIN)/escalation run scenarios/limited_deployment.yaml

test: $(STAMP) editor-tools
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
	rm -rf $(VENV) .tools .pytest_cache .hypothesis .mypy_cache .ruff_cache .import_linter_cache
