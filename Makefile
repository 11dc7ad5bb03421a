# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CODE   := app.py bot handlers ownership nudges gestures db

.PHONY: run test chat lint lock db-upgrade clean teams-package

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

# The gates, then the whole suite: ruff, mypy, import-linter, pytest.
test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Re-pin every dependency (and theirs) from pyproject.toml's direct pins into requirements.lock.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet '.[test]'
	.lock-venv/bin/python -m pip freeze --exclude ownerbot > requirements.lock
	rm -rf .lock-venv build *.egg-info

# The Teams app package for sideloading: MICROSOFT_APP_ID=<app id> [OWNERBOT_URL=https://...] make teams-package
teams-package: $(STAMP)
	$(BIN)/python -m bot.teams.package --out dist/ownerbot-teams.zip

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
