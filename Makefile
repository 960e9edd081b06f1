# Two commands on a fresh machine: `make run` (the default pipeline over the bundled fixtures) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml .ci/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c .ci/constraints.txt -e '.[translate,ray,warc,parquet,zstd,dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/tamis run fixtures/articles -o out/clean.jsonl
	@$(BIN)/python -c "import json; s = json.load(open('out/stats.json')); print('out/clean.jsonl: %(documents)d documents, %(ok)d ok, %(filtered)d filtered, %(errors)d errors in %(seconds).2f s' % s)"

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check pipeline stages tests bench
	$(BIN)/mypy

clean:
	rm -rf out
