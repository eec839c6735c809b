"""`make bench`: the relay's throughput and latency next to a plain nginx proxy hop.

Streams are also sent as Anthropic Messages (`/v1/messages`, converted to the OpenAI stream upstream
and back), with req/s and CPU per answer against the same node's chat-completions row.

An nginx fake upstream answers canned OpenAI chat JSON and a canned 30-chunk SSE stream; wrk (whose
Lua script counts every answer that is not a 200 with the upstream's text as an error) loads the
upstream directly, an nginx proxy hop, the master and a slave fed by it (auth, channel choice,
billing and batched logs all on). The node under test is pinned to CPU 0, wrk and nginx to CPU 1
(and the other node too, while one is measured).
A memory cell holds --streams (default 1,000) slow SSE streams open through each node and reads its
RSS (tests/bench/streams.py), once on the fresh nodes and once after the load cells (whose heap
high-water mark a node keeps). --server hypercorn runs the nodes with HTTP_SERVER=hypercorn.
Results are printed and written as JSON and Markdown under results/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.bench import streams
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
LUA = Path(__file__).with_name("check.lua")
TOKEN = "benchbenchbenchbenchbenchbenchbenchbenchbench0001"  # 48 chars, INITIAL_ROOT_TOKEN
ACCESS = "benchaccesstokenbenchaccesstoken"
CHUNKS = 30


def canned_json() -> str:
    return json.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 1,
            "model": "bench-json",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "bench reply"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
        },
        separators=(",", ":"),
    )


def canned_sse() -> str:
    events = []
    for i in range(CHUNKS):
        chunk = {
            "id": "chatcmpl-bench",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "bench-stream",
            "choices": [{"index": 0, "delta": {"content": f"word{i} "}, "finish_reason": None}],
        }
        events.append("data: " + json.dumps(chunk, separators=(",", ":")) + "\n\n")
    usage = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "bench-stream",
        "choices": [],
        "usage": {"prompt_tokens": 10, "completion_tokens": CHUNKS, "total_tokens": 10 + CHUNKS},
    }
    events.append("data: " + json.dumps(usage, separators=(",", ":")) + "\n\n")
    events.append("data: [DONE]\n\n")
    return "".join(events)


def nginx_conf(workdir: Path, upstream_port: int, hop_port: int) -> Path:
    conf = f"""
worker_processes 1;
worker_rlimit_nofile 16384;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {workdir}/body;
  proxy_temp_path {workdir}/proxy;
  fastcgi_temp_path {workdir}/fcgi;
  uwsgi_temp_path {workdir}/uwsgi;
  scgi_temp_path {workdir}/scgi;
  keepalive_requests 1000000;
  upstream fake {{ server 127.0.0.1:{upstream_port}; keepalive 128; }}
  server {{
    listen 127.0.0.1:{upstream_port};
    root {workdir}/static;
    # POST to a static file is a 405 in nginx; error_page re-serves it as a GET.
    location /json/ {{ default_type application/json; error_page 405 =200 $uri; }}
    location /sse/ {{ default_type text/event-stream; error_page 405 =200 $uri; }}
    {streams.nginx_location()}
  }}
  server {{
    listen 127.0.0.1:{hop_port};
    location / {{
      proxy_pass http://fake;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }}
  }}
}}
"""
    for kind, body in (("json", canned_json()), ("sse", canned_sse()), ("slow", streams.slow_sse())):
        target = workdir / "static" / kind / "v1" / "chat"
        target.mkdir(parents=True, exist_ok=True)
        (target / "completions").write_text(body)
    path = workdir / "nginx.conf"
    path.write_text(conf)
    return path


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def api(port: int, method: str, path: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method=method,
        data=json.dumps(body).encode() if body else None,
        headers={"Authorization": ACCESS, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def rss_mb(pid: int) -> float:
    total = 0
    for p in [pid, *children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return round(total / 1024, 1)


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used so far (from /proc; clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pin(pid: int, cpu: int) -> None:
    """Move a running process, every thread of it, to one CPU.

    A slave's quota batches keep its master busy (log rows into SQLite): on the slave's CPU that
    work would be counted against the slave."""
    subprocess.run(["taskset", "-a", "-pc", str(cpu), str(pid)], check=True, capture_output=True)


def children(pid: int) -> list[int]:
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    except FileNotFoundError:
        return []
    return [int(x) for x in out.split()]


def run_wrk(url: str, conns: int, seconds: int, body: str, token: str, expect: str) -> dict:
    env = {**os.environ, "BENCH_BODY": body, "BENCH_TOKEN": token, "BENCH_EXPECT": expect}
    cmd = ["taskset", "-c", "1", "wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", "-s", str(LUA), url]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60).stdout
    line = next((line for line in out.splitlines() if line.startswith("BENCH_RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    result = json.loads(line.split(" ", 1)[1])
    result["rps"] = round(result["good"] / result["seconds"], 1) if result["seconds"] else 0.0
    result["errors"] = result["bad"] + result["socket_errors"]
    return result


SECRET = "bench-cluster-secret"


def start_slave(workdir: Path, port: int, grpc_port: int, extra_env: dict[str, str]) -> subprocess.Popen:
    """A slave relay fed by the master's gRPC port (no Redis), pinned like the master."""
    env = {
        **os.environ,
        "NODE_TYPE": "slave",
        "MASTER_ADDR": f"127.0.0.1:{grpc_port}",
        "CLUSTER_SECRET": SECRET,
        "NODE_ID": "bench-slave",
        "SPOOL_DIR": str(workdir / "spool"),
        "SQL_DSN": "",
        "REDIS_CONN_STRING": "",
        **extra_env,
    }
    log = open(workdir / f"slave-{port}.log", "w")
    cmd = ["taskset", "-c", "0", str(ROOT / ".venv/bin/one-api"), "--port", str(port), "--log-dir", ""]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    wait_http(f"http://127.0.0.1:{port}/readyz")
    return proc


def start_node(workdir: Path, port: int, upstream_port: int, extra_env: dict[str, str]) -> subprocess.Popen:
    env = {
        **os.environ,
        "SQLITE_PATH": str(workdir / "bench.db"),
        "SQL_DSN": "",
        "INITIAL_ROOT_TOKEN": TOKEN,
        "INITIAL_ROOT_ACCESS_TOKEN": ACCESS,
        "GLOBAL_API_RATE_LIMIT": "0",
        "SESSION_SECRET": "bench",
        "BATCH_UPDATE_ENABLED": "true",
        "BATCH_UPDATE_INTERVAL": "5",
        **extra_env,
    }
    log = open(workdir / f"node-{port}.log", "w")
    cmd = ["taskset", "-c", "0", str(ROOT / ".venv/bin/one-api"), "--port", str(port), "--log-dir", ""]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    wait_http(f"http://127.0.0.1:{port}/api/status")
    for name, model in (("json", "bench-json"), ("sse", "bench-stream"), ("slow", "bench-slow")):
        api(
            port,
            "POST",
            "/api/channel/",
            {
                "name": f"bench-{name}",
                "type": 1,
                "key": "sk-bench",
                "models": model,
                "group": "default",
                "base_url": f"http://127.0.0.1:{upstream_port}/{name}",
            },
        )
    return proc


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", "10")))
    parser.add_argument("--out", default=str(ROOT / "results"))
    parser.add_argument(
        "--streams",
        type=int,
        default=int(os.environ.get("BENCH_STREAMS", "1000")),
        help="open SSE streams held through each node while its RSS is read (0 skips the cell)",
    )
    parser.add_argument(
        "--server", choices=("uvicorn", "hypercorn"), default=os.environ.get("BENCH_HTTP_SERVER", "uvicorn"), help="the nodes' HTTP_SERVER"
    )
    args = parser.parse_args()
    for tool in ("wrk", "nginx", "taskset"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            print(f"bench: {tool} is missing (make bench installs it)", file=sys.stderr)
            return 2
    # Each open stream holds two sockets in the node and one in nginx and the client; children inherit.
    fd_limit = streams.raise_fd_limit(2 * args.streams + 512)
    if fd_limit < 2 * args.streams + 256:
        print(f"bench: RLIMIT_NOFILE {fd_limit} is too low for {args.streams} streams", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="oneapi-bench-"))
    workdir.chmod(0o755)  # nginx workers drop to an unprivileged user
    for sub in ("body", "proxy", "fcgi", "uwsgi", "scgi"):
        (workdir / sub).mkdir()
    up, hop, node_port, slave_port, grpc_port = free_port(), free_port(), free_port(), free_port(), free_port()
    nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
    nginx = subprocess.Popen(
        ["taskset", "-c", "1", nginx_bin, "-p", str(workdir), "-c", str(nginx_conf(workdir, up, hop)), "-g", "daemon off;"]
    )
    node = slave = None
    rows: list[dict] = []
    server_env = {"HTTP_SERVER": args.server}
    try:
        time.sleep(0.3)
        node = start_node(workdir, node_port, up, {"CLUSTER_SECRET": SECRET, "GRPC_PORT": str(grpc_port), **server_env})
        slave = start_slave(workdir, slave_port, grpc_port, server_env)
        # (row name, base URL, path, token, node measured or None, client format)
        targets = [
            ("upstream", f"http://127.0.0.1:{up}", "/{kind}/v1/chat/completions", "", None, "chat"),
            ("nginx hop", f"http://127.0.0.1:{hop}", "/{kind}/v1/chat/completions", "", None, "chat"),
            ("master", f"http://127.0.0.1:{node_port}", "/v1/chat/completions", TOKEN, "master", "chat"),
            ("slave", f"http://127.0.0.1:{slave_port}", "/v1/chat/completions", TOKEN, "slave", "chat"),
        ]
        # Anthropic Messages in, converted to the OpenAI stream upstream and back (streams only).
        messages_targets = [
            ("master /v1/messages", f"http://127.0.0.1:{node_port}", "/v1/messages", TOKEN, "master", "messages"),
            ("slave /v1/messages", f"http://127.0.0.1:{slave_port}", "/v1/messages", TOKEN, "slave", "messages"),
        ]
        pids = {"master": node.pid, "slave": slave.pid}
        idle = {name: rss_mb(pid) for name, pid in pids.items()}
        slow = json.dumps({"model": "bench-slow", "stream": True, "messages": [{"role": "user", "content": "Say something."}]})

        def streams_cell(phase: str) -> None:
            for name, port in (("master", node_port), ("slave", slave_port)):
                before = rss_mb(pids[name])
                held = streams.hold_streams(port, slow, TOKEN, args.streams, lambda pid=pids[name]: rss_mb(pid))
                row = {
                    "target": name,
                    "cell": "open streams",
                    "phase": phase,
                    "server": args.server,
                    "streams": args.streams,
                    "rss_idle_mb": idle[name],
                    "rss_before_mb": before,
                    **held,
                }
                rows.append(row)
                print(json.dumps(row), flush=True)

        if args.streams > 0:
            streams_cell("fresh")
        for stream in (False, True) if args.seconds > 0 else ():  # --seconds 0: the streams cell only
            kind, model = ("sse", "bench-stream") if stream else ("json", "bench-json")
            bodies = {
                "chat": json.dumps({"model": model, "stream": stream, "messages": [{"role": "user", "content": "Say something."}]}),
                "messages": json.dumps(
                    {"model": model, "max_tokens": 256, "stream": stream, "messages": [{"role": "user", "content": "Say something."}]}
                ),
            }
            expect = "word29" if stream else "bench reply"
            for conns in (1, 50):
                hop_rps = None
                chat_rows: dict[str, dict] = {}
                for name, base, path, token, node_name, client in targets + (messages_targets if stream else []):
                    if node_name is not None:  # the node under test alone on CPU 0; the other one beside wrk
                        for other, pid in pids.items():
                            pin(pid, 0 if other == node_name else 1)
                    cpu_before = cpu_seconds(pids[node_name]) if node_name is not None else 0.0
                    result = run_wrk(base + path.format(kind=kind), conns, args.seconds, bodies[client], token, expect)
                    # CPU per answer: what the node spends, steadier than req/s when the machine is busy.
                    cpu_us = (
                        round((cpu_seconds(pids[node_name]) - cpu_before) * 1e6 / result["good"])
                        if node_name is not None and result["good"]
                        else None
                    )
                    if name == "nginx hop":
                        hop_rps = result["rps"]
                    row = {
                        "target": name,
                        "stream": stream,
                        "connections": conns,
                        "rps": result["rps"],
                        "p50_ms": round(result["p50_us"] / 1000, 3),
                        "p99_ms": round(result["p99_us"] / 1000, 3),
                        "errors": result["errors"],
                        "ratio_to_hop": round(result["rps"] / hop_rps, 3) if hop_rps else None,
                        "rss_mb": rss_mb(pids[node_name]) if node_name is not None else None,
                        "server": args.server,
                        "cpu_us_per_request": cpu_us,
                    }
                    if node_name is not None and client == "chat":
                        chat_rows[node_name] = row
                    elif node_name is not None and node_name in chat_rows:  # against the same node's chat row
                        chat = chat_rows[node_name]
                        row["rps_vs_chat"] = round(row["rps"] / chat["rps"], 3) if chat["rps"] else None
                        row["cpu_vs_chat"] = (
                            round(cpu_us / chat["cpu_us_per_request"], 3) if cpu_us and chat["cpu_us_per_request"] else None
                        )
                    rows.append(row)
                    print(json.dumps(row), flush=True)
        if args.streams > 0 and args.seconds > 0:
            streams_cell("after load")
    finally:
        for proc in (slave, node, nginx):
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
    write_results(rows, Path(args.out))
    return 0


def write_results(rows: list[dict], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"bench-{stamp}.json").write_text(json.dumps(rows, indent=2))
    lines = [
        "| target | stream | c | req/s | p50 ms | p99 ms | errors | ratio to hop | node CPU µs/req | node RSS MB | req/s, CPU vs chat |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r.get("cell") == "open streams":
            continue
        vs_chat = f"{r['rps_vs_chat']} / {r['cpu_vs_chat']}" if "rps_vs_chat" in r else ""
        lines.append(
            f"| {r['target']} | {'yes' if r['stream'] else 'no'} | {r['connections']} | {r['rps']} | {r['p50_ms']} | "
            f"{r['p99_ms']} | {r['errors']} | {r['ratio_to_hop'] if r['ratio_to_hop'] is not None else ''} | "
            f"{r['cpu_us_per_request'] if r['cpu_us_per_request'] is not None else ''} | "
            f"{r['rss_mb'] if r['rss_mb'] is not None else ''} | "
            f"{vs_chat} |"
        )
    held = [r for r in rows if r.get("cell") == "open streams"]
    if held:
        n = held[0]["streams"]
        lines += [
            "",
            f"| node ({held[0]['server']}) | RSS MB idle | RSS MB with {n} open streams | RSS MB after the load cells | "
            f"RSS MB with {n} open streams after load | seconds to open all | failed |",
            "|---|---|---|---|---|---|---|",
        ]
        for target in ("master", "slave"):
            by_phase = {r["phase"]: r for r in held if r["target"] == target}
            fresh, loaded = by_phase.get("fresh"), by_phase.get("after load")
            if fresh is None:
                continue

            def mb(r: dict | None) -> str:
                return "" if r is None else str(r.get("rss_mb", "not all open"))

            cells = [r for r in (fresh, loaded) if r is not None]
            lines.append(
                f"| {target} | {fresh['rss_idle_mb']} | {mb(fresh)} | {loaded['rss_before_mb'] if loaded else ''} | {mb(loaded)} | "
                f"{' / '.join(str(r['ready_s']) for r in cells)} | {' / '.join(str(r['failed']) for r in cells)} |"
            )
    table = "\n".join(lines)
    (out / f"bench-{stamp}.md").write_text(table + "\n")
    print("\n" + table)


if __name__ == "__main__":
    sys.exit(main())
