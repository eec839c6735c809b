#!/usr/bin/env bash
# `make cluster`: a local fleet on one machine: master, two slaves, haproxy in front.
# Database and Redis come from the environment (SQL_DSN, REDIS_CONN_STRING; SQLite and no Redis
# when unset). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin/one-api
export CLUSTER_SECRET="${CLUSTER_SECRET:-$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(24))')}"
export MASTER_PORT="${MASTER_PORT:-3000}" SLAVE1_PORT="${SLAVE1_PORT:-3001}" SLAVE2_PORT="${SLAVE2_PORT:-3002}"
export LB_PORT="${LB_PORT:-8080}" GRPC_PORT="${GRPC_PORT:-50051}"
# haproxy reaches the nodes from 127.0.0.1 and appends the client to X-Forwarded-For: believe it.
export TRUSTED_PROXIES="${TRUSTED_PROXIES:-127.0.0.1}"
RUN=.cluster
mkdir -p "$RUN"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait || true; }
trap cleanup EXIT INT TERM

NODE_TYPE=master PORT=$MASTER_PORT "$BIN" --log-dir "$RUN/master" & pids+=($!)
for n in 1 2; do
  port_var="SLAVE${n}_PORT"
  NODE_TYPE=slave PORT=${!port_var} NODE_ID="slave$n" MASTER_ADDR="127.0.0.1:$GRPC_PORT" \
    SPOOL_DIR="$RUN/spool" FRONTEND_BASE_URL="${FRONTEND_BASE_URL:-http://127.0.0.1:$LB_PORT}" \
    "$BIN" --log-dir "$RUN/slave$n" & pids+=($!)
done
haproxy -W -db -f deploy/haproxy.cfg & pids+=($!)

for port in "$MASTER_PORT" "$SLAVE1_PORT" "$SLAVE2_PORT"; do
  for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.5; done
done
cat <<MSG
One API cluster is up:
  load balancer   http://127.0.0.1:$LB_PORT   (console and /api -> master, /v1 -> slaves)
  master          http://127.0.0.1:$MASTER_PORT  (gRPC for slaves on :$GRPC_PORT)
  slaves          http://127.0.0.1:$SLAVE1_PORT  http://127.0.0.1:$SLAVE2_PORT
  log in as root / 123456; Ctrl-C stops the fleet.
MSG
wait -n "${pids[@]}"
