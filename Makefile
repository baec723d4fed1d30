# Two commands on a fresh machine: `make up` (install + run the suite), `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: up install test test-embedded test-servers lint bench clean messages

up: $(STAMP)
	$(BIN)/evenemang up $(ARGS)

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Evenemang needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

# The whole suite: once on the embedded defaults (SQLite, the SQLite bus), once against
# PostgreSQL + RabbitMQ (skipped with a reason where they are not running; CI=true fails).
test: $(STAMP)
	$(MAKE) --no-print-directory test-embedded test-servers

test-embedded: $(STAMP)
	EVENEMANG_TEST_BACKEND=embedded $(BIN)/python -m pytest $(PYTEST_ARGS)

test-servers: $(STAMP)
	EVENEMANG_TEST_BACKEND=servers $(BIN)/python -m pytest tests/integration tests/e2e tests/faults $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# Every benchmark, then one table: figure, baseline, min / median / max, aim, HOLDS or SHORT
# (bench/run.py; `make bench BENCH="booking load"` runs only those).
bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH)

clean:
	rm -rf $(VENV) var .pytest_cache

# The one message catalogue: compile shared/translations/*/LC_MESSAGES/messages.po to .mo
# (add an id to both with `python tools/catalogue.py add ID --sv ... --en ...`; tests/unit/test_messages.py checks that every id
# code and templates use has both translations, and that the .mo files are current).
messages: $(STAMP)
	$(BIN)/python tools/catalogue.py compile
