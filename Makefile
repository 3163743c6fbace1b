# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# The lock tool, pinned, in a venv of its own (inside .venv, so `make clean` removes it).
LOCK_TOOL := uv==0.13.8
LOCK_VENV := $(VENV)/lock-tool
LOCK := $(LOCK_VENV)/bin/uv pip compile --quiet --generate-hashes --universal \
	--python-version 3.11 --custom-compile-command 'make lock' $(LOCK_FLAGS)

.PHONY: run test lint bench lock clean translations

# Exact versions with hashes from requirements-dev.lock, then the project itself (editable,
# no dependencies, built by the locked setuptools). `pip check` fails when pyproject.toml
# asks for something the lock does not hold: then run `make lock`.
$(STAMP): pyproject.toml requirements-dev.lock requirements-build.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes \
		-r requirements-dev.lock -r requirements-build.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@$(BIN)/python -m pip check || { echo "The lock files miss a dependency of pyproject.toml: run make lock" >&2; exit 1; }
	touch $(STAMP)

# With TELEGRAM_BOT_TOKEN unset, this opens the offline chat console.
run: $(STAMP)
	$(BIN)/quotebot run

test: $(STAMP) lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	@if [ -f Dockerfile ]; then $(BIN)/hadolint Dockerfile; fi

bench: $(STAMP)
	$(BIN)/python bench/bench_search.py

# Refresh bot/locales from the code: the template, each language's .po (translations kept,
# new strings empty, changed ones fuzzy), then the list of what still needs translating.
translations: $(STAMP)
	$(BIN)/python -m bot.translations

# Refresh the lock files from pyproject.toml's ranges: requirements-dev.lock (runtime +
# dev, for make and CI), requirements.lock (runtime only, for the Docker image) held to the
# same versions, and requirements-build.lock (the build backend, for building the wheel).
# Pins already in the files are kept while the ranges allow them;
# `make lock LOCK_FLAGS=--upgrade` moves everything to the newest allowed versions.
lock:
	@test -x $(LOCK_VENV)/bin/uv || { $(PYTHON) -m venv $(LOCK_VENV) \
		&& $(LOCK_VENV)/bin/python -m pip install --quiet $(LOCK_TOOL); }
	$(LOCK) pyproject.toml --extra dev --output-file requirements-dev.lock
	$(LOCK) pyproject.toml --constraint requirements-dev.lock --output-file requirements.lock
	$(LOCK) --group build --output-file requirements-build.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info quotebot.db quotebot.db-*
