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

# The whole suite on both CPUs (pytest-xdist; each worker has its own databases, ports and processes): first
# everything but the drills and crash tests, then those — they drive `dlf-bot run` and mostly wait on real time
# (a minute of Slack faults, TTLs after a SIGKILL), so two of them side by side halve the wait.
test: install
	$(BIN)/python -m pytest -q -n 2 -m "not slow and not drill" --durations=10
	$(BIN)/python -m pytest -q -n 2 -m "slow or drill" --durations=10

bench: install
	$(BIN)/python bench/watcher_poll.py
