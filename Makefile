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

.PHONY: setup chat test lint eval bench serve clean

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

# The shipped question set against the default configuration, with regression bars.
eval: setup
	$(BIN)/tanya eval run ukraina --out eval-runs/latest \
		--fail-under hit@3=0.92 --fail-under mrr=0.85 --fail-under refusal.accuracy=0.92 \
		--fail-over false_refusal_rate=0.03
	$(BIN)/tanya eval run ukraina-heldout --out eval-runs/heldout \
		--fail-under hit@3=0.94 --fail-under refusal.accuracy=0.80 \
		--fail-over false_refusal_rate=0.03
	$(BIN)/tanya eval run ukraina-fresh --out eval-runs/fresh \
		--fail-under hit@3=0.95 --fail-under refusal.accuracy=0.81 \
		--fail-over false_refusal_rate=0.03
	$(BIN)/tanya eval run offtopic --out eval-runs/offtopic --fail-under refusal.accuracy=0.95

# Speed, memory and scale against the LangChain tutorial pipeline; writes docs/bench/.
bench: setup
	$(BIN)/tanya bench --out docs/bench

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info
