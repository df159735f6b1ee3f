# Two set-up commands: `make dev` (run the platform on the local default) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DW_HOME ?= $(CURDIR)/.dw
export DAGSTER_HOME ?= $(DW_HOME)/dagster
# One "planned" event per asset for a single-run backfill's range, and its materializations stored
# in batches (see DAGSTER_ENV in dw_platform/runtime/settings.py).
export DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS ?= true
export DAGSTER_EVENT_BATCH_SIZE ?= 1000

.PHONY: install dev test test-fast lint demo lock clean policy bench conformance

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

install: $(VENV)/.installed

# Written from dw_platform/runtime/settings.py (DAGSTER_YAML: telemetry off, pools, tick retention),
# the one source `dw` and the benchmarks use too; a file someone edited is left as it is.
$(DAGSTER_HOME)/dagster.yaml: dw_platform/runtime/settings.py | $(VENV)/.installed
	$(BIN)/python -m dw_platform.runtime.settings $(DAGSTER_HOME)

# The UI on http://$(HOST):$(PORT) (make dev PORT=3001), with the daemon: the event generator,
# sensors and schedules run. SIGTERM or Ctrl-C stops it and every process it started within 10 s
# (dw_platform/runtime/supervise.py: dg dev alone ignores SIGTERM when started with SIGINT ignored).
HOST ?= 127.0.0.1
PORT ?= 3000
dev: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m dw_platform.runtime.supervise $(BIN)/dg dev --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check dw_platform tests benchmarks
	$(BIN)/ruff format --check dw_platform tests benchmarks

# Two workers (one per core of the CI machine), each taking whole test files. Everything: the e2e
# and slow tiers too (markers in pyproject.toml; each test bounded by pytest-timeout).
test: install lint $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dg check defs
	$(BIN)/pytest -q -n 2 --dist loadfile

# The fast tier, for every edit: no real platform process or server, nothing slow (under 2 minutes).
test-fast: install
	$(BIN)/pytest -q -n 2 --dist loadfile -m "not e2e and not slow"

# The local engine against Trino's documented answers, in two machine time zones (0 wrong, or it fails).
conformance: install
	TZ=UTC $(BIN)/python -m tests.conformance
	TZ=America/Los_Angeles $(BIN)/python -m tests.conformance

# Every benchmark side by side with its baseline; rewrites docs/benchmarks.md (about 10 minutes on 2 cores).
bench: install
	$(BIN)/python -m benchmarks --output docs/benchmarks.md

demo: install
	$(BIN)/dw demo

# The run-worker IAM policy, generated into infra/ for review (default names, placeholder account).
policy: install
	AWS_REGION=us-west-2 DW_STACK= DW_DATA_BUCKET= DW_RESULTS_BUCKET= DW_ATHENA_WORKGROUP= \
	  $(BIN)/dw --warehouse analytics_dw provision policy --account ACCOUNT_ID --output infra/analytics_dw-run-worker-policy.json

lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/pip install --quiet -e '.[test]'
	(echo "# Full pinned dependency set (direct pins live in pyproject.toml). Regenerate with: make lock"; \
	 .lockenv/bin/pip freeze --exclude-editable) > requirements.lock
	rm -rf .lockenv

clean:
	rm -rf $(VENV) .dw .dw-demo .pytest_cache .ruff_cache
