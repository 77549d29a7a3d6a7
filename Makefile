# Two commands do all the set-up: `make chat` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP := $(BIN)/pip install --disable-pip-version-check -q -c constraints.txt

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: setup chat test lint eval bench soak serve clean reader

setup: $(STAMP)

# torch goes first, pinned to the CPU build on disk, so nothing later pulls a CUDA build.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) torch==2.13.0
	$(PIP) -e '.[dev]'
	touch $(STAMP)

chat: setup
	$(BIN)/tanya index build
	$(BIN)/tanya serve

serve: setup
	$(BIN)/tanya serve

test: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q

# The six shipped question sets: reports under eval-runs/, then the regression bars, which
# live in one place (tests/eval/test_gate.py).
SETS := ukraina ukraina-heldout ukraina-fresh offtopic archive-dev archive-test
eval: setup
	for set in $(SETS); do $(BIN)/tanya eval run $$set --out eval-runs/$$set --overwrite || exit 2; done
	HF_HUB_OFFLINE=1 $(BIN)/pytest -q tests/eval/test_gate.py

# Speed, memory and scale against the LangChain tutorial pipeline; writes docs/bench/.
bench: setup
	$(BIN)/tanya bench --out docs/bench

# Memory under sustained load: a live server answering, then rejecting (429), 20 minutes
# each; writes docs/bench/soak.json and soak_rss.png. Not part of `make test`.
soak: setup
	$(BIN)/tanya bench --soak --out docs/bench

# Train the reader's adapter (about 35 minutes on 2 cores); copy reader-run/adapter.*
# into assistant/reader/ to ship it. CI never trains.
reader: setup
	$(BIN)/tanya reader train --out reader-run

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info
