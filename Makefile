# One target per habit; CI (.ci/run) calls the same targets.
PY := .venv/bin/python
export OMP_THREAD_LIMIT := 1

.PHONY: run test lint bench fixtures forms glyphs setup setup-dev clean

setup:
	scripts/setup.sh

setup-dev:
	scripts/setup.sh --dev

## make run: install what is missing, build the blank forms, watch inbox/ into outbox/ (SQLite in var/).
run: setup
	$(PY) -m pipeline forms build
	$(PY) -m pipeline watch

## make test: lint first, then the whole suite.
test: setup-dev lint
	$(PY) -m pytest

lint: setup-dev
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy pipeline fixtures bench scripts

## make bench: throughput and time per stage, against a baseline measured in the same run.
bench: setup-dev
	$(PY) -m bench

fixtures: setup-dev
	$(PY) -m fixtures.generate

## make glyphs: train the per-character readers again (pipeline/scan/glyphs.npz, letters.npz) from the fonts set-up installs.
glyphs:
	scripts/setup.sh --glyphs
	$(PY) -m scripts.train_glyphs

forms: setup
	$(PY) -m pipeline forms build

clean:
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache
