# The two commands of the README: `make demo` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.neurodeploy-installed

.PHONY: demo test test-slow lint lint-imports format clean-venv

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,lava,sweep]"
	# lava-nc 0.10.0 declares Python < 3.11; its requirements come from the [lava] extra above and
	# neurodeploy applies its one Python 3.11 fix at import time (neurodeploy/_lava_compat.py).
	$(BIN)/python -m pip install --quiet --no-deps --ignore-requires-python "lava-nc==0.10.0"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

# Optional: the peer libraries whose own NIR exporters wrote tests/nir_fixtures (snnTorch 1.0.0,
# Norse 1.1.0; the registry's torch pulls the CUDA libraries, several GB), then rebuild the fixtures.
PVENV := .venv-peers
.PHONY: nir-peers
nir-peers:
	test -x $(PVENV)/bin/python || $(PYTHON) -m venv $(PVENV)
	$(PVENV)/bin/python -m pip install --quiet --upgrade pip
	$(PVENV)/bin/python -m pip install --quiet torch "snntorch==1.0.0" "norse==1.1.0" \
		"nirtorch==2.6" "nir==1.0.8" h5py "numpy<2"
	$(PVENV)/bin/python tests/nir_fixtures/make_fixtures.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The dependency rule alone (also part of `make test`: tests/test_architecture.py).
lint-imports: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_architecture.py

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean-venv:
	rm -rf $(VENV)
