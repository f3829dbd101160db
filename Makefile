# Fresh-machine set-up: `make demo` (a simulated firing, recorded and analysed)
# and `make test`. Both create or reuse .venv and install the project into it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.hotfire-installed
export QT_QPA_PLATFORM ?= offscreen

.PHONY: install demo test test-fast bench mutation clean

install: $(STAMP)

$(STAMP): setup.py pyproject.toml $(wildcard ext/*.pyx ext/*.pxd ext/*.h) .ci/system-packages
	bash .ci/system-packages
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

demo: $(STAMP)
	$(VENV)/bin/hotfire demo

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# Mutation testing (docs/testing.md): cosmic-ray over the modules whose numbers users
# trust, each against a fast test subset; prints the score per module. All of them take
# hours on 2 cores: MODULES="core/scaling.py daq/limits.py" runs those only.
mutation: $(STAMP)
	$(PY) -c "import cosmic_ray" 2>/dev/null || $(PY) -m pip install --quiet 'cosmic-ray>=8.3,<9'
	$(PY) tests/mutation.py $(MODULES)

clean:
	rm -rf $(VENV) build *.egg-info ext/*.c ext/*.so
