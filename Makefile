# Everything goes through .venv; each target installs what it needs first.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: install test faults demo bench lint clean

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

test: install
	$(BIN)/python -m pytest

# the long fault and fuzz suites (tests/faults, SWARM_LONG=1); atheris is optional
faults: install
	$(BIN)/pip install -q -e '.[fuzz]' || echo "atheris did not install: its harness is skipped"
	SWARM_LONG=1 $(BIN)/python -m pytest tests/faults -q

demo: install
	$(BIN)/python -m swarm.demo

bench: install
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check swarm cluster tests bench examples

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis
