# Every target creates the virtual environment it needs; nothing is installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: help demo test lint docs bench clean

help:
	@echo "make demo   run the demo schedules (SQLite, no server needed)"
	@echo "make test   lint, type-check, docs and the full test matrix (nox)"
	@echo "make lint   ruff + mypy only"
	@echo "make docs   build the docs (warnings are errors)"

$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(BIN)/activate

demo: $(BIN)/activate
	$(BIN)/tickwork check contrib/schedules.yaml
	$(BIN)/tickwork next "30 2 * * *" --tz Europe/Berlin --after 2026-10-24T12:00:00+02:00 --count 3

test: $(BIN)/activate
	$(BIN)/nox --sessions lint docs tests-py311-django52 tests-py313-django6

lint: $(BIN)/activate
	$(BIN)/nox --sessions lint

docs: $(BIN)/activate
	$(BIN)/nox --sessions docs

clean:
	rm -rf $(VENV) .nox docs/_build .mypy_cache .ruff_cache .pytest_cache .coverage
