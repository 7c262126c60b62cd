# Two entry points: `make demo` and `make test`. Both build .venv from scratch
# when it is missing or the lock changed, using only this repository's files:
# every package comes from requirements/dev.lock, pinned with hashes, so CI
# runs exactly what was tested. `make test-latest` is the opposite on purpose:
# the newest versions pyproject.toml allows, to find a breaking release first.
#
# The editable install uses compat mode (a plain path entry): the default
# import-hook finder costs ~17 ms at every interpreter start, which the hot path
# cannot afford.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCK   := requirements/dev.lock
LATEST := .venv-latest

.PHONY: demo test test-reliability test-latest bench lock clean venv

venv: $(STAMP)

$(STAMP): $(LOCK) pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	# The lock's pip replaces the venv's bundled one here, so the editable install
	# below writes the `memman` console script with its lean wrapper (no `re`).
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(LOCK)
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
		-e . --config-settings editable_mode=compat
	$(BIN)/pip check
	# setuptools is only needed to build; in the venv its .pth start-up hook
	# (_distutils_hack) would cost every memman process ~5 ms.
	$(BIN)/pip uninstall --quiet --yes setuptools
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python tools/demo.py

test: $(STAMP)
	$(BIN)/python -m pytest

# The fault-injection suite alone (also part of `make test`, so CI runs it):
# kill -9 at seeded random points, damaged files, hostile text, a CLI fuzzer.
# A few minutes; MEMMAN_RELIABILITY_SEED and MEMMAN_FUZZ_EXAMPLES vary it.
test-reliability: $(STAMP)
	$(BIN)/python -m pytest tests/reliability -p no:cacheprovider -s

# Newest allowed versions of everything, no lock: run it before a release and
# whenever a dependency ships; a failure here is ours to fix before a user sees it.
test-latest:
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/pip install --quiet --disable-pip-version-check --upgrade pip
	$(LATEST)/bin/pip install --quiet --disable-pip-version-check --upgrade --upgrade-strategy eager \
		-e '.[test]' --config-settings editable_mode=compat
	$(LATEST)/bin/pip uninstall --quiet --yes setuptools
	$(LATEST)/bin/python -m pip list --format=freeze > $(LATEST)/versions.txt
	$(LATEST)/bin/python -m pytest

# Regenerate the lock after changing dependencies in pyproject.toml or
# requirements/*.in (needs network; pip-tools lives in its own throwaway venv).
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --upgrade pip pip-tools
	.venv-lock/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links --extra test \
		-o $(LOCK) pyproject.toml requirements/build.in
	rm -rf .venv-lock

bench: $(STAMP)
	$(BIN)/python tools/bench.py

clean:
	rm -rf $(VENV) $(LATEST) build *.egg-info
