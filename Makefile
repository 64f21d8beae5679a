# Every target sets up .venv itself: a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# One stamp per set of extras (pyproject.toml): each target installs what it needs, once, and
# again only when pyproject.toml changes. `make run` then `make screenshots` installs Playwright.
STAMP = $(VENV)/.installed-$(1)

.PHONY: run demo test smoke-sqlite smoke-postgresql smoke-cluster bench bench-cluster docs screenshots lint format essays-check clean

SCALE ?= 1.0
BACKEND ?= sqlite

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# setuptools prints notes about editable installs as warnings; they say nothing about this project.
$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	PYTHONWARNINGS=ignore $(BIN)/pip install --quiet -e '.[$*]'
	touch $@

run: $(call STAMP,demo)
	$(BIN)/python -m bot run

demo: $(call STAMP,demo)
	$(BIN)/python -m bot demo

# Tests start some 700 bots, each loading the cogs' modules anew: compiled once and kept, not
# compiled at every start where the environment asks Python not to write bytecode.
test: export PYTHONDONTWRITEBYTECODE :=
test: $(call STAMP,test)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m bot essays check
	$(MAKE) --no-print-directory -j2 --output-sync=target smoke-sqlite smoke-postgresql smoke-cluster
	$(BIN)/pytest -q -n 4

# Every benchmark round at a small scale, for errors only (`make test`), two at a time: much of
# their time is spent waiting on a database, and they took 24 s where one after the other took 47.
smoke-sqlite: $(call STAMP,test)
	$(BIN)/python -m bench.run --scale 0.01 --smoke
	$(BIN)/python -m bench.reconcile --scale 0.01 --smoke

smoke-postgresql: $(call STAMP,test)
	$(BIN)/python -m bench.run --scale 0.01 --smoke --backend postgresql --if-available
	$(BIN)/python -m bench.reconcile --scale 0.01 --smoke --backend postgresql --if-available

smoke-cluster: $(call STAMP,test)
	$(BIN)/python -m bench.cluster --smoke --if-available

docs: $(call STAMP,test)
	$(BIN)/python -m scripts.command_reference --write README.md

screenshots: $(call STAMP,screenshots)
	$(BIN)/python -m scripts.screenshots

bench: $(call STAMP,test)
	$(BIN)/python -m bench.run --scale $(SCALE) --backend $(BACKEND)
	$(BIN)/python -m bench.reconcile --scale $(SCALE) --backend $(BACKEND)

# One PostgreSQL, 1, 2 and 4 bot processes, 2,000 servers: bench/results-cluster.json.
bench-cluster: $(call STAMP,test)
	$(BIN)/python -m bench.cluster

lint: $(call STAMP,test)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(call STAMP,test)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

essays-check: $(call STAMP,demo)
	$(BIN)/python -m bot essays check

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
