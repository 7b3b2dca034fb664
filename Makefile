# Two entry points a newcomer needs: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

$(BIN)/fcr: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip check
	touch $(BIN)/fcr

.PHONY: setup demo test quick lint
setup: $(BIN)/fcr

demo: setup
	$(BIN)/fcr demo

test: setup
	$(BIN)/ruff check .
	$(BIN)/pytest -n 2 --dist loadfile

# The loop while editing: no slow, Airflow, browser or PostgreSQL tests, one example per property test.
quick: setup
	$(BIN)/pytest -n 2 -m "not slow and not airflow and not browser and not postgres" --hypothesis-profile quick

lint: setup
	$(BIN)/ruff check .
