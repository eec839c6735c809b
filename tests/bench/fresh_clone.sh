#!/usr/bin/env bash
# How long `make run` takes on a fresh clone until the console is served, step by step.
#   tests/bench/fresh_clone.sh [PORT]      (default 3488; the clone goes to a temporary folder)
# Steps, one after the other: the venv, uv + the runtime dependencies, npm ci, the Vite build, the
# node's start until GET / answers 200. Then a real `make run` in a second fresh clone (the Python
# install beside the console build), and a second `make run` there (nothing rebuilt).
# Caches (pip, uv, npm) are used as they are; point PIP_CACHE_DIR, UV_CACHE_DIR and npm_config_cache
# at empty folders for a cold run.
set -euo pipefail
src=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
port=${1:-3488}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
took() { printf '%-32s %6.1f s\n' "$1" "$(echo "$3 - $2" | bc)"; }
served() {  # $1 = pid: until / answers 200 (fails if the process ends first)
  while [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" || true)" != 200 ]; do
    kill -0 "$1" 2>/dev/null || { echo "the node exited; see $work/*.log"; return 1; }
    sleep 0.1
  done
}
stop() { kill -- "-$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true
  while curl -s -o /dev/null "http://127.0.0.1:$port/"; do sleep 0.1; done; }

if curl -s -o /dev/null "http://127.0.0.1:$port/"; then echo "port $port is busy"; exit 1; fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

git clone -q "$src" "$work/steps" && cd "$work/steps"
t0=$(now); make -s .venv/bin/python >"$work/steps.log" 2>&1; t1=$(now); took "venv" "$t0" "$t1"
make -s .venv/.installed-run >>"$work/steps.log" 2>&1; t2=$(now); took "uv + runtime dependencies" "$t1" "$t2"
make -s web/node_modules/.installed >>"$work/steps.log" 2>&1; t3=$(now); took "npm ci" "$t2" "$t3"
make -s console >>"$work/steps.log" 2>&1; t4=$(now); took "vite build" "$t3" "$t4"
setsid .venv/bin/one-api --port "$port" >"$work/node.log" 2>&1 & pid=$!
served "$pid"; t5=$(now); took "node start until / is served" "$t4" "$t5"; stop "$pid"
took "sum of the steps" "$t0" "$t5"

git clone -q "$src" "$work/run" && cd "$work/run"
for attempt in "make run (fresh clone)" "make run again (all current)"; do
  t0=$(now); PORT=$port setsid make run >>"$work/run.log" 2>&1 & pid=$!
  served "$pid"; t1=$(now); took "$attempt" "$t0" "$t1"; stop "$pid"
done
