# Bureau: `make demo` to run it, `make test` to test it. Needs only Python 3.11.
# Supported: Python 3.11 (what CI tests, the image runs and pyproject.toml says).
SUPPORTED_PYTHON := 3.11
PYTHON ?= python$(SUPPORTED_PYTHON)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-clock-ahead fuzz lint typecheck format requirements stop status env clean bench-ingest messages python-check screenshots

# The interpreter the virtualenv is made from, or (once made) the one it has: any
# other version stops here, saying what to do, before anything is installed.
WANT_PYTHON := install it, or point PYTHON at it: PYTHON=/path/to/python$(SUPPORTED_PYTHON) make $(or $(MAKECMDGOALS),demo)
python-check:
	@if [ -x $(BIN)/python ]; then py=$(BIN)/python; else py="$(PYTHON)"; fi; \
	if ! command -v "$$py" >/dev/null 2>&1; then \
		echo "$$py not found: Bureau needs Python $(SUPPORTED_PYTHON); $(WANT_PYTHON)" >&2; exit 1; \
	fi; \
	v=$$("$$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); \
	[ "$$v" = "$(SUPPORTED_PYTHON)" ] && exit 0; \
	if [ "$$py" = "$(BIN)/python" ]; then \
		echo "$(VENV) was made with Python $${v:-that no longer runs}; Bureau needs Python $(SUPPORTED_PYTHON): remove it (rm -rf $(VENV)) and run make again" >&2; \
	elif [ -z "$$v" ]; then \
		echo "$$py does not run as a Python; Bureau needs Python $(SUPPORTED_PYTHON): $(WANT_PYTHON)" >&2; \
	else \
		echo "$$py is Python $$v; Bureau needs Python $(SUPPORTED_PYTHON): $(WANT_PYTHON)" >&2; \
	fi; exit 1

$(STAMP): requirements-dev.txt requirements.txt | python-check
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

# The README's pictures. Browser tests write screenshots only into an ignored
# directory (tests/web/conftest.py); this runs them and copies over exactly the
# pictures docs/screenshots holds.
SHOTS := .data/screenshots
screenshots: env
	@fc-list :lang=zh 2>/dev/null | grep -q . || { echo "screenshots: no CJK font, the zh-hans pages would show boxes (apt-get install fonts-noto-cjk)" >&2; exit 1; }
	rm -rf $(SHOTS)
	BUREAU_SCREENSHOTS=$(SHOTS) $(BIN)/python -m bureau.embedded run -- $(BIN)/python -m pytest tests/web $(PYTEST_ARGS)
	@for png in docs/screenshots/*.png; do \
		new="$(SHOTS)/$${png##*/}"; \
		[ -f "$$new" ] || { echo "screenshots: $$new was not taken (browser tests skipped? apt-get install chromium)" >&2; exit 1; }; \
		cp "$$new" "$$png"; \
	done
	@echo "screenshots: docs/screenshots refreshed; review them (git diff --stat docs/screenshots) and commit"

# lint-imports: the layers contract in pyproject.toml (docs/architecture.md).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# mypy with the Django and DRF plugins over the apps ([tool.mypy] in pyproject.toml).
# It loads bureau/typecheck_settings.py: no .env, database or Redis needed, none
# started.
typecheck: $(STAMP)
	$(BIN)/mypy

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
