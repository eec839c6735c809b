"""The Helm chart renders with Helm's engine, lints clean, every manifest of every values variant
passes `kubernetes-validate --strict`, and deploy/k8s/ holds exactly what the chart renders."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml

from slave.node import FLUSH_TIMEOUT
from tests.deploy.chart import CHART, PLAIN, ROOT, plain_manifests, render

KUBE_VALIDATE = str(Path(sys.executable).parent / "kubernetes-validate")
SECRETS = {"secrets": {"sessionSecret": "s3ssion", "clusterSecret": "clust3r", "sqlDsn": "postgres://u:p@db:5432/oneapi"}}
VARIANTS: dict[str, dict[str, Any]] = {
    "defaults": SECRETS,
    "plain": {"secrets": {"existingSecret": "one-api-secrets"}},
    "no-autoscaling-no-ingress": {
        **SECRETS,
        "slave": {"autoscaling": {"enabled": False}, "replicas": 3},
        "ingress": {"enabled": False},
        "master": {"persistence": {"enabled": False}},
    },
    "tls-and-class": {
        **SECRETS,
        "ingress": {"className": "nginx", "tls": [{"secretName": "one-api-tls", "hosts": ["one-api.example.com"]}]},
    },
}


def docs(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Manifests by kind/name."""
    out = {}
    for text in render(values).values():
        for doc in yaml.safe_load_all(text):
            if doc:
                out[f"{doc['kind']}/{doc['metadata']['name']}"] = doc
    return out


def env_of(deployment: dict[str, Any]) -> dict[str, Any]:
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_chart_lints_clean() -> None:
    report = helm.lint(CHART, SECRETS, strict=True)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_manifest_passes_strict_validation(variant: str, tmp_path: Path) -> None:
    files = []
    for name, text in render(VARIANTS[variant]).items():
        (tmp_path / name).write_text(text)
        files.append(str(tmp_path / name))
    result = subprocess.run([KUBE_VALIDATE, "--strict", *files], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed") == len(files)


def test_strict_validation_rejects_an_unknown_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(render(SECRETS)["slave-service.yaml"].replace("  type: ClusterIP", "  type: ClusterIP\n  tpye: typo"))
    assert subprocess.run([KUBE_VALIDATE, "--strict", str(bad)], capture_output=True).returncode != 0


def test_plain_manifests_match_the_chart() -> None:
    expected = plain_manifests()
    committed = {p.name: p.read_text() for p in PLAIN.glob("*.yaml")}
    assert committed == expected, "deploy/k8s is out of step with the chart: run `.venv/bin/python -m tests.deploy.chart`"


def test_secrets_are_required_unless_an_existing_secret_is_named() -> None:
    with pytest.raises(helm.HelmError, match="secrets.clusterSecret"):
        render({"secrets": {"sessionSecret": "x"}})
    assert "secret.yaml" not in render(VARIANTS["plain"])


def test_master_is_a_single_recreated_pod_with_grpc_and_probes() -> None:
    d = docs(SECRETS)
    master = d["Deployment/one-api-master"]
    assert master["spec"]["replicas"] == 1 and master["spec"]["strategy"] == {"type": "Recreate"}
    container = master["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["resources"]["requests"] and container["resources"]["limits"]
    env = env_of(master)
    assert env["NODE_TYPE"] == "master" and env["SESSION_SECRET"]["secretKeyRef"]["key"] == "SESSION_SECRET"
    ports = {p["name"]: p["port"] for p in d["Service/one-api-master"]["spec"]["ports"]}
    assert ports == {"http": 3000, "grpc": 50051}
    assert d["Secret/one-api"]["stringData"]["SQL_DSN"] == "postgres://u:p@db:5432/oneapi"


def test_slaves_autoscale_drain_and_hold_no_database_credentials() -> None:
    d = docs(SECRETS)
    slave = d["Deployment/one-api-slave"]
    pod = slave["spec"]["template"]["spec"]
    env = env_of(slave)
    assert env["NODE_TYPE"] == "slave" and env["MASTER_ADDR"] == "one-api-master:50051"
    assert not {"SQL_DSN", "LOG_SQL_DSN", "SESSION_SECRET"} & set(env)
    assert "replicas" not in slave["spec"]  # the HPA owns it
    hpa = d["HorizontalPodAutoscaler/one-api-slave"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == "one-api-slave" and hpa["minReplicas"] >= 2
    pdb = d["PodDisruptionBudget/one-api-slave"]["spec"]
    assert pdb["selector"]["matchLabels"] == slave["spec"]["selector"]["matchLabels"]
    # The grace period covers preStop, the HTTP server's graceful drain and the spool flush.
    pre_stop = int(pod["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][1])
    drain = int(re.search(r"timeout_graceful_shutdown=(\d+)", (ROOT / "shared" / "server.py").read_text()).group(1))
    assert pod["terminationGracePeriodSeconds"] >= pre_stop + drain + FLUSH_TIMEOUT
    assert (
        docs({**SECRETS, "slave": {"autoscaling": {"enabled": False}, "replicas": 3}})["Deployment/one-api-slave"]["spec"]["replicas"] == 3
    )


def test_ingress_sends_the_relay_to_slaves_and_the_rest_to_the_master() -> None:
    rule = docs(SECRETS)["Ingress/one-api"]["spec"]["rules"][0]
    routes = {p["path"]: p["backend"]["service"]["name"] for p in rule["http"]["paths"]}
    assert routes == {"/v1": "one-api-slave", "/v1beta": "one-api-slave", "/dashboard/billing": "one-api-slave", "/": "one-api-master"}
    assert rule["host"] == "one-api.example.com"


def test_pods_run_as_non_root_with_a_read_only_root() -> None:
    for name in ("Deployment/one-api-master", "Deployment/one-api-slave"):
        pod = docs(SECRETS)[name]["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True


def test_nodes_believe_forwarded_headers_only_from_the_pod_network() -> None:
    from shared.client_address import parse_networks

    configmap = docs(SECRETS)["ConfigMap/one-api"]["data"]
    networks = parse_networks(configmap["TRUSTED_PROXIES"])
    assert networks and all(net.is_private for net in networks)  # the Ingress controller's pods, never the world
