# Set-up and everyday commands. `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := wsgi
STAMP := $(VENV)/.installed

.PHONY: run install install-dev test test-fast test-sqlite test-postgres lint fmt i18n-extract i18n-compile migrate clean

# --- set-up -----------------------------------------------------------------
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) i18n-compile

i18n-compile: $(STAMP)
	$(BIN)/pybabel -q compile -d grants/translations

# --- running ------------------------------------------------------------------
run: install
	GRANTS_ENV=development $(BIN)/flask db upgrade
	GRANTS_ENV=development $(BIN)/flask grants demo --url http://$(HOST):$(PORT)
	GRANTS_ENV=development $(BIN)/flask run --host $(HOST) --port $(PORT)

# --- checks -------------------------------------------------------------------
test: install lint test-sqlite test-postgres

# The pure modules' tests and the import contract: seconds, no database.
test-fast: install
	$(BIN)/python -m pytest -q -m pure

test-sqlite: install
	$(BIN)/python -m pytest -q

# Runs when PostgreSQL server binaries exist (CI=true makes their absence a failure).
test-postgres: install
	@if $(BIN)/python -m tests.support.pgcluster --available; then \
		GRANTS_TEST_DATABASE=postgresql $(BIN)/python -m pytest -q; \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL server binaries not found: CI requires the PostgreSQL run." >&2; exit 1; \
	else \
		echo "PostgreSQL server binaries not found: skipping the PostgreSQL run."; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# --- translations and migrations -------------------------------------------------
i18n-extract: $(STAMP)
	$(BIN)/pybabel extract --no-location --sort-output -F babel.cfg -k _l \
		--ignore-dirs='.* __pycache__' -o grants/translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching -i grants/translations/messages.pot -d grants/translations

migrate: $(STAMP)
	GRANTS_ENV=development $(BIN)/flask db migrate -m "$(MESSAGE)"

clean:
	rm -rf $(VENV) instance *.egg-info
