# Every target creates the virtual environment it needs; nothing is installed by hand.
PYTHON ?= python3
DEMO_SECONDS ?= 30
DEMO_DB ?= sqlite:///demo.sqlite3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: help demo test lint docs bench clean

help:
	@echo "make demo   run the scheduler on the demo jobs for DEMO_SECONDS (SQLite, no server)"
	@echo "make test   lint, type-check, docs and the full test matrix (nox)"
	@echo "make lint   ruff + mypy only"
	@echo "make docs   build the docs (warnings are errors)"
	@echo "make bench  Tickwork beside django-celery-beat and APScheduler (about 12 min)"

$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(BIN)/activate

demo: $(BIN)/activate
	$(BIN)/tickwork check contrib/schedules.yaml
	@printf "\n== Running the demo jobs for $(DEMO_SECONDS)s (Ctrl-C stops it gracefully) ==\n\n"
	-$(BIN)/tickwork run --database $(DEMO_DB) --schedules contrib/standalone/schedules.yaml \
		--pythonpath contrib/standalone --import demo_tasks --duration $(DEMO_SECONDS)
	@printf "\n== Run history (tickwork runs --database $(DEMO_DB)) ==\n\n"
	$(BIN)/tickwork runs --database $(DEMO_DB) --limit 20

test: $(BIN)/activate
	$(BIN)/nox --sessions lint docs tests-py311-django52 tests-py313-django6

lint: $(BIN)/activate
	$(BIN)/nox --sessions lint

docs: $(BIN)/activate
	$(BIN)/nox --sessions docs

bench: $(BIN)/activate
	$(BIN)/nox --sessions bench

clean:
	rm -rf $(VENV) .nox docs/_build .mypy_cache .ruff_cache .pytest_cache .coverage
