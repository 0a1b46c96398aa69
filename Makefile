PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $@

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-examples: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[examples]'
	touch $@

# The worked examples, then two of the notes' models trained on real data (metric tables,
# plots and parameters in out/).
demo: $(VENV)/.installed-examples
	$(BIN)/python -m chainrule demo
	$(BIN)/python -m chainrule train window-ner --epochs 4 --out out
	$(BIN)/python -m chainrule train mlp-digits --out out

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy src

$(VENV)/.installed-bench: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@

bench: $(VENV)/.installed-bench
	$(BIN)/python -m chainrule bench

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
