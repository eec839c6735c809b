"""`make bench-scale`: what the cluster's control plane costs as the install grows.

For each install size (default 10,000 / 100,000 / 1,000,000 tokens, a fifth as many users, built in
PostgreSQL by COPY: tests/bench/scale_install.py) and each mode (with Redis, without): a master and
two slaves as real `one-api` processes (tests/cluster/harness.py), an open-loop load of --rate
requests/s over --distinct tokens spread over both slaves against the nginx fake upstream of `make
bench` (tests/bench/run.py), and meanwhile --changes token creations and disables through the
master's /api, each timed until every slave agrees (none started after --seconds; one not seen
within CHANGE_TIMEOUT is reported as such). Printed per size and mode: master and slave CPU % and RSS
over the load window, bytes/s sent master -> slaves, change propagation (median, max); then, with no
load, the bytes and CPU of one change; and a third slave's time from launch to /readyz. Once per
size, with the slaves stopped, synthetic slaves measure the master's ingestion ceiling
(tests/bench/scale_ingest.py). `--seconds 0` runs that ceiling alone (a master, no slaves, no
load). Tables and JSON go to results/bench-scale-<stamp>.md/.json.

Nothing is pinned: the machine has two cores, shared by the nodes, nginx and this driver.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.bench import run as bench_run
from tests.bench.scale_ingest import ingestion_ceiling
from tests.bench.scale_install import bench_key, build_install, database_name, drop_database
from tests.bench.scale_load import drive, time_until
from tests.bench.scale_probe import CpuWindow, SentBytes, config_cpu_seconds, rss_mb
from tests.cluster.harness import ADMIN, SECRET, Node, RedisServer, free_port, master_env, slave_env

ROOT = Path(__file__).resolve().parents[2]
MODES = ("redis", "no-redis")
CHANGE_TIMEOUT = 30.0  # a change not seen on every slave within this is reported as not seen (goal: 1 s)
START_TIMEOUT = 600.0  # a 1,000,000-token node has taken ~30 s to start; leave room
BODY = json.dumps({"model": "bench-json", "messages": [{"role": "user", "content": "Say something."}]}).encode()


@dataclass
class Fleet:
    master: Node
    slaves: list[Node] = field(default_factory=list)
    redis: RedisServer | None = None
    grpc_port: int = 0

    def stop(self) -> None:
        for node in (*self.slaves, self.master):
            node.stop()
        if self.redis is not None:
            self.redis.stop()


def _timed_start(node: Node) -> float:
    started = time.monotonic()
    node.launch().wait(ready=True, timeout=START_TIMEOUT)
    return round(time.monotonic() - started, 2)


def start_fleet(workdir: Path, dsn: str, mode: str, tag: str, batch_interval: int, slaves: int = 2) -> tuple[Fleet, dict[str, float]]:
    redis = RedisServer(workdir).start() if mode == "redis" else None
    redis_env = {"REDIS_CONN_STRING": redis.url} if redis is not None else {}
    grpc_port = free_port()
    master = Node(f"master-{tag}", master_env(dsn, grpc_port, None, **redis_env), workdir)
    fleet = Fleet(master=master, redis=redis, grpc_port=grpc_port)
    starts = {"master_start_s": _timed_start(master)}
    for i in range(1, slaves + 1):
        spool = workdir / f"spool-{tag}-{i}"
        env = slave_env(grpc_port, None, spool, f"scale-{tag}-{i}", BATCH_UPDATE_INTERVAL=str(batch_interval), **redis_env)
        slave = Node(f"slave{i}-{tag}", env, workdir)
        fleet.slaves.append(slave)
        starts[f"slave{i}_start_s"] = _timed_start(slave)
    return fleet, starts


def ensure_channel(master_url: str, upstream_port: int) -> int:
    """The bench channel (model bench-json on the nginx fake upstream); its id."""
    with httpx.Client(base_url=master_url, headers={"Authorization": ADMIN}, timeout=60) as admin:
        for c in admin.get("/api/channel/?p=0").json()["data"] or []:
            if c["name"] == "bench-scale":
                return int(c["id"])
        resp = admin.post(
            "/api/channel/",
            json={
                "name": "bench-scale",
                "type": 1,
                "key": "sk-bench",
                "models": "bench-json",
                "group": "default",
                "base_url": f"http://127.0.0.1:{upstream_port}/json",
            },
        )
        if not resp.json().get("success"):
            raise RuntimeError(f"creating the bench channel failed: {resp.text}")
        return max(int(c["id"]) for c in admin.get("/api/channel/?p=0").json()["data"] if c["name"] == "bench-scale")


async def measure_changes(
    master_url: str, slave_urls: list[str], count: int, spacing: float, budget: float
) -> dict[str, list[float | None]]:
    """Up to `count` times: create a token and time it until every slave accepts it, then disable it
    and time that until every slave refuses it. Times run from the start of the /api call. No new
    round starts after `budget` seconds (a slow master would otherwise stretch the run for long)."""
    created: list[float | None] = []
    disabled: list[float | None] = []
    stop_at = time.monotonic() + budget
    async with httpx.AsyncClient(base_url=master_url, headers={"Authorization": ADMIN}, timeout=CHANGE_TIMEOUT) as admin:
        for i in range(count):
            if created and time.monotonic() > stop_at:
                break
            await asyncio.sleep(spacing)
            since = time.monotonic()
            try:
                resp = await admin.post(
                    "/api/token/",
                    json={
                        "name": f"scale-probe-{i}",
                        "expired_time": -1,
                        "remain_quota": 0,
                        "unlimited_quota": True,
                    },
                )
            except httpx.TimeoutException:  # the master did not answer the write in time: not seen
                created.append(None)
                continue
            token = resp.json()["data"]
            created.append(await time_until(slave_urls, token["key"], True, since, CHANGE_TIMEOUT))
            since = time.monotonic()
            try:
                resp = await admin.put("/api/token/?status_only=true", json={"id": token["id"], "status": 2})
            except httpx.TimeoutException:
                disabled.append(None)
                continue
            if not resp.json().get("success"):
                raise RuntimeError(f"disabling a token failed: {resp.text}")
            disabled.append(await time_until(slave_urls, token["key"], False, since, CHANGE_TIMEOUT))
    return {"created": created, "disabled": disabled}


def _stats(values: list[float | None]) -> dict[str, Any]:
    seen = [v for v in values if v is not None]
    return {
        "n": len(values),
        "median_s": round(statistics.median(seen), 3) if seen else None,
        "max_s": round(max(seen), 3) if seen else None,
        "not_seen": len(values) - len(seen),
    }


async def load_cell(fleet: Fleet, keys: list[str], args: argparse.Namespace) -> dict[str, Any]:
    slave_urls = [s.url for s in fleet.slaves]
    await drive(slave_urls, keys, args.rate, min(3.0, args.seconds), BODY)  # warm: connections, caches
    windows = {"master": CpuWindow(fleet.master.proc.pid).start()}  # type: ignore[union-attr]
    for i, s in enumerate(fleet.slaves, 1):
        windows[f"slave{i}"] = CpuWindow(s.proc.pid).start()  # type: ignore[union-attr]
    sent = SentBytes(fleet.master.url, fleet.grpc_port)
    config0 = [await asyncio.to_thread(config_cpu_seconds, url) for url in slave_urls]
    sent0, wall0 = await asyncio.to_thread(sent.read), time.monotonic()
    spacing = args.seconds / (args.changes + 1) / 2 if args.changes else 0.0
    load, changes = await asyncio.gather(
        drive(slave_urls, keys, args.rate, args.seconds, BODY),
        measure_changes(fleet.master.url, slave_urls, args.changes, spacing, args.seconds),
    )
    wall = time.monotonic() - wall0
    sent_rate = (await asyncio.to_thread(sent.read) - sent0) / wall
    row: dict[str, Any] = {"load": load.summary(), "sent_bytes_per_s": round(sent_rate), "sent_bytes_source": sent.source}
    for name, window in windows.items():
        row[f"{name}_cpu_pct"] = window.percent()
        row[f"{name}_rss_mb"] = rss_mb(window.pid)
    for i, (url, before) in enumerate(zip(slave_urls, config0, strict=True), 1):
        row[f"slave{i}_config_cpu_pct"] = round(100 * (await asyncio.to_thread(config_cpu_seconds, url) - before) / wall, 2)
    row["new_token"] = _stats(changes["created"])
    row["disabled_token"] = _stats(changes["disabled"])
    return row


async def settle(sent: SentBytes, quiet: float = 1.0, limit: float = 30.0) -> bool:
    """Until the master has sent nothing to the slaves for `quiet` seconds (the load's last batches
    applied and pushed): True; False when `limit` seconds passed first."""
    deadline = time.monotonic() + limit
    last = await asyncio.to_thread(sent.read)
    while time.monotonic() < deadline:
        await asyncio.sleep(quiet)
        now = await asyncio.to_thread(sent.read)
        if now == last:
            return True
        last = now
    return False


async def change_cost_cell(fleet: Fleet, changes: int, budget: float) -> dict[str, Any]:
    """The cost of one change with no load: `changes` token creations and as many disables, one at
    a time, each waited for on every slave; bytes sent and CPU of each node per change."""
    sent = SentBytes(fleet.master.url, fleet.grpc_port)
    settled = await settle(sent)
    windows = {"master": CpuWindow(fleet.master.proc.pid).start()}  # type: ignore[union-attr]
    for i, s in enumerate(fleet.slaves, 1):
        windows[f"slave{i}"] = CpuWindow(s.proc.pid).start()  # type: ignore[union-attr]
    sent0 = await asyncio.to_thread(sent.read)
    times = await measure_changes(fleet.master.url, [s.url for s in fleet.slaves], changes, 0.0, budget)
    n = len(times["created"]) + len(times["disabled"])
    row: dict[str, Any] = {"settled": settled, "changes": n, "bytes_per_change": round((await asyncio.to_thread(sent.read) - sent0) / n)}
    for name, window in windows.items():
        row[f"{name}_cpu_ms_per_change"] = round(window.used() * 1000 / n, 1)
    row["idle_new_token"] = _stats(times["created"])
    row["idle_disabled_token"] = _stats(times["disabled"])
    return row


def join_cell(fleet: Fleet, workdir: Path, tag: str, batch_interval: int) -> dict[str, Any]:
    redis_env = {"REDIS_CONN_STRING": fleet.redis.url} if fleet.redis is not None else {}
    env = slave_env(
        fleet.grpc_port, None, workdir / f"spool-{tag}-join", f"scale-{tag}-join", BATCH_UPDATE_INTERVAL=str(batch_interval), **redis_env
    )
    joiner = Node(f"slave-join-{tag}", env, workdir)
    try:
        ready = _timed_start(joiner)
        return {"join_ready_s": ready, "join_rss_mb": rss_mb(joiner.proc.pid)}  # type: ignore[union-attr]
    finally:
        joiner.stop()


def run_size(size: int, args: argparse.Namespace, workdir: Path, upstream_port: int) -> list[dict[str, Any]]:
    dsn, build_s = build_install(size, ADMIN, args.db_tag)
    print(json.dumps({"size": size, "install_built_s": build_s}), flush=True)
    rows: list[dict[str, Any]] = []
    keys = [bench_key(n) for n in range(1, min(args.distinct, size) + 1)]
    try:
        for index, mode in enumerate(args.modes):
            tag = f"{size}-{mode}"
            load = args.seconds > 0
            fleet, starts = start_fleet(workdir, dsn, mode, tag, args.batch_interval, slaves=2 if load else 0)
            try:
                channel_id = ensure_channel(fleet.master.url, upstream_port)
                for s in fleet.slaves:  # the channel reached the slaves: they can relay
                    bench_run.wait_http(s.url + "/readyz", timeout=START_TIMEOUT)
                row: dict[str, Any] = {"tokens": size, "users": max(1, size // 5), "mode": mode, **starts}
                if load:
                    row.update(asyncio.run(load_cell(fleet, keys, args)))
                    if args.changes:
                        row["change_cost"] = asyncio.run(change_cost_cell(fleet, args.changes, args.seconds))
                    row.update(join_cell(fleet, workdir, tag, args.batch_interval))
                if index == 0 and args.ingest_seconds > 0:
                    for s in fleet.slaves:  # the master alone: only the synthetic slaves' batches
                        s.stop()
                    fleet.slaves = []
                    row["ingest"] = asyncio.run(
                        ingestion_ceiling(
                            f"127.0.0.1:{fleet.grpc_port}",
                            SECRET,
                            dsn,
                            args.ingest_slaves,
                            args.ingest_seconds,
                            size,
                            max(1, size // 5),
                            channel_id,
                            CpuWindow(fleet.master.proc.pid),  # type: ignore[union-attr]
                        )
                    )
                rows.append(row)
                print(json.dumps(row), flush=True)
            finally:
                fleet.stop()
    finally:
        if not args.keep_db:
            drop_database(database_name(size, args.db_tag))
    return rows


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _times(stats: dict[str, Any]) -> str:
    """ "median / max (n=…)" of a change timing."""
    if stats["n"] and stats["median_s"] is None:
        return f"none within {CHANGE_TIMEOUT:.0f} s (n={stats['n']})"
    return f"{_cell(stats['median_s'])} / {_cell(stats['max_s'])} (n={stats['n']})"


def markdown(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    loaded = [r for r in rows if "load" in r]  # none with --seconds 0
    lines = (
        [
            f"Load: {args.rate} req/s open loop over {args.distinct} tokens through two slaves, {args.seconds} s; "
            f"up to {args.changes} token creations and disables timed per cell (none started after {args.seconds} s; "
            f"n = how many); BATCH_UPDATE_INTERVAL={args.batch_interval}.",
            "",
            "| tokens | users | mode | achieved req/s | p99 ms | master CPU % | master RSS MB | slave CPU % (1 / 2) | "
            "slave CPU % on configuration (1 / 2) | "
            "slave RSS MB (1 / 2) | master→slaves B/s | new token s (median / max) | disabled token s (median / max) | "
            "join ready s | master start s |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        if loaded
        else ["Ingestion ceiling alone (--seconds 0): no load, no change timings."]
    )
    for r in loaded:
        new, dis = r["new_token"], r["disabled_token"]
        missed = (
            "" if not (new["not_seen"] or dis["not_seen"]) else f" ({new['not_seen']}+{dis['not_seen']} not seen in {CHANGE_TIMEOUT:.0f} s)"
        )
        lines.append(
            f"| {r['tokens']:,} | {r['users']:,} | {r['mode']} | {r['load']['achieved_rps']} | {r['load']['p99_ms']} | "
            f"{r['master_cpu_pct']} | {r['master_rss_mb']} | {r['slave1_cpu_pct']} / {r['slave2_cpu_pct']} | "
            f"{r.get('slave1_config_cpu_pct')} / {r.get('slave2_config_cpu_pct')} | "
            f"{r['slave1_rss_mb']} / {r['slave2_rss_mb']} | {r['sent_bytes_per_s']:,} | "
            f"{_times(new)} | {_times(dis)}{missed} | {r['join_ready_s']} | {r['master_start_s']} |"
        )
    costs = [r for r in rows if "change_cost" in r]
    if costs:
        lines += [
            "",
            "One change with no load (a token created or disabled, waited for on both slaves):",
            "",
            "| tokens | mode | bytes master→slaves per change | master CPU ms per change | slave CPU ms per change (1 / 2) | "
            "new token s (median / max) | disabled token s (median / max) |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in costs:
            c = r["change_cost"]
            new, dis = c["idle_new_token"], c["idle_disabled_token"]
            quiet = "" if c.get("settled", True) else " (load backlog still draining)"
            lines.append(
                f"| {r['tokens']:,} | {r['mode']}{quiet} | {c['bytes_per_change']:,} | {c['master_cpu_ms_per_change']} | "
                f"{c['slave1_cpu_ms_per_change']} / {c['slave2_cpu_ms_per_change']} | "
                f"{_times(new)} | {_times(dis)} |"
            )
    sources = sorted({r["sent_bytes_source"] for r in rows if "sent_bytes_source" in r})
    if sources:
        lines += ["", f"Bytes master→slaves counted by: {', '.join(sources)}."]
    ingest = [r for r in rows if "ingest" in r]
    if ingest:
        lines += [
            "",
            "| tokens | synthetic slaves | seconds | log rows/s | quota deltas/s | master CPU % | master CPU µs/row | exactly once |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in ingest:
            g = r["ingest"]
            lines.append(
                f"| {r['tokens']:,} | {g['synthetic_slaves']} | {g['seconds']} | {g['rows_per_s']} | {g['deltas_per_s']} | "
                f"{g['master_cpu_pct']} | {_cell(g['master_cpu_us_per_row'])} | {'yes' if g['exactly_once'] else 'NO'} |"
            )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--sizes", default="10000,100000,1000000", help="install sizes in tokens, comma-separated")
    p.add_argument("--seconds", type=float, default=30.0, help="load window per size and mode (0: the ingestion ceiling alone)")
    p.add_argument("--rate", type=float, default=200.0, help="requests per second, open loop")
    p.add_argument("--distinct", type=int, default=10_000, help="distinct tokens the load uses")
    p.add_argument("--changes", type=int, default=5, help="token creations (and disables) timed per cell")
    p.add_argument("--no-redis", action="store_true", help="only the mode without Redis")
    p.add_argument("--redis-only", action="store_true", help="only the mode with Redis")
    p.add_argument("--ingest-seconds", type=float, default=20.0, help="ingestion-ceiling run per size (0 skips it)")
    p.add_argument("--ingest-slaves", type=int, default=4, help="synthetic slaves shipping batches")
    p.add_argument("--batch-interval", type=int, default=5, help="the slaves' BATCH_UPDATE_INTERVAL")
    p.add_argument("--keep-db", action="store_true", help="leave the install databases in PostgreSQL")
    p.add_argument("--db-tag", default="", help="suffix of the install databases' names (two benches sharing one PostgreSQL)")
    p.add_argument("--out", default=str(ROOT / "results"))
    args = p.parse_args(argv)
    args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if args.no_redis and args.redis_only:
        p.error("--no-redis and --redis-only exclude each other")
    args.modes = ("no-redis",) if args.no_redis else ("redis",) if args.redis_only else MODES
    if not args.sizes or min(args.sizes) < 1 or args.rate <= 0 or args.distinct < 1 or args.seconds < 0:
        p.error("sizes, rate and distinct must be positive, seconds not negative")
    if args.seconds == 0:
        if args.ingest_seconds <= 0:
            p.error("--seconds 0 runs the ingestion ceiling alone: --ingest-seconds must be positive")
        args.modes = args.modes[:1]  # the ceiling runs in the first mode only
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM (a `kill` of the bench) unwinds like Ctrl-C, so every node, Redis and nginx is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    for tool in ("nginx", "psql", "redis-server", "ss"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            print(f"bench-scale: {tool} is missing (make bench-scale installs nginx)", file=sys.stderr)
            return 2
    bench_run.streams.raise_fd_limit(4096)
    workdir = Path(tempfile.mkdtemp(prefix="oneapi-bench-scale-"))
    workdir.chmod(0o755)  # nginx workers drop to an unprivileged user
    for sub in ("body", "proxy", "fcgi", "uwsgi", "scgi"):
        (workdir / sub).mkdir()
    upstream, hop = free_port(), free_port()
    nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
    nginx = bench_run.subprocess.Popen(
        [nginx_bin, "-p", str(workdir), "-c", str(bench_run.nginx_conf(workdir, upstream, hop)), "-g", "daemon off;"]
    )
    rows: list[dict[str, Any]] = []
    started = time.monotonic()
    try:
        bench_run.wait_http(f"http://127.0.0.1:{hop}/json/v1/chat/completions", timeout=30)
        for size in args.sizes:
            rows.extend(run_size(size, args, workdir, upstream))
    finally:
        nginx.terminate()
        nginx.wait(timeout=30)
        if rows:
            write_results(rows, args, Path(args.out), time.monotonic() - started)
    print(f"bench-scale: logs in {workdir}", file=sys.stderr)
    return 0


def write_results(rows: list[dict[str, Any]], args: argparse.Namespace, out: Path, elapsed: float) -> None:
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"bench-scale-{stamp}.json").write_text(json.dumps(rows, indent=2))
    table = markdown(rows, args) + f"\n\nWhole run: {elapsed / 60:.1f} min.\n"
    (out / f"bench-scale-{stamp}.md").write_text(table)
    print("\n" + table)


if __name__ == "__main__":
    sys.exit(main())
