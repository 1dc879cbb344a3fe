# The two commands: `make run` (the site on SQLite with demo content) and `make test`.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-sqlite test-postgres security-check translations translations-update install install-dev bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: install, create or upgrade the database, load content and demo data if empty, serve.
## make run PORT=8101 HOST=0.0.0.0: another port or address; emailed links follow them
## (COALITION_SITE_URL is http://HOST:PORT unless it is set).
run: install
	$(BIN)/flask --app app db upgrade
	$(BIN)/flask --app app setup-if-empty
	@echo "Serving the coalition site at http://$(HOST):$(PORT)  (Ctrl+C to stop)"
	COALITION_SITE_URL="$${COALITION_SITE_URL:-http://$(HOST):$(PORT)}" \
		$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers 2 --access-logfile - app:app

TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

## make test: install what the tests need, run the whole suite on SQLite, then on
## PostgreSQL (skipped with a reason when no server answers, unless services are required).
test: install-dev security-check test-sqlite test-postgres

## Static security check: bandit, failing on any finding of medium severity or above
## that is not explained in place with a `# nosec` comment giving the reason.
security-check: install-dev
	$(BIN)/bandit -q -r coalition app.py gunicorn.conf.py --severity-level medium

# --durations=15 lists the slowest tests, so a test that grows slow stays visible.
# -n $(TEST_PROCESSES): tests run in parallel processes (pytest-xdist), each with its own
# databases (a SQLite file or PostgreSQL schema per test, a Redis database per process).
TEST_PROCESSES ?= 2
test-sqlite: install-dev
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) --durations=15

# The database-independent slow tests (real gunicorn, real browser) run once, on SQLite.
test-postgres: install-dev
	@if [ -n "$$COALITION_REQUIRE_SERVICES" ] || $(BIN)/python -c "import sqlalchemy as sa; sa.create_engine('$(TEST_POSTGRES_URL)').connect().close()" 2>/dev/null; then \
		echo "Running the suite again on PostgreSQL"; \
		COALITION_TEST_DATABASE_URL=$(TEST_POSTGRES_URL) $(BIN)/python -m pytest -n $(TEST_PROCESSES) --durations=15 -m "not slow and not browser"; \
	else \
		echo "PostgreSQL not reachable at $(TEST_POSTGRES_URL): skipping the PostgreSQL run"; \
	fi

## make bench: the benchmarks in bench/ (never part of make test): about 12 minutes;
## BENCH_QUICK=1 make bench for a smoke run of a few minutes. See bench/README.md.
$(VENV)/.installed-bench: bench/requirements.txt | $(VENV)/.installed-dev
	$(BIN)/pip install --quiet -r bench/requirements.txt
	touch $@

bench: install-dev $(VENV)/.installed-bench
	@command -v sqlite3 >/dev/null || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && apt-get install -y -q sqlite3; } || echo "sqlite3 not installed: the export baseline will fail"
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache

## Spanish: `make translations-update` extracts new strings into the catalog; translate them
## in coalition/translations/es/LC_MESSAGES/messages.po, then `make translations` compiles it
## (the compiled messages.mo is committed, so the site needs no build step).
translations-update: install-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o coalition/translations/messages.pot .
	$(BIN)/pybabel update -i coalition/translations/messages.pot -d coalition/translations -l es --no-fuzzy-matching

translations: install-dev
	$(BIN)/pybabel compile -d coalition/translations -l es
