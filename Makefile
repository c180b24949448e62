# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint bench bench-history clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: install  ## embedded PostgreSQL, migrations, API and projectors on 127.0.0.1:8000
	$(BIN)/chronicle serve

test: install lint  ## the whole suite, on the embedded PostgreSQL and the system one if reachable
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy domain eventstore adapters projections api worker bench

bench: install  ## figures next to baselines measured in the same run (bench/README.md)
	$(BIN)/python -m bench.bench_commands $(BENCH_ARGS) && $(BIN)/python -m bench.bench_jobs $(BENCH_ARGS) \
	&& $(BIN)/python -m bench.bench_tests $(BENCH_ARGS)

bench-history: install  ## export, audit pages and rebuild on a generated log of 1,000,000 events (about 35 min)
	$(BIN)/python -m bench.bench_history $(BENCH_ARGS) && $(BIN)/python -m bench.bench_rebuild $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .data .pytest_cache .ruff_cache
