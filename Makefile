# Every target sets up .venv itself: a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run demo test bench docs screenshots lint format essays-check clean

SCALE ?= 1.0
BACKEND ?= sqlite

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# setuptools prints notes about editable installs as warnings; they say nothing about this project.
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	PYTHONWARNINGS=ignore $(BIN)/pip install --quiet -e '.[demo]'
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	PYTHONWARNINGS=ignore $(BIN)/pip install --quiet -e '.[test,demo]'
	touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/python -m bot run

demo: $(RUN_STAMP)
	$(BIN)/python -m bot demo

test: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m bot essays check
	$(BIN)/python -m bench.run --scale 0.01 --out /tmp/projectionist-bench-smoke.json
	$(BIN)/python -m bench.run --scale 0.01 --backend postgresql --if-available \
		--out /tmp/projectionist-bench-smoke-postgresql.json
	$(BIN)/pytest -q

docs: $(TEST_STAMP)
	$(BIN)/python -m scripts.command_reference --write README.md

screenshots: $(RUN_STAMP)
	$(BIN)/python -m scripts.screenshots

bench: $(TEST_STAMP)
	$(BIN)/python -m bench.run --scale $(SCALE) --backend $(BACKEND)

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(TEST_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

essays-check: $(RUN_STAMP)
	$(BIN)/python -m bot essays check

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
