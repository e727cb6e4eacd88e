# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8080
# Test processes: one per core by default (each gets its own databases).
PYTEST_WORKERS ?= auto

.PHONY: run test demo lint typecheck bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Watchbill needs Python 3.11 or newer; set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e .
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@

run: $(VENV)/.runtime
	$(BIN)/watchbill db upgrade
	$(BIN)/watchbill serve --host $(HOST) --port $(PORT)

demo: $(VENV)/.runtime
	$(BIN)/watchbill db upgrade
	$(BIN)/watchbill apply -f demo/

test: $(VENV)/.dev
	$(BIN)/python -m tests.preflight
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(VENV)/.dev
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
