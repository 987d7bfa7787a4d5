# Two commands a newcomer needs: `make run` and `make test`. Each creates .venv on first
# use and reinstalls only when pyproject.toml changes (the stamp files below).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test bench lint mutate clean

run: $(VENV)/.stamp-base
	$(BIN)/python -m bot

# The Redis backend's tests start a real redis-server: installed here when root on Debian/Ubuntu.
test: $(VENV)/.stamp-test
	@command -v redis-server >/dev/null || { test "$$(id -u)" = 0 && command -v apt-get >/dev/null \
		&& DEBIAN_FRONTEND=noninteractive apt-get update -qq \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; } \
		|| echo "redis-server unavailable: the Redis backend's tests will skip"
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.stamp-bench
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# Mutation testing of one module against the tests that cover it, in a scratch copy (.mutate/):
#   make mutate MODULE=bot/retry.py TESTS="tests/test_bot_retry.py"
# Not in CI (a module takes minutes); run it after changing a module's behaviour.
mutate: $(VENV)/.stamp-mutate
	@test -n "$(MODULE)" -a -n "$(TESTS)" \
		|| { echo 'usage: make mutate MODULE=bot/limits.py TESTS="tests/test_bot_parts.py"'; exit 2; }
	rm -rf .mutate && mkdir .mutate
	cp -r bot config engine jobqueue pictures worker tests pyproject.toml .mutate/
	sed -i -e 's|^source_paths = .*|source_paths = ["$(MODULE)"]|' \
		-e 's|^pytest_add_cli_args_test_selection = .*|pytest_add_cli_args_test_selection = [$(foreach t,$(TESTS),"$(t)",)]|' \
		.mutate/pyproject.toml
	@# The last progress line counts them: 🎉 killed, 🫥 no test reached it, 🙁 survived.
	cd .mutate && ../$(BIN)/mutmut run --max-children 2 | tr '\r' '\n' | tail -n 2
	cd .mutate && ../$(BIN)/mutmut results

lint: $(VENV)/.stamp-lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/hadolint Dockerfile

# `base` installs the runtime only; any other name is an extra from pyproject.toml.
$(VENV)/.stamp-%: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing into $(VENV) (first time: about 5.5 GB with PyTorch and CUDA, 2-3 minutes)"
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar on \
		--editable '.$(if $(filter base,$*),,[$*])'
	@touch $@

clean:
	rm -rf $(VENV) benchmarks/out .pytest_cache .ruff_cache .mypy_cache .mutate
