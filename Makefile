# Two set-up commands: `make run` and `make test`. Each creates .venv when missing.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The browser tests drive Debian's Chromium; Playwright's own browser download is never used.
CHROMIUM_PATH ?= /usr/bin/chromium
export CHROMIUM_PATH

# Each Python process keeps the bytecode it compiles (__pycache__, ignored by git) even where the
# environment says not to (PYTHONDONTWRITEBYTECODE=1 on these machines): otherwise every
# pytest-xdist worker, CLI and server subprocess compiles the whole code base and rewrites the
# test modules' asserts again, about 7 CPU seconds each.
unexport PYTHONDONTWRITEBYTECODE

# pytest-xdist workers for `make test` and `make test-fast`. The tests wait on sockets, servers,
# PostgreSQL and the browser as much as they compute, so a few more workers than cores pay.
TEST_WORKERS ?= 4
PYTEST_XDIST := -n $(TEST_WORKERS) --dist worksteal

.PHONY: run test test-fast chromium bench-ledger bench-national bench-load bench-dialogue lint clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/frikort db upgrade
	$(BIN)/frikort demo seed --if-empty
	$(BIN)/frikort serve --host 127.0.0.1 --port 8000

# The fault tests and the load harness (marker slow) time real servers against wall-clock
# bounds and mostly wait: they run in one process beside mypy and the parallel tests, which run
# at the lowest CPU priority so they cannot starve them (scripts/test_all.sh). With PYTEST_ARGS,
# only those tests run, in parallel, after mypy.
test: $(STAMP) chromium
ifeq ($(PYTEST_ARGS),)
	scripts/test_all.sh $(BIN) -- $(PYTEST_XDIST)
else
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_XDIST) $(PYTEST_ARGS)
endif

# The quick loop: every test on SQLite, but the fault and browser tests (markers slow, e2e and
# postgres), Hypothesis on its light profile (tests/profiles.py); no mypy. `make test` (both
# databases, everything) before pushing.
test-fast: $(STAMP)
	HYPOTHESIS_PROFILE=dev $(BIN)/python -m pytest $(PYTEST_XDIST) \
	  -m "not slow and not e2e and not postgres" $(PYTEST_ARGS)

# Installs the Debian package when missing and we are root; otherwise says what to install
# (the browser tests then skip, or fail when CI is set).
chromium:
	@if [ -x "$(CHROMIUM_PATH)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Chromium not found at $(CHROMIUM_PATH); installing the Debian package"; \
	  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } \
	    || echo "Could not install chromium; the browser tests will not run"; \
	else \
	  echo "Chromium not found at $(CHROMIUM_PATH): install it (sudo apt-get install chromium)" \
	    "or set CHROMIUM_PATH; the browser tests skip without it (and fail when CI is set)"; \
	fi

bench-ledger: $(STAMP)
	$(BIN)/python -m benchmarks.ledger

# Generates the national data set (scales 0.1 and 1.0) and times the main operations on it;
# PostgreSQL in a database of its own (NATIONAL_POSTGRES_URL). See docs/national-bench.md;
# e.g. make bench-national BENCH_NATIONAL_ARGS="--backend postgres --scales 0.1,0.5,1.0".
bench-national: $(STAMP)
	$(BIN)/python -m benchmarks.national $(BENCH_NATIONAL_ARGS)

# The load harness (docs/load-bench.md); e.g. make bench-load BENCH_LOAD_ARGS="--db both".
bench-load: $(STAMP)
	$(BIN)/python -m benchmarks.load $(BENCH_LOAD_ARGS)

# 100.000 messages of random realistic conversations against the dialogue (SQLite and
# PostgreSQL); e.g. make bench-dialogue BENCH_DIALOGUE_ARGS="--steps 20000".
bench-dialogue: $(STAMP)
	$(BIN)/python -m benchmarks.dialogue_fuzz --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test $(BENCH_DIALOGUE_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache frikort.db
