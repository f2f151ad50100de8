# The two front-door commands: `make demo` and `make test`. Each creates .venv/ itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

# The engine's hot modules are compiled with mypyc when the package is installed (setup.py,
# engine/native.py); without a C compiler the install falls back to the pure-Python engine,
# which gives the same results more slowly.
NATIVE := $(VENV)/.native
NATIVE_SOURCES := $(shell $(PYTHON) -c 'import runpy; print(" ".join(runpy.run_path("engine/native.py")["built_sources"]()))' 2>/dev/null)

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "trialcode needs Python 3.11 or newer (PYTHON=$(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	@echo "installing (the engine is compiled with mypyc, and pyspark is large: a few minutes)"
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]' || { \
		echo "compiling the engine failed: installing the pure-Python engine instead"; \
		TRIALCODE_PURE=1 $(BIN)/python -m pip install --quiet -e '.[dev,spark]'; }
	$(BIN)/python -m pip install --quiet --no-deps usdm4==0.29.0
	touch $(STAMP)

# Recompile after an edit to a compiled module (the engine would otherwise run its pure-Python
# sources, and say so). Nothing is done when the compiled modules still match their sources.
$(NATIVE): $(NATIVE_SOURCES) | $(STAMP)
	@$(BIN)/python -c 'import runpy, sys; sys.exit(runpy.run_path("engine/native.py")["_why_pure"]()[0] != "")' || { \
		echo "recompiling the engine (mypyc)"; \
		$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e . || \
		echo "compiling the engine failed: the pure-Python engine will run"; }
	@touch $(NATIVE)

demo: $(NATIVE)
	$(BIN)/python -m trialcode.demo

lint: $(NATIVE)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: $(NATIVE)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/parse.py
	$(BIN)/python benchmarks/lsp.py
	$(BIN)/python benchmarks/scale.py

clean:
	rm -rf $(VENV) build *.egg-info out engine/*.so engine/io/*.so engine/_native_sources.txt
