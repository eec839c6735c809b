# The two commands of the README: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# `make run` needs the package alone; the test extras (Playwright, grpcio-tools, the deploy
# checkers) are installed by `make test`, and a full install counts for a run too.
RUN_STAMP := $(VENV)/.installed-run

.PHONY: run test test-unit lint install clean protos protos-check cluster test-cluster deploy-tools

# $(call pip_install,SPEC): with uv when it can be had (it downloads and installs wheels in parallel,
# several times faster than pip). The venv is made without pip (ensurepip alone takes seconds) and uv
# is put in it by the system's pip, else by the venv's own; pip installs when uv is missing or fails.
venv_pip = { $(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip >/dev/null; }
pip_install = test -x $(VENV)/bin/uv || $(PYTHON) -m pip --python $(PY) install -q uv 2>/dev/null || \
	{ $(venv_pip) && $(PY) -m pip install -q uv; } || true; \
	if test -x $(VENV)/bin/uv && $(VENV)/bin/uv pip install -q --python $(PY) -e '$(1)'; then :; \
	else $(venv_pip) && $(PY) -m pip install -q -e '$(1)'; fi

$(PY):
	$(PYTHON) -m venv --without-pip $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(call pip_install,.[test])
	@touch $@

$(RUN_STAMP): pyproject.toml | $(PY)
	@if test $(STAMP) -nt pyproject.toml; then :; else $(call pip_install,.); fi
	@touch $@

install: $(STAMP)

# The Python install and the console build do not depend on each other: run them side by side.
run:
	@$(MAKE) --no-print-directory -j2 --output-sync=target $(RUN_STAMP) console
	$(VENV)/bin/one-api --port $${PORT:-3000}

test: $(STAMP) protos-check lint deploy-tools console browser-tools
	$(PY) -m pytest -q

# The house checks itself: ruff (lint and format) and mypy on shared/, master/, slave/ (settings in
# pyproject.toml). `ruff format .` and `ruff check --fix .` mend most of what they report.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The unit tests alone, in seconds: no PostgreSQL, MariaDB, Redis, browser or node processes (a test
# that reaches one of those without its marker fails here; markers are set in tests/conftest.py).
test-unit: $(STAMP)
	TEST_SERVICES=off $(PY) -m pytest -q -m unit -p no:cacheprovider

# tests/deploy checks the compose load balancer's config with haproxy itself (Debian's package).
deploy-tools:
	@command -v haproxy >/dev/null || (apt-get update -qq && apt-get install -y -qq haproxy)

clean:
	rm -rf $(VENV) build *.egg-info

.PHONY: bench
# wrk against the upstream, an nginx hop and the node; installs wrk and nginx from Debian if missing.
bench: $(STAMP)
	@command -v wrk >/dev/null && command -v nginx >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk nginx-light)
	$(PY) -m tests.bench.run

# The control plane's cost against the install's size: 10k / 100k / 1M tokens in PostgreSQL, a master
# and two slaves with and without Redis, 200 req/s open loop, change propagation, a joining slave and
# the master's ingestion ceiling (tests/bench/scale.py; BENCH_SCALE_ARGS="--sizes 10000" etc.).
.PHONY: bench-scale
bench-scale: $(STAMP)
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || (apt-get update -qq && apt-get install -y -qq nginx-light)
	@command -v redis-server >/dev/null || (apt-get update -qq && apt-get install -y -qq redis-server)
	$(PY) -m tests.bench.scale $(BENCH_SCALE_ARGS)

# The cluster protocol: protos/cluster.proto -> shared/cluster/pb/ (imports as shared.cluster.pb).
PROTOC = $(PY) -m grpc_tools.protoc -Ishared/cluster/pb=protos --python_out=$(1) --pyi_out=$(1) --grpc_python_out=$(1) shared/cluster/pb/cluster.proto

protos: $(STAMP)
	$(call PROTOC,.)

# CI: regenerate into a scratch folder and fail if the committed code differs.
protos-check: $(STAMP)
	@tmp=$$(mktemp -d) && $(call PROTOC,$$tmp) && \
	  diff -r -x __init__.py -x __pycache__ $$tmp/shared/cluster/pb shared/cluster/pb && rm -rf $$tmp && \
	  echo "generated protocol code is current"

# A local fleet to try: master, two slaves, haproxy (installed from Debian if missing).
cluster: $(STAMP)
	@command -v haproxy >/dev/null || (apt-get update -qq && apt-get install -y -qq haproxy)
	deploy/cluster.sh

test-cluster: $(STAMP)
	$(PY) -m pytest -q tests/cluster

# Exactly-once under chaos in full: 2,000 requests through haproxy while a slave is SIGKILLed, the
# master restarts and Redis restarts (CI runs the same test at 200). Ledger: results/cluster/.
.PHONY: chaos
chaos: $(STAMP) deploy-tools
	CHAOS_REQUESTS=2000 $(PY) -m pytest -q tests/cluster/test_chaos.py

# The web console: web/ built by npm + vite into web/dist (not committed), rebuilt when a source is
# newer than the build. Needs Node.js >= 20.19 and npm; everything else comes from the npm registry.
.PHONY: console browser-tools
CONSOLE     := web/dist/index.html
CONSOLE_SRC := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.js

web/node_modules/.installed: web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed to build the web console (Node.js >= 20.19)"; exit 1; }
	cd web && npm ci --no-audit --no-fund
	@touch $@

$(CONSOLE): web/node_modules/.installed $(CONSOLE_SRC)
	cd web && npm run build
	@touch $@

console: $(CONSOLE)

# Browser tests drive Debian's chromium with Playwright for Python (Playwright's own browser
# download is not used).
browser-tools: $(STAMP)
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	@# a CJK font, so the zh-CN pages the tests screenshot are readable
	@fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk" || (apt-get update -qq && apt-get install -y -qq fonts-wqy-microhei)
