"""Render deploy/helm/one-api with Helm's own engine (the helm-python-sdk package, no helm binary)
and write the plain manifests of deploy/k8s/:  .venv/bin/python -m tests.deploy.chart"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import helm_python as helm

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "one-api"
PLAIN = ROOT / "deploy" / "k8s"
RELEASE = "one-api"
# The plain manifests read their secrets from a Secret the user creates (see deploy/k8s/README.md).
PLAIN_VALUES: dict[str, Any] = {"secrets": {"existingSecret": "one-api-secrets"}}
HEADER = "# Rendered from deploy/helm/one-api by `python -m tests.deploy.chart`; edit the chart, not this file.\n"


def render(values: dict[str, Any]) -> dict[str, str]:
    """Template file name -> rendered manifest, for the manifests that are not empty."""
    out = helm.Chart.load(CHART).render(values=values, name=RELEASE)
    return {Path(name).name: text.strip() + "\n" for name, text in out.items() if name.endswith(".yaml") and text.strip()}


def plain_manifests() -> dict[str, str]:
    return {name: HEADER + text for name, text in render(PLAIN_VALUES).items()}


def write_plain() -> None:
    for old in PLAIN.glob("*.yaml"):
        old.unlink()
    for name, text in plain_manifests().items():
        (PLAIN / name).write_text(text)


if __name__ == "__main__":
    write_plain()
    sys.exit(0)
