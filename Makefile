# Bureau: `make demo` to run it, `make test` to test it. Needs only Python 3.11.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-clock-ahead fuzz lint format requirements stop status env clean bench-ingest messages

$(STAMP): requirements-dev.txt requirements.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=python3"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

.env:
	$(BIN)/python -m bureau.devenv

env: $(STAMP) .env messages

# Compiled catalogues are committed too, so a machine without gettext still works.
# msgfmt directly, not compilemessages: loading Django here would start the
# embedded servers outside `make test`'s start/stop bracket.
messages:
	@if command -v msgfmt >/dev/null 2>&1; then \
		for po in locale/*/LC_MESSAGES/django.po; do msgfmt --check-format -o "$${po%.po}.mo" "$$po"; done; \
	else echo "msgfmt (gettext) not found: using the committed .mo files"; fi

demo: env
	$(BIN)/python -m bureau.demo

test: env
	$(BIN)/python -m bureau.embedded run -- $(BIN)/python -m pytest $(PYTEST_ARGS)

# The suite again with the clock a year and a few days ahead: no result may depend
# on the day it runs (CI runs both).
test-clock-ahead: env
	BUREAU_TEST_CLOCK_AHEAD_DAYS=$(or $(DAYS),372) $(BIN)/python -m bureau.embedded run -- $(BIN)/python -m pytest $(PYTEST_ARGS)

# schemathesis against a live server on a small fresh database (fuzz/run.py);
# FUZZ_ARGS e.g. "--max-examples 50 --max-time 600" for a longer run.
fuzz: env
	$(BIN)/python -m bureau.embedded run -- $(BIN)/python fuzz/run.py $(FUZZ_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

requirements: $(STAMP)
	$(BIN)/pip-compile -q --strip-extras --no-header -o requirements.txt requirements.in
	$(BIN)/pip-compile -q --strip-extras --no-header -o requirements-dev.txt requirements-dev.in

status: $(STAMP)
	$(BIN)/python -m bureau.embedded status

stop: $(STAMP)
	$(BIN)/python -m bureau.embedded stop

clean: stop
	rm -rf .data staticfiles

bench-ingest: env
	$(BIN)/python bench/ingest.py --rows $(or $(ROWS),1000000)
