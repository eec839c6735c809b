"""Keys derived from CLUSTER_SECRET: one seals snapshots (AES-GCM), one signs gRPC calls (HMAC).

Snapshots carry channel keys, so they are sealed wherever they travel or rest (gRPC without TLS,
Redis). Calls are signed rather than sending the secret, so a listener on a plain-text link learns
nothing it can reuse beyond the replay window.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

AUTH_HEADER = "x-cluster-auth"
AUTH_WINDOW = 300  # seconds of clock skew (and replay) tolerated for a signed call
_NONCE = 12
_AAD = b"one-api cluster snapshot v1"


class SealError(ValueError):
    """The sealed bytes were not made with this cluster secret, or are damaged."""


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"one-api cluster", info=purpose).derive(secret.encode())


class ClusterKeys:
    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("CLUSTER_SECRET is empty")
        self._aead = AESGCM(_derive(secret, b"snapshot seal"))
        self._mac = _derive(secret, b"grpc auth")

    def seal(self, plaintext: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, plaintext, _AAD)

    def unseal(self, sealed: bytes) -> bytes:
        try:
            return self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], _AAD)
        except Exception as exc:  # InvalidTag, short input
            raise SealError("snapshot cannot be opened with this CLUSTER_SECRET") from exc

    def _sign(self, node_id: str, stamp: str) -> str:
        return hmac.new(self._mac, f"{node_id}:{stamp}".encode(), hashlib.sha256).hexdigest()

    def auth_value(self, node_id: str, now: float | None = None) -> str:
        stamp = str(int(time.time() if now is None else now))
        return f"{node_id}:{stamp}:{self._sign(node_id, stamp)}"

    def check_auth(self, value: str | None, now: float | None = None) -> str | None:
        """The caller's node id when `value` is a valid signature inside the window, else None."""
        if not value:
            return None
        parts = value.rsplit(":", 2)
        if len(parts) != 3:
            return None
        node_id, stamp, signature = parts
        try:
            age = abs((time.time() if now is None else now) - int(stamp))
        except ValueError:
            return None
        if age > AUTH_WINDOW or not hmac.compare_digest(signature, self._sign(node_id, stamp)):
            return None
        return node_id
