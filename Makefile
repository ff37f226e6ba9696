# The project's commands. Each sets up .venv on first use.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

JS := tests/integration/js
JS_STAMP := $(JS)/node_modules/.installed

# The TypeScript peers of the benchmarks. An install that fails (no network, no npm) leaves
# no stamp, and the benchmarks report those peers missing instead of stopping.
TS := benchmarks/ts
TS_STAMP := $(TS)/node_modules/.installed

.PHONY: dev example test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

$(JS_STAMP): $(JS)/package.json $(JS)/package-lock.json
	cd $(JS) && npm ci --no-audit --no-fund --loglevel=error
	touch $(JS_STAMP)

$(TS_STAMP): $(TS)/package.json $(TS)/package-lock.json
	(cd $(TS) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed) \
	  || echo "$(TS): npm ci failed; the TypeScript peers will be reported missing"

# `make dev PORT=4000 HOST=0.0.0.0`: passed to `confect dev` (its defaults when not given)
dev: $(STAMP)
	$(VENV)/bin/confect dev examples/notes$(if $(PORT), --port $(PORT))$(if $(HOST), --host $(HOST))

example: $(STAMP)
	$(PY) examples/effects_tour.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check effects confect tests benchmarks examples

typecheck: $(STAMP)
	$(VENV)/bin/pyright

unit: $(STAMP) $(JS_STAMP) $(TS_STAMP)
	$(VENV)/bin/pytest

test: lint typecheck unit

bench: $(STAMP) $(TS_STAMP)
	$(PY) benchmarks/effects_bench.py
	$(PY) benchmarks/confect_bench.py
	$(PY) benchmarks/sqlite_bench.py
	$(PY) benchmarks/server_bench.py
	$(PY) benchmarks/scale_out_bench.py
	$(PY) benchmarks/plots.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis $(JS)/node_modules examples/notes/.confect
	rm -rf $(TS)/node_modules $(TS)/build
