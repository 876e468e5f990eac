# gridgis: the two commands a new user needs are `make demo` and `make test`.
PYTHON := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

.PHONY: setup db migrate seed demo demo-https worker test test-fast check check-deploy stop bench load faults cluster cluster-stop cluster-status failover

# The production environment the README documents (the key is made up for the check; a real one is
# kept secret): `make check-deploy` runs Django's deployment checks with it, warnings failing.
PRODUCTION_ENV = DJANGO_DEBUG=0 DJANGO_ALLOWED_HOSTS=grid.example.gov.cn \
	DJANGO_SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))') \
	DJANGO_BEHIND_TLS_PROXY=1 DJANGO_SECURE_SSL_REDIRECT=1 DJANGO_SECURE_COOKIES=1 \
	DJANGO_SECURE_HSTS_SECONDS=31536000 DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS=1 DJANGO_SECURE_HSTS_PRELOAD=1 \
	DJANGO_CSRF_TRUSTED_ORIGINS=https://grid.example.gov.cn

setup:                 ## system packages + .venv (skips what is already there)
	@bash scripts/setup.sh

db: setup              ## the local PostGIS cluster under var/pg (no-op when DATABASE_URL is set)
	@$(PYTHON) -m gridgis.localdb start

migrate: db
	@$(PYTHON) manage.py migrate --noinput -v 0

seed: migrate          ## the Luzhou demo data (skipped when already loaded)
	@$(PYTHON) manage.py seed_demo

demo: seed             ## run the server with demo data on http://$(HOST):$(PORT), and one queue worker beside it
	@$(PYTHON) manage.py collectstatic --noinput -v 0
	@echo "gridgis: serving http://$(HOST):$(PORT)/  (maps under /map/, API under /api/v1/, docs /api/docs/)"
	@# The background worker (audits, reassignment, exports, case counts, escalation) lives and dies
	@# with the server: stopping gunicorn (Ctrl-C, SIGTERM) stops it too.
	@$(PYTHON) manage.py worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
	trap 'exit 0' INT TERM; \
	.venv/bin/gunicorn gridgis.wsgi:application --bind $(HOST):$(PORT) --workers $(WORKERS) \
		--threads 4 --access-logfile - --timeout 120

HTTPS_PORT ?= 8443
demo-https: seed       ## the demo over HTTPS on the local network with the project's own certificate (phones)
	@$(PYTHON) manage.py collectstatic --noinput -v 0
	@bash scripts/demo_cert.sh
	@echo "gridgis: serving https://$$(hostname -I | cut -d' ' -f1):$(HTTPS_PORT)/field/  (trust var/tls/gridgis-demo-ca.crt on the phone first)"
	@DJANGO_ALLOWED_HOSTS="$${DJANGO_ALLOWED_HOSTS:-localhost,127.0.0.1,$$(hostname),$$(hostname -I | xargs | tr " " ",")}" exec .venv/bin/gunicorn gridgis.wsgi:application \
		--bind 0.0.0.0:$(HTTPS_PORT) --certfile var/tls/gridgis-demo.crt --keyfile var/tls/gridgis-demo.key \
		--workers $(WORKERS) --threads 4 --access-logfile - --timeout 120

worker: migrate        ## only the background job worker (manage.py worker), e.g. a second one
	@exec $(PYTHON) manage.py worker

test: db               ## the test suite against a real PostGIS (and the cluster's, for the tests marked slow)
	@bash scripts/setup.sh --cluster
	@$(PYTHON) -m pytest $(PYTEST_ARGS)

test-fast: db          ## the inner loop: all but the slow tests (fuzz, benchmark smoke, load, faults, browser)
	@$(PYTHON) -m pytest -m "not slow" $(PYTEST_ARGS)

# What a reviewer checks, before the tests (.ci/run runs it first): one line per check, each failing
# the target.
check: db              ## lint, formatting, the import contract (.importlinter), migrations in step with the models
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .
	@.venv/bin/lint-imports --no-cache
	@$(PYTHON) manage.py makemigrations --check --dry-run
	@$(MAKE) -s check-deploy

stop:                  ## stop the local PostGIS cluster
	@$(PYTHON) -m gridgis.localdb stop

# The three-node cluster (etcd + Patroni + HAProxy on loopback, gridgis/cluster.py), migrated and seeded
# like the demo. Then run the app against it with the variables `python3 -m gridgis.cluster env` prints (two URLs and the key).
CLUSTER_ENV = $(shell python3 -m gridgis.cluster env | sed 's/^export //')

cluster: setup         ## 3 Patroni nodes + etcd + HAProxy (write :15400, read :15401), with the demo data
	@bash scripts/setup.sh --cluster
	@python3 -m gridgis.cluster start
	@env $(CLUSTER_ENV) $(PYTHON) manage.py migrate --noinput -v 0
	@env $(CLUSTER_ENV) $(PYTHON) manage.py seed_demo
	@echo "gridgis: cluster ready; serve against it with:"
	@python3 -m gridgis.cluster env
	@echo "  make demo   (in a shell with those variables)"

cluster-stop:          ## stop the cluster (its data stays under var/cluster/, or /var/lib/gridgis/<checkout>-cluster)
	@python3 -m gridgis.cluster stop

failover: setup        ## the drill: load through HAProxy, kill -9 the leader's postmaster, then a whole node
	@bash scripts/setup.sh --cluster
	@$(PYTHON) -m bench.failover $(FAILOVER_ARGS)

cluster-status:        ## who leads, who replicates
	@python3 -m gridgis.cluster status

bench: setup           ## city-scale benchmarks in the gridgis_bench database (built on first run)
	@$(PYTHON) -m bench.run $(BENCH_ARGS)

load: db               ## 10,000 concurrent case submissions, each retried with its Idempotency-Key (minutes)
	@$(PYTHON) -m bench.load --submissions $(or $(SUBMISSIONS),10000) $(LOAD_ARGS)

faults: db             ## the same with PostgreSQL restarted mid-run: no accepted case lost, server recovers
	@$(PYTHON) -m bench.load --submissions $(or $(SUBMISSIONS),3000) --restart-db $(LOAD_ARGS)

check-deploy:          ## Django's deployment checks with the README's production environment (warnings fail)
	@$(PRODUCTION_ENV) $(PYTHON) manage.py check --deploy --fail-level WARNING
