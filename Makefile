# Two commands on a fresh machine: `make run` (the default pipeline over the bundled fixtures) and `make test`.
# Installs use the pip that Python ships: no pip upgrade, so what works here works for a new user.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The extras the tests exercise: argos (tamis models with argostranslate; torch pinned to the CPU build by
# the constraints), ray, the input formats (warc, parquet, zstd), dev (pytest, hypothesis, jsonschema, ruff, mypy).
EXTRAS := argos,ray,warc,parquet,zstd,dev
# Every Python tamis supports (requires-python), from pyenv; `make test-pythons` runs the fast tests on each.
PYENV_ROOT ?= $(HOME)/.pyenv
PYTHONS ?= 3.10.13 3.11.7 3.12.1 3.13.0

.PHONY: run test test-pythons install-check lint bench clean

$(STAMP): pyproject.toml .ci/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c .ci/constraints.txt -e '.[$(EXTRAS)]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/tamis run fixtures/articles -o out/clean.jsonl
	@$(BIN)/python -c "import json; s = json.load(open('out/clean.stats.json')); print('out/clean.jsonl: %(documents)d documents, %(ok)d ok, %(filtered)d filtered, %(errors)d errors in %(seconds).2f s' % s)"

test: $(STAMP)
	$(BIN)/python -m pytest -q

# One venv per Python under .venvs/ (core and dev only: the argos extra's torch wheel exists for one Python
# here, and ray's for some), then the tests not marked slow; every Python is tried, and the target fails if any did.
test-pythons:
	@failed=""; for v in $(PYTHONS); do \
	  py=$(PYENV_ROOT)/versions/$$v/bin/python; venv=.venvs/$$v; \
	  echo "== Python $$v"; \
	  { test -x $$venv/bin/python || $$py -m venv $$venv; } && \
	  $$venv/bin/python -m pip install --quiet -e '.[dev]' && \
	  $$venv/bin/python -m pytest -q -m 'not slow' -p no:cacheprovider || failed="$$failed $$v"; \
	done; \
	if [ -n "$$failed" ]; then echo "test-pythons: failed on$$failed"; exit 1; fi; echo "test-pythons: all passed"

# What a new user gets: a fresh venv, the bundled pip, `pip install .` with no extra. It must pull no torch
# and clean the fixtures (5 ok records), run from outside the checkout.
install-check:
	rm -rf .venvs/plain && $(PYTHON) -m venv .venvs/plain
	.venvs/plain/bin/python -m pip install --quiet .
	@! .venvs/plain/bin/python -c "import torch" 2>/dev/null || { echo "install-check: torch was installed"; exit 1; }
	cd "$$(mktemp -d)" && $(CURDIR)/.venvs/plain/bin/tamis run $(CURDIR)/fixtures/articles -o $(CURDIR)/out/plain.jsonl
	@.venvs/plain/bin/python -c "import json; s = [json.loads(l)['status'] for l in open('out/plain.jsonl')]; assert s == ['ok'] * 5, s; print('install-check: 5 ok, no torch')"

lint: $(STAMP)
	$(BIN)/ruff check pipeline stages tests bench
	$(BIN)/mypy

clean:
	rm -rf out
