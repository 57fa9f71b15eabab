# Two commands for a newcomer: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
UV := .tools/bin/uv
HOST ?= 127.0.0.1
PORT ?= 8000

# Finds a Python 3.12+ even where plain python3 is older: versioned names first, then pyenv's
# folders (pyenv shims fail unless their version is selected, so each candidate is run, not just found).
define FIND_PYTHON
for c in "$${PYTHON:-}" python3.13 python3.12 python3.14 $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[2-9]*/bin/python3 python3; do \
  [ -n "$$c" ] || continue; \
  p=$$(command -v "$$c" 2>/dev/null) || continue; \
  if "$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then echo "$$p"; exit 0; fi; \
done; exit 1
endef
export FIND_PYTHON

.PHONY: help python install run test fuzz lint format bench clean

help:
	@echo "make run    install, migrate, load demo data, serve on http://$(HOST):$(PORT) with a worker"
	@echo "make test   install and run the whole suite (PostgreSQL when DATABASE_URL is set)"
	@echo "make fuzz   the long API fuzz run (schemathesis; FUZZ_EXAMPLES per operation, default 300)"
	@echo "make bench  every benchmark beside its reference (PostgreSQL; ARGS=--quick for CI size)"
	@echo "make lint | format | clean"

python:  ## print the Python 3.12+ the install would use
	@$(SHELL) -c "$$FIND_PYTHON" || { echo "error: no Python 3.12 or newer found" >&2; exit 1; }

$(VENV)/.installed: pyproject.toml uv.lock
	@PY=$$($(SHELL) -c "$$FIND_PYTHON") || { \
	  echo "error: Python 3.12 or newer is needed and none was found." >&2; \
	  echo "Install one (e.g. 'apt-get install python3.13', 'brew install python@3.13' or 'pyenv install 3.13'), or point PYTHON=/path/to/python3.12 at it." >&2; \
	  exit 1; }; \
	echo "Using $$PY"; \
	if [ ! -x $(UV) ]; then "$$PY" -m venv .tools && .tools/bin/pip install --quiet --disable-pip-version-check uv; fi; \
	UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --python "$$PY" --quiet
	@touch $@

install: $(VENV)/.installed

run: install
	DEBUG=$${DEBUG:-1} $(VENV)/bin/python manage.py migrate --no-input
	DEBUG=$${DEBUG:-1} $(VENV)/bin/python manage.py seed_demo
	@echo "Serving on http://$(HOST):$(PORT) with a background worker (manage.py run_worker) beside it; Ctrl+C stops both."
	@export DEBUG=$${DEBUG:-1}; \
	$(VENV)/bin/python manage.py run_worker --no-reload & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
	trap 'exit 130' INT TERM; \
	$(VENV)/bin/python manage.py runserver $(HOST):$(PORT)

# The suite runs in TEST_JOBS processes (pytest-xdist, each with its own test database);
# TEST_JOBS=0 runs it in this one process.
TEST_JOBS ?= 2
test: install
	$(VENV)/bin/python -m pytest -n $(TEST_JOBS) $(PYTEST_ARGS)

# `make test` fuzzes the API a little (FUZZ_EXAMPLES=3 per operation and role); this, at length.
fuzz: install
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-300} $(VENV)/bin/python -m pytest -q tests/billing_site/test_fuzz_api.py $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Every benchmark beside its reference (issue 14) on PostgreSQL: DATABASE_URL names the server
# (default the local one); each benchmark makes and drops its own database. ARGS="--quick" for
# 10,000 customers and one run, "--only month_end,load", "--customers N --runs R".
bench: install
	$(VENV)/bin/python bench/run.py $(ARGS)

clean:
	rm -rf $(VENV) .tools db.sqlite3 test-artifacts
