# Quick start: `make build VERSION=3.13` (main job) and `make test` (the test suite CI runs).
VENV ?= .venv
BIN := $(VENV)/bin
.PHONY: setup host build test unit lint bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

host:  ## the engine, mmdebstrap and a local registry: installed and started when missing
	scripts/dev/ensure-docker
	scripts/dev/ensure-tools

build: setup host  ## make build [VERSION=3.13] [TARGET=all] [PROFILE=release]
	$(BIN)/invoke build $(if $(VERSION),--version $(VERSION)) $(if $(TARGET),--target $(TARGET)) \
		$(if $(PROFILE),--profile $(PROFILE))

test: setup host  ## unit tests, then integration tests on the real engine
	$(BIN)/python -m pytest tests/unit -q
	$(BIN)/python -m pytest tests/integration -q

unit: setup
	$(BIN)/python -m pytest tests/unit -q

lint: setup
	$(BIN)/ruff check .

bench: setup host
	$(BIN)/python scripts/dev/benchmark.py

clean:
	rm -rf build $(VENV)
