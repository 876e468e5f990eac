# gridgis: the two commands a new user needs are `make demo` and `make test`.
PYTHON := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

.PHONY: setup db migrate seed demo serve test test-fast stop bench lint load faults

setup:                 ## system packages + .venv (skips what is already there)
	@bash scripts/setup.sh

db: setup              ## the local PostGIS cluster under var/pg (no-op when DATABASE_URL is set)
	@$(PYTHON) -m gridgis.localdb start

migrate: db
	@$(PYTHON) manage.py migrate --noinput -v 0

seed: migrate          ## the Luzhou demo data (skipped when already loaded)
	@$(PYTHON) manage.py seed_demo

demo: seed             ## run the server with demo data on http://$(HOST):$(PORT)
	@$(PYTHON) manage.py collectstatic --noinput -v 0
	@echo "gridgis: serving http://$(HOST):$(PORT)/  (maps under /map/, API under /api/v1/, docs /api/docs/)"
	@exec .venv/bin/gunicorn gridgis.wsgi:application --bind $(HOST):$(PORT) --workers $(WORKERS) \
		--threads 4 --access-logfile - --timeout 120

test: db               ## the test suite against a real PostGIS
	@$(PYTHON) -m pytest $(PYTEST_ARGS)

stop:                  ## stop the local PostGIS cluster
	@$(PYTHON) -m gridgis.localdb stop

bench: setup           ## city-scale benchmarks in the gridgis_bench database (built on first run)
	@$(PYTHON) -m bench.run $(BENCH_ARGS)

load: db               ## 10,000 concurrent case submissions, each retried with its Idempotency-Key (minutes)
	@$(PYTHON) -m bench.load --submissions $(or $(SUBMISSIONS),10000) $(LOAD_ARGS)

faults: db             ## the same with PostgreSQL restarted mid-run: no accepted case lost, server recovers
	@$(PYTHON) -m bench.load --submissions $(or $(SUBMISSIONS),3000) --restart-db $(LOAD_ARGS)

lint:                  ## ruff and the import contract (.importlinter: the floors, no cycles)
	@.venv/bin/ruff check .
	@.venv/bin/lint-imports --no-cache
