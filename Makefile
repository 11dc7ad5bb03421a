# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CODE   := app.py bot handlers ownership nudges gestures db

.PHONY: run test chat lint lock db-upgrade clean teams-package browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Dependencies only, every one pinned (requirements.lock); ownerbot itself runs from this clone.
$(STAMP): $(BIN)/python requirements.lock
	$(BIN)/python -m pip install --quiet -r requirements.lock
	touch $(STAMP)

run: $(STAMP)
	./ownerbot db upgrade
	./ownerbot serve

# The gates, then the whole suite: ruff, mypy, import-linter, pytest (with a headless Chromium for the dashboard).
test: lint browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Debian's Chromium and its driver for the dashboard's browser test, installed once when missing (needs root or
# sudo; CI runs as root). Without them the browser test skips outside CI and fails in CI.
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif command -v apt-get >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null \
	  || { echo "browser: could not install chromium and chromium-driver; the browser test skips (outside CI)"; \
	       [ -z "$$CI" ] || exit 1; }; \
	else echo "browser: no apt-get here: install chromium and chromedriver to run the browser test"; fi

# Re-pin every dependency (and theirs) from pyproject.toml's direct pins into requirements.lock.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet '.[test,bench]'
	.lock-venv/bin/python -m pip freeze --exclude ownerbot > requirements.lock
	rm -rf .lock-venv build *.egg-info

# The Teams app package for sideloading: MICROSOFT_APP_ID=<app id> [OWNERBOT_URL=https://...] make teams-package
teams-package: $(STAMP)
	$(BIN)/python -m bot.teams.package --out dist/ownerbot-teams.zip

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
