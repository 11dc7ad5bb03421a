# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint-imports db-upgrade clean teams-package

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/ownerbot db upgrade
	$(BIN)/ownerbot serve

test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The Teams app package for sideloading: MICROSOFT_APP_ID=<app id> [OWNERBOT_URL=https://...] make teams-package
teams-package: $(STAMP)
	$(BIN)/python -m ownerbot.bot.teams.package --out dist/ownerbot-teams.zip

clean:
	rm -rf $(VENV) .pytest_cache
