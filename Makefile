# Two commands do all set-up on a fresh machine:
#   make reproduce   installs what is missing, checks the study config, then runs the whole study DAG
#                    on config/config.yaml (another study: make reproduce CONFIG=config/pilot.yaml)
#   make test        installs what is missing (incl. Debian's slurm-wlm + munge for the real-SLURM
#                    test, when run as root), then runs the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

CONFIG ?= config/config.yaml

.PHONY: setup slurm check reproduce test bench clean pilot

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# validates the config (YAML errors with file and line) and prints every run with its folder and state
check: setup
	$(BIN)/python -m study $(CONFIG)

reproduce: check
	$(BIN)/snakemake --cores all --configfile $(CONFIG)

# a real single-node SLURM cluster for tests/test_workflow.py (started and stopped by the test itself)
slurm:
	@if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null; \
	  else echo "the SLURM test needs Debian's slurm-wlm and munge: run 'apt-get install slurm-wlm munge' as root"; exit 1; fi; \
	fi

test: setup slurm
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python benchmarks/sampler_throughput.py

# removes generated reports and Snakemake's state; never runs (results/), checkpoints or logs
clean:
	find reports -mindepth 1 -maxdepth 1 -type d ! -name paper -exec rm -rf {} +
	rm -rf .snakemake

# The learning-evidence pilot (config/pilot.yaml, docs/pilot.md): ML1 reach-v3, every method, 2 seeds.
# One method or a few: make pilot METHODS=sd  (or METHODS=pearl,peach); their report: reports/pilot-<methods>/
METHODS ?=
comma := ,
pilot: setup
	$(BIN)/python -m study config/pilot.yaml
	$(BIN)/snakemake --cores all --configfile config/pilot.yaml \
	  $(if $(METHODS),--config 'methods=[$(METHODS)]' study=pilot-$(subst $(comma),-,$(METHODS)))
