# Two commands on a fresh clone: `make run` (the whole system, embedded) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean messages vendor

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Translation catalogues (.po → .mo) with a pure-Python compiler: no GNU gettext needed.
messages: $(STAMP)
	$(BIN)/python -m wanxin.web.catalogues

# Browser libraries from the npm registry (Apache ECharts), served from our static files.
vendor:
	bash scripts/ensure_echarts.sh

run: $(STAMP) messages vendor
	$(BIN)/python -m wanxin.launcher

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: $(STAMP) lint messages vendor
	bash scripts/ensure_chromium.sh
	WANXIN_ENV=test WANXIN_LOCAL_SERVICES=1 $(BIN)/pytest $(PYTEST_ARGS)

bench: $(STAMP)
	WANXIN_LOCAL_SERVICES=1 $(BIN)/python -m benchmarks.ledger
	WANXIN_LOCAL_SERVICES=1 $(BIN)/python -m benchmarks.fund_records
	WANXIN_LOCAL_SERVICES=1 $(BIN)/python -m benchmarks.nightly
	WANXIN_LOCAL_SERVICES=1 $(BIN)/python -m benchmarks.http_floor
	WANXIN_LOCAL_SERVICES=1 $(BIN)/python -m benchmarks.hot_loan
	WANXIN_LOCAL_SERVICES=1 $(BIN)/python -m benchmarks.auto_repay
	WANXIN_LOCAL_SERVICES=1 $(BIN)/python -m benchmarks.reconciliation
	WANXIN_LOCAL_SERVICES=1 $(BIN)/python -m benchmarks.allocation_fees
	WANXIN_LOCAL_SERVICES=1 $(BIN)/python -m benchmarks.search

clean:
	rm -rf $(VENV) var
