# Every target creates the virtual environment it needs; nothing is installed by hand.
PYTHON ?= python3
DEMO_SECONDS ?=
DEMO_ADDR ?= 127.0.0.1:8000
DEMO_DB ?= sqlite:///demo.sqlite3
VENV := .venv
BIN := $(VENV)/bin
# The demos get a virtual environment of their own with only what they need
# (Django, SQLAlchemy), not the development toolchain of .venv.
DEMO_VENV := .venv-demo
DEMO_BIN := $(DEMO_VENV)/bin
DEMO_MANAGE := $(DEMO_BIN)/python contrib/demo/manage.py
STANDALONE_SCHEDULES := contrib/standalone/schedules.yaml
STANDALONE_TASKS := --pythonpath contrib/standalone --import demo_tasks

.PHONY: help demo demo-standalone test test-fast lint docs bench simulate clean

help:
	@echo "make demo   the Django demo: admin on DEMO_ADDR, scheduler, SQLite; Ctrl-C stops it"
	@echo "            (DEMO_SECONDS=N stops it after N seconds)"
	@echo "make demo-standalone   tickwork run on the standalone demo jobs (no Django, 30 s)"
	@echo "            (both demos install what they need into .venv-demo)"
	@echo "make test   lint, type-check, docs and the full test matrix (nox)"
	@echo "make test-fast   the quick loop: .venv's Python, no coverage, no slow tests"
	@echo "make lint   ruff + mypy only"
	@echo "make docs   build the docs (warnings are errors)"
	@echo "make bench  Tickwork beside django-celery-beat and APScheduler (about 12 min)"
	@echo "make simulate   SEEDS seeds (default 200) of replicas under faults, memory store"
	@echo "            (SIM_ARGS: e.g. --store sqlite, --seed N to replay one, --jobs 2)"

$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(BIN)/activate

# No --quiet: pip prints each package as it goes (about 20 s with a warm cache).
$(DEMO_BIN)/activate: pyproject.toml
	@printf "\n== Installing Tickwork, Django and SQLAlchemy into $(DEMO_VENV) ==\n\n"
	$(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_BIN)/pip install --disable-pip-version-check --progress-bar on -e ".[django,sqlalchemy]"
	touch $(DEMO_BIN)/activate

demo: $(DEMO_BIN)/activate
	@printf "\n== Setting up the demo site: contrib/demo, SQLite in contrib/demo/demo.sqlite3 ==\n\n"
	$(DEMO_MANAGE) migrate --noinput --verbosity 0
	$(DEMO_MANAGE) demo_setup
	$(DEMO_MANAGE) rundemo --addr $(DEMO_ADDR)$(if $(DEMO_SECONDS), --seconds $(DEMO_SECONDS))

demo-standalone: $(DEMO_BIN)/activate
	$(DEMO_BIN)/tickwork check $(STANDALONE_SCHEDULES) $(STANDALONE_TASKS)
	@printf "\n== Running the demo jobs for $(or $(DEMO_SECONDS),30)s (Ctrl-C stops it gracefully) ==\n\n"
	-$(DEMO_BIN)/tickwork run --database $(DEMO_DB) --schedules $(STANDALONE_SCHEDULES) \
		$(STANDALONE_TASKS) --duration $(or $(DEMO_SECONDS),30)
	@printf "\n== Run history (tickwork runs --database $(DEMO_DB)) ==\n\n"
	$(DEMO_BIN)/tickwork runs --database $(DEMO_DB) --limit 20

test: $(BIN)/activate
	$(BIN)/nox --sessions lint docs tests-py311-django52 tests-py313-django6

# The quick local loop: one interpreter (.venv's), no coverage, the tests marked
# slow left out (CI runs them).  The tests marked serial run alone afterwards, as
# in CI.  TEST_WORKERS processes; TEST_ARGS for pytest (a path, -k ..., -x).
TEST_WORKERS ?= 3
TEST_ARGS ?=
# (pytest's status 5: TEST_ARGS selected no test of that run.)
test-fast: $(BIN)/activate
	PYTHONWARNINGS=error $(BIN)/pytest -n $(TEST_WORKERS) -m "not slow and not serial" \
		$(TEST_ARGS) || [ $$? -eq 5 ]
	PYTHONWARNINGS=error $(BIN)/pytest -p no:xdist -m "serial and not slow" \
		$(TEST_ARGS) || [ $$? -eq 5 ]

lint: $(BIN)/activate
	$(BIN)/nox --sessions lint

docs: $(BIN)/activate
	$(BIN)/nox --sessions docs

bench: $(BIN)/activate
	$(BIN)/nox --sessions bench

# The deterministic simulation of many replicas under faults (tests/simulation/).
SEEDS ?= 200
SIM_ARGS ?=
simulate: $(BIN)/activate
	$(BIN)/python -m tests.simulation --seeds $(SEEDS) $(SIM_ARGS)

clean:
	rm -rf $(VENV) $(DEMO_VENV) .nox docs/_build .mypy_cache .ruff_cache .pytest_cache .coverage
