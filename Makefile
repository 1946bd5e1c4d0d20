# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

$(BIN)/dlf-bot: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/dlf-bot

.PHONY: install demo test bench check
install: $(BIN)/dlf-bot

demo: install
	$(BIN)/dlf-bot demo

# Static checks CI runs before the tests: import contracts, types, lint and format.
check: install
	$(BIN)/lint-imports
	$(BIN)/mypy --strict bot
	$(BIN)/ruff check bot tests bench dlf_sandbox slack_fake
	$(BIN)/ruff format --check bot tests bench dlf_sandbox slack_fake

test: install
	$(BIN)/python -m pytest -q --durations=15

bench: install
	$(BIN)/python bench/watcher_poll.py
