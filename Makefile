# Quick start: `make run` then `make test`. Each target creates .venv on first use; `make lint` checks style,
# types and the import contracts (configured in pyproject.toml).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench clean editor-tools

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)

# The build backend's editable-install banner goes to a log, shown only if the install fails.
$(STAMP): pyproject.toml | $(BIN)/python
	@echo "installing into $(VENV) (log: $(VENV)/install.log)"
	@$(BIN)/python -m pip install --quiet --upgrade pip > $(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@$(BIN)/python -m pip install --quiet -e '.[test,dask,lint]' >> $(VENV)/install.log 2>&1 \
		|| (cat $(VENV)/install.log; exit 1)
	@touch $@

# yaml-language-server (npm) for the editor test, into the git-ignored .tools/editor; the test installs it too.
editor-tools:
	npm install --prefix .tools/editor --no-audit --no-fund --loglevel=error 'yaml-language-server@^1.15'

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

clean:
	rm -rf $(VENV) .tools .pytest_cache .hypothesis .mypy_cache .ruff_cache .import_linter_cache
