# Two commands do all set-up on a fresh machine:
#   make demo   - a full campaign on the embedded default model and built-in tasks
#   make test   - the test suite
# Both create (or reuse) .venv and install what they need.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint bench setup lock

$(STAMP): pyproject.toml requirements.lock requirements-model.lock constraints.txt .ci/setup
	bash .ci/setup
	touch $@

setup: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q -ra

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

demo: $(STAMP)
	$(BIN)/promptfusion run examples/embedded.yaml

# Re-resolve the lock files on purpose (new releases, a changed dependency or pin); then `make test`.
lock:
	bash .ci/lock
