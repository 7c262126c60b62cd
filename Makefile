# Two entry points: `make demo` and `make test`. Both build .venv from scratch
# if it is missing, using only this repository's own files. The editable
# install uses compat mode (a plain path entry): the default import-hook finder
# costs ~17 ms at every interpreter start, which the hot path cannot afford.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]' --config-settings editable_mode=compat
	# setuptools is only needed to build; in the venv its .pth start-up hook
	# (_distutils_hack) would cost every memman process ~5 ms.
	$(BIN)/pip uninstall --quiet --yes setuptools
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python tools/demo.py

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python tools/bench.py

clean:
	rm -rf $(VENV) build *.egg-info
