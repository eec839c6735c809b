"""What `make bench-scale` reads off a running node: CPU and RSS from /proc (the node's process and
its children summed), and the bytes the master has sent to its slaves (the master's
`oneapi_cluster_sent_bytes_total` counter when it has one, else the kernel's per-socket `bytes_acked`
of the connections on its gRPC port, as `ss -ti` shows them)."""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

CLK_TCK = os.sysconf("SC_CLK_TCK")
SENT_BYTES_METRIC = "oneapi_cluster_sent_bytes_total"
CONFIG_CPU_METRIC = "oneapi_config_apply_cpu_seconds_total"
_BYTES_ACKED = re.compile(r"\bbytes_acked:(\d+)")


def parse_stat_cpu(stat: str) -> float:
    """User + system CPU seconds from the text of /proc/<pid>/stat.

    The command name (field 2) is in parentheses and may hold spaces or ')', so fields are counted
    from the last ')'; utime and stime are fields 14 and 15 of the file."""
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def parse_status_rss_kb(status: str) -> int:
    """VmRSS in kB from the text of /proc/<pid>/status (0 for a zombie, which has none)."""
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def parse_bytes_acked(ss_output: str) -> int:
    """The sum of `bytes_acked` over every socket in `ss -ti` output."""
    return sum(int(m.group(1)) for m in _BYTES_ACKED.finditer(ss_output))


def parse_counter(metrics_text: str, name: str) -> float | None:
    """The sum of a Prometheus counter's samples (every label set), None when it is absent."""
    values = [
        float(line.rsplit(" ", 1)[1])
        for line in metrics_text.splitlines()
        if line.startswith(name) and (len(line) == len(name) or line[len(name)] in " {")
    ]
    return sum(values) if values else None


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (a node's worker processes), from /proc/<pid>/task/*/children."""
    seen, todo = [], [pid]
    while todo:
        p = todo.pop()
        seen.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children") if Path(f"/proc/{p}").exists() else ():
            try:
                todo.extend(int(c) for c in task.read_text().split())
            except OSError:
                continue
    return seen


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text()
    except OSError:  # the process ended between listing and reading
        return None


def cpu_seconds(pid: int) -> float:
    total = 0.0
    for p in process_tree(pid):
        text = _read(f"/proc/{p}/stat")
        if text is not None:
            total += parse_stat_cpu(text)
    return total


def rss_mb(pid: int) -> float:
    kb = 0
    for p in process_tree(pid):
        text = _read(f"/proc/{p}/status")
        if text is not None:
            kb += parse_status_rss_kb(text)
    return round(kb / 1024, 1)


@dataclass
class CpuWindow:
    """CPU % of one node over a window: start() then percent()."""

    pid: int
    cpu0: float = 0.0
    wall0: float = 0.0

    def start(self) -> CpuWindow:
        self.cpu0, self.wall0 = cpu_seconds(self.pid), time.monotonic()
        return self

    def used(self) -> float:
        return cpu_seconds(self.pid) - self.cpu0

    def percent(self) -> float:
        wall = time.monotonic() - self.wall0
        return round(100 * self.used() / wall, 1) if wall > 0 else 0.0


def config_cpu_seconds(node_url: str) -> float:
    """CPU seconds a slave has spent opening and applying configuration (its own counter)."""
    return parse_counter(httpx.get(node_url + "/metrics", timeout=5).text, CONFIG_CPU_METRIC) or 0.0


class SentBytes:
    """Bytes the master has sent to slaves so far; `source` says how they were counted."""

    def __init__(self, master_url: str, grpc_port: int) -> None:
        self.master_url, self.grpc_port = master_url, grpc_port
        self.source = SENT_BYTES_METRIC if self._metric() is not None else "ss bytes_acked"

    def _metric(self) -> float | None:
        try:
            return parse_counter(httpx.get(self.master_url + "/metrics", timeout=5).text, SENT_BYTES_METRIC)
        except httpx.HTTPError:
            return None

    def read(self) -> float:
        if self.source == SENT_BYTES_METRIC:
            return self._metric() or 0.0
        # Sockets whose local port is the gRPC port are the master's ends: what they sent and had
        # acknowledged went to a slave. A connection that closed takes its count with it.
        out = subprocess.run(
            ["ss", "-tinH", "state", "established", f"( sport = :{self.grpc_port} )"], capture_output=True, text=True, check=True
        ).stdout
        return float(parse_bytes_acked(out))
