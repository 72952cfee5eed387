# LeadHunter — the two commands are `make run` and `make test`; see README.md.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
TEST_DATA_DIR ?= $(CURDIR)/var/test
# DEMO=0 skips the demo data: the first visit then offers "Create the first account".
DEMO ?= 1
# Local runs default to DEBUG on (no HTTPS redirect on http://127.0.0.1); deployments set DEBUG=false.
DEBUG ?= true
export DEBUG PORT

.PHONY: run test lint format check screenshots bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

## run: install, migrate, load demo data into an empty database (not with DEMO=0), serve on
## :$(PORT) with worker + beat.
## Its settings are saved to var/make-run.env first, so that `.venv/bin/python manage.py ...`
## from another terminal uses the same ones (leadhunter/run_env.py); it ends with one banner.
run: $(VENV)/.installed
	@$(BIN)/python -m leadhunter.run_env save
	@if [ "$(DEMO)" != "0" ]; then echo "Getting the database ready (the first run also loads the demo data: about a minute)…"; else echo "Getting the database ready…"; fi
	@$(BIN)/python manage.py migrate --noinput --verbosity 0
	@$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@if [ "$(DEMO)" != "0" ]; then $(BIN)/python manage.py seed_demo --verbosity 0; fi
	@echo "Starting the web server, the worker and beat…"
	@bin/serve

## test: the whole suite (pytest-django); DATA_DIR keeps test broker/cache files apart from run's.
## It runs in TEST_WORKERS processes (pytest-xdist; TEST_WORKERS=0: one process): most of its
## time is spent waiting on browsers, worker threads and servers, so more than the cores pay.
## Each worker has its own data folder, Redis database and test database (tests/conftest.py);
## worksteal hands the queued tests of a busy worker to an idle one.
TEST_WORKERS ?= 4
test: $(VENV)/.installed-dev
	DATA_DIR=$(TEST_DATA_DIR) $(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/vulture
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python manage.py check_templates
	$(BIN)/python manage.py makemigrations --check --dry-run

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## bench: a deterministic 100k-lead data set on PostgreSQL (DATABASE_URL if it is one, else
## postgres://postgres@127.0.0.1:5432/leadhunter_bench, created if missing), the hot pages' and
## jobs' timings as a table and bench/results.json; `make bench DB=sqlite` runs it on a SQLite
## file under var/bench with 10k leads. BENCH_ARGS passes more, e.g. BENCH_ARGS="--leads 1000000".
DB ?= postgresql
bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench --db $(DB) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var

## screenshots: a PNG of each main page with demo data, into docs/screenshots/ (needs chromium)
screenshots: $(VENV)/.installed-dev
	rm -rf var/screenshots && mkdir -p var/screenshots
	DATA_DIR=$(CURDIR)/var/screenshots $(BIN)/python manage.py migrate --noinput -v0
	DATA_DIR=$(CURDIR)/var/screenshots $(BIN)/python manage.py seed_demo
	DATA_DIR=$(CURDIR)/var/screenshots $(BIN)/gunicorn leadhunter.wsgi --bind 127.0.0.1:8765 --workers 2 --pid var/screenshots/gunicorn.pid --daemon
	sleep 2; $(BIN)/python bin/screenshots.py http://127.0.0.1:8765 docs/screenshots; status=$$?; kill $$(cat var/screenshots/gunicorn.pid); exit $$status
