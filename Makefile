# Everything bootstraps its own virtual environment in .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint docs dist vectors bench fuzz clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/authsig demo

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check authsig tests benchmarks fuzz tools
	$(BIN)/ruff format --check authsig tools
	$(BIN)/mypy --strict
	$(BIN)/mypy --strict tools
	$(BIN)/mypy --strict tests/typing
	$(BIN)/mypy --config-file tests/mypy.ini tests

# The documentation site (MkDocs, API reference from the docstrings) in site/; warnings fail.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# Build the sdist and the wheel, check them and test what they install (see tools/check_dist.py).
dist: $(STAMP)
	$(BIN)/python -m tools.check_dist

vectors: $(STAMP)
	$(BIN)/python -m tools.vectors generate vectors

bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python -m benchmarks

# One harness: make fuzz HARNESS=headers [RUNS=1000000]  (see fuzz/README.md)
HARNESS ?= headers
RUNS ?= 1000000
fuzz: $(STAMP)
	mkdir -p .cache/fuzz-corpus/$(HARNESS)
	$(BIN)/python -m fuzz $(HARNESS) --runs $(RUNS) .cache/fuzz-corpus/$(HARNESS)

clean:
	rm -rf $(VENV) .cache .mypy_cache .ruff_cache .pytest_cache .hypothesis site dist
