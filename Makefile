# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# What running needs, then what the suite needs besides: `make run` installs only the first.
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
PORT ?= 8000

.PHONY: run test install lint check clean bench deploy-check

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(TEST_STAMP)

install: $(STAMP)
	$(BIN)/python manage.py vendor_static
	@if command -v msgfmt >/dev/null 2>&1; then \
		$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=staticfiles --verbosity=0; \
	else \
		echo "install: GNU gettext (msgfmt) is missing, so the pages stay in English;" \
			"install it (apt-get install gettext, brew install gettext) and run make install again." >&2; \
	fi

# The embedded default: SQLite, tasks in-process, demo data; `make run PORT=8080` for
# another port.
run: install
	env -u DATABASE_URL -u CELERY_BROKER_URL $(BIN)/python manage.py migrate --noinput
	env -u DATABASE_URL -u CELERY_BROKER_URL PORT=$(PORT) $(BIN)/python manage.py seed_demo
	env -u DATABASE_URL -u CELERY_BROKER_URL $(BIN)/python manage.py runserver 127.0.0.1:$(PORT) --insecure

test: install $(TEST_STAMP)
	$(BIN)/python tests/preflight.py > $(VENV)/test-database-url
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python tests/architecture.py
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(DEPLOY_CHECK)
	DATABASE_URL="$$(cat $(VENV)/test-database-url)" $(BIN)/python -m pytest $(PYTEST_ARGS)

# `check --deploy` with the production variables of README's Production section; any
# warning fails. The key is a throwaway, made afresh on each run.
DEPLOY_CHECK = env DEBUG=false \
	SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	FIELD_ENCRYPTION_KEYS="$$($(BIN)/python -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')" \
	ALLOWED_HOSTS=portal.example CSRF_TRUSTED_ORIGINS=https://portal.example \
	SECURE_PROXY_SSL_HEADER='X-Forwarded-Proto: https' SECURE_SSL_REDIRECT=true \
	SESSION_COOKIE_SECURE=true CSRF_COOKIE_SECURE=true SECURE_HSTS_SECONDS=31536000 \
	SECURE_HSTS_INCLUDE_SUBDOMAINS=true SECURE_HSTS_PRELOAD=true \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

deploy-check: $(STAMP)
	$(DEPLOY_CHECK)

lint:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles static/vendor/plotly

# Benchmarks print tables; they need PostgreSQL (DATABASE_URL, default portal_bench).
bench: install
	$(BIN)/python bench/budgets.py
	$(BIN)/python bench/home.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/retros.py
	$(BIN)/python bench/backlog.py
