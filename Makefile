# Two commands do all set-up on a fresh machine:
#   make reproduce   installs what is missing, then runs the whole study DAG on config/config.yaml
#   make test        installs what is missing, then runs the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup reproduce test bench clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

reproduce: setup
	$(BIN)/snakemake --cores all

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python benchmarks/sampler_throughput.py

clean:
	rm -rf results logs .snakemake
