# The two commands of the README: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test install clean protos protos-check cluster test-cluster

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/one-api --port $${PORT:-3000}

test: $(STAMP) protos-check
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) build *.egg-info

.PHONY: bench
# wrk against the upstream, an nginx hop and the node; installs wrk and nginx from Debian if missing.
bench: $(STAMP)
	@command -v wrk >/dev/null && command -v nginx >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk nginx-light)
	$(PY) -m tests.bench.run

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
