"""The cluster link over TLS and mutual TLS: with GRPC_TLS_CLIENT_CA the master accepts only slaves
presenting a certificate that CA signed; the signature check still applies behind it."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from shared.cluster.crypto import ClusterKeys
from shared.cluster.pb import cluster_pb2 as pb
from shared.settings import SettingsError, build_settings
from slave.link import MasterLink
from tests.support.app import running_master
from tests.support.ports import free_port

SECRET = "tls-test-secret"
Pair = tuple[x509.Certificate, ec.EllipticCurvePrivateKey]


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _issue(common: str, issuer: Pair | None, ca: bool) -> Pair:
    """A certificate for `common` signed by `issuer` (self-signed without one); leaves name 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    signer_name, signer_key = (issuer[0].subject, issuer[1]) if issuer else (_name(common), key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common))
        .issuer_name(signer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return builder.sign(signer_key, hashes.SHA256()), key


def _write(folder: Path, name: str, pair: Pair) -> tuple[str, str]:
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    cert.write_bytes(pair[0].public_bytes(serialization.Encoding.PEM))
    key.write_bytes(pair[1].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return str(cert), str(key)


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, str]:
    server_ca, slave_ca, stranger_ca = (_issue(n, None, ca=True) for n in ("server CA", "slave CA", "stranger CA"))
    files = {}
    files["server_ca"], _ = _write(tmp_path, "server-ca", server_ca)
    files["slave_ca"], _ = _write(tmp_path, "slave-ca", slave_ca)
    files["server_cert"], files["server_key"] = _write(tmp_path, "server", _issue("master", server_ca, ca=False))
    files["slave_cert"], files["slave_key"] = _write(tmp_path, "slave", _issue("slave-a", slave_ca, ca=False))
    files["stranger_cert"], files["stranger_key"] = _write(tmp_path, "stranger", _issue("slave-x", stranger_ca, ca=False))
    return files


async def _snapshot_via(port: int, secret: str, **tls: str) -> Any:
    env = {"NODE_TYPE": "slave", "MASTER_ADDR": f"127.0.0.1:{port}", "CLUSTER_SECRET": secret, "NODE_ID": "slave-a", **tls}
    link = MasterLink(build_settings(env), ClusterKeys(secret))
    await link.open()
    try:
        return await link.get_snapshot(pb.SnapshotRequest(node_id="slave-a"), timeout=10)
    finally:
        await link.close()


async def test_mutual_tls_admits_only_slaves_with_a_certificate_from_the_client_ca(sqlite_database: Any, pki: dict[str, str]) -> None:
    port = free_port()
    env = {
        **sqlite_database.env(),
        "CLUSTER_SECRET": SECRET,
        "GRPC_PORT": str(port),
        "GRPC_TLS_CERT": pki["server_cert"],
        "GRPC_TLS_KEY": pki["server_key"],
        "GRPC_TLS_CLIENT_CA": pki["slave_ca"],
    }
    async with running_master(env):
        trusted = {"GRPC_TLS_CA": pki["server_ca"], "GRPC_TLS_CLIENT_CERT": pki["slave_cert"], "GRPC_TLS_CLIENT_KEY": pki["slave_key"]}
        assert (await _snapshot_via(port, SECRET, **trusted)).sealed
        refused = (
            {"GRPC_TLS_CA": pki["server_ca"]},  # no client certificate
            {"GRPC_TLS_CA": pki["server_ca"], "GRPC_TLS_CLIENT_CERT": pki["stranger_cert"], "GRPC_TLS_CLIENT_KEY": pki["stranger_key"]},
            {},  # plain text
        )
        for tls in refused:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await _snapshot_via(port, SECRET, **tls)
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        # A trusted certificate does not replace the cluster secret.
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await _snapshot_via(port, "another-secret", **trusted)
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_tls_settings_that_cannot_work_are_refused_at_start() -> None:
    with pytest.raises(SettingsError, match="GRPC_TLS_CLIENT_CA"):
        build_settings({"GRPC_TLS_CLIENT_CA": "/ca.pem"})
    with pytest.raises(SettingsError, match="GRPC_TLS_CLIENT_KEY"):
        build_settings({"NODE_TYPE": "slave", "GRPC_TLS_CLIENT_CERT": "/slave.pem"})
    with pytest.raises(SettingsError, match="CLUSTER_NONCE_CAP"):
        build_settings({"CLUSTER_NONCE_CAP": "0"})
    assert build_settings({}).grpc_host == "127.0.0.1"
