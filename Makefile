# The README's two commands: `make run` and `make test`. .ci/run calls `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test bench

$(BIN)/battlemap: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

run: $(BIN)/battlemap  ## build the atlas, posters and report from the shipped sample
	$(BIN)/battlemap build

test: $(BIN)/battlemap  ## lint, then run the whole test suite (browser tests need /usr/bin/chromium)
	$(BIN)/ruff check battlemap tests bench
	$(BIN)/python -m pytest

bench: $(BIN)/battlemap  ## measure against naive baselines (see bench/README.md)
	$(BIN)/python bench/run.py
