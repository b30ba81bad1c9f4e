# Two commands for a fresh machine: `make run` (serve on SQLite) and `make test` (both databases).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint test-sqlite test-postgresql bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/yekuo db upgrade
	$(BIN)/yekuo catalogue load --if-empty
	$(BIN)/yekuo user ensure-admin
	$(BIN)/yekuo serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test-sqlite: install
	YEKUO_TEST_DATABASE=sqlite $(BIN)/pytest -q

test-postgresql: install
	YEKUO_TEST_DATABASE=postgresql $(BIN)/pytest -q

# Both databases at once: each run is one Python process, so two cores halve the wait. The
# linters run beside them (a few seconds of a core), and any of the three failing fails `test`.
test: install
	$(MAKE) --no-print-directory -j3 --output-sync=target lint test-sqlite test-postgresql

bench: install
	$(BIN)/python bench/schema_build.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
