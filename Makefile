# Tasks for developers. `make help` lists them.
PY ?= .venv/bin/python
VENV_BIN := .venv/bin

.DEFAULT_GOAL := help

help: ## list the tasks
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.venv:
	python3 -m venv .venv

install: .venv ## install the project with its test tools into .venv
	$(VENV_BIN)/pip install -e '.[test]'

up: install ## run everything (embedded PostgreSQL and Redis unless URLs are set)
	$(VENV_BIN)/hotline up

test: install ## run the test suite (the README's test command)
	$(VENV_BIN)/pytest

lint: ## ruff lint and format check, mypy strict
	$(VENV_BIN)/ruff check .
	$(VENV_BIN)/ruff format --check .
	$(VENV_BIN)/mypy

format: ## apply ruff's fixes and formatting
	$(VENV_BIN)/ruff check --fix .
	$(VENV_BIN)/ruff format .

migrate: ## apply pending migrations
	$(VENV_BIN)/hotline migrate

seed: ## load reference data and demo users
	$(VENV_BIN)/hotline seed --demo-users

vendor: ## fetch the console's browser libraries at the versions in scripts/vendor.py
	$(PY) scripts/vendor.py

templates: ## precompile the console's Vue templates (after changing one; needs node)
	node scripts/templates.mjs

bench: ## run the benchmarks in bench/ (not part of the tests)
	@for b in bench/*.py; do [ "$$b" = bench/__init__.py ] || $(PY) -m bench.$$(basename $$b .py); done

clean: ## remove local data (embedded servers' files) and caches
	rm -rf var .pytest_cache .mypy_cache .ruff_cache test-artifacts

.PHONY: help install up test lint format migrate seed vendor templates bench clean
