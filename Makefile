# The two commands of the README: `make demo` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.neurodeploy-installed

.PHONY: demo test test-slow test-vendors lint lint-imports format clean-venv

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

# The vendor tier: lava-dl 0.6.0 (netx, the loader users share Loihi 2 models with) and the torch it
# requires, in its own environment (about 5.5 GB: the registry's torch pulls the CUDA libraries).
# lava-dl and lava-nc declare Python < 3.11, so both go in with --no-deps --ignore-requires-python
# and lava-dl's real requirements are listed here (its pytest<8 pin is for its own tests and is
# left out; numpy stays < 2 as lava-nc and neurodeploy need, hence opencv < 4.11, the last releases
# built for numpy 1); neurodeploy's import hook applies the Python 3.11 fix to both.
VVENV := .venv-vendors
VSTAMP := $(VVENV)/.neurodeploy-installed

$(VSTAMP): pyproject.toml Makefile
	test -x $(VVENV)/bin/python || $(PYTHON) -m venv $(VVENV)
	$(VVENV)/bin/python -m pip install --quiet --upgrade pip
	$(VVENV)/bin/python -m pip install --quiet -e ".[dev,lava]"
	$(VVENV)/bin/python -m pip install --quiet "torch>=2.3.1,<2.4" "torchvision>=0.18,<0.19" \
		"ninja>=1.10.2.3,<2" "opencv-python-headless>=4.8.1.78,<4.11" "pillow>=10.0.1,<11" \
		"unittest2>=1.1,<2" "numpy>=1.26,<2"
	$(VVENV)/bin/python -m pip install --quiet --no-deps --ignore-requires-python \
		"lava-nc==0.10.0" "lava-dl==0.6.0"
	touch $(VSTAMP)

test-vendors: $(VSTAMP)
	$(VVENV)/bin/python -m pytest -q -m vendor tests/vendor

# Optional: the peer libraries whose own NIR exporters wrote tests/nir_fixtures (snnTorch 1.0.0,
# Norse 1.1.0, Sinabs 3.1.3; the registry's torch pulls the CUDA libraries, several GB), then
# rebuild the fixtures.
PVENV := .venv-peers
.PHONY: nir-peers
nir-peers:
	test -x $(PVENV)/bin/python || $(PYTHON) -m venv $(PVENV)
	$(PVENV)/bin/python -m pip install --quiet --upgrade pip
	$(PVENV)/bin/python -m pip install --quiet torch "snntorch==1.0.0" "norse==1.1.0" \
		"nirtorch==2.6" "nir==1.0.8" h5py "numpy<2" matplotlib
	# sinabs 3.1.3 pins nir<=1.0.4 (its exporter works with 1.0.8) and asks for samna (Speck only).
	$(PVENV)/bin/python -m pip install --quiet --no-deps "sinabs==3.1.3" pbr
	$(PVENV)/bin/python tests/nir_fixtures/make_fixtures.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The dependency rule alone (also part of `make test`: tests/test_architecture.py).
lint-imports: $(STAMP)
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean-venv:
	rm -rf $(VENV)
