"""Keys derived from CLUSTER_SECRET: one seals snapshots (AES-GCM), one signs gRPC calls (HMAC).

Snapshots carry channel keys, so they are sealed wherever they travel or rest (gRPC without TLS,
Redis). Calls are signed rather than sending the secret: each signature binds one method, one
request body and one nonce, so a listener on a plain-text link learns nothing it can reuse.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

AUTH_HEADER = "x-cluster-auth"
AUTH_WINDOW = 300  # seconds of clock skew tolerated for a signed call (its nonce is kept as long)
_CALL_NONCE = 16  # random bytes per call, sent as hex
_NONCE_TEXT = re.compile(r"[0-9a-f]{32}")
_SEAL_NONCE = 12
_AAD = b"one-api cluster snapshot v1"


@dataclass(frozen=True)
class SignedCall:
    node_id: str
    stamp: int  # unix seconds, as signed
    nonce: str


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
        nonce = os.urandom(_SEAL_NONCE)
        return nonce + self._aead.encrypt(nonce, plaintext, _AAD)

    def unseal(self, sealed: bytes) -> bytes:
        try:
            return self._aead.decrypt(sealed[:_SEAL_NONCE], sealed[_SEAL_NONCE:], _AAD)
        except Exception as exc:  # InvalidTag, short input
            raise SealError("snapshot cannot be opened with this CLUSTER_SECRET") from exc

    def sign_call(self, method: str, node_id: str, body: bytes, now: float | None = None, nonce: str | None = None) -> str:
        """The `x-cluster-auth` value of one call: "<node_id>:<unix seconds>:<nonce>:<hex HMAC>".

        The MAC covers the method, the node id, the time, a fresh nonce and the SHA-256 of the
        serialised request, so a captured value fits no other call and (with the server's nonce
        cache) is refused the second time."""
        stamp = str(int(time.time() if now is None else now))
        nonce = nonce or os.urandom(_CALL_NONCE).hex()
        return f"{node_id}:{stamp}:{nonce}:{self._mac_call(method, node_id, stamp, nonce, body)}"

    def verify_call(self, value: str | None, method: str, body: bytes, now: float | None = None) -> SignedCall | None:
        """The signed call when `value` signs (method, body) with this secret inside the window, else
        None. Replays are the caller's to refuse (see shared.cluster.nonces)."""
        if not value:
            return None
        parts = value.rsplit(":", 3)
        if len(parts) != 4:
            return None
        node_id, stamp, nonce, signature = parts
        if not (stamp.isdigit() and len(stamp) <= 12 and _NONCE_TEXT.fullmatch(nonce)):
            return None
        if abs((time.time() if now is None else now) - int(stamp)) > AUTH_WINDOW:
            return None
        if not hmac.compare_digest(signature, self._mac_call(method, node_id, stamp, nonce, body)):
            return None
        return SignedCall(node_id, int(stamp), nonce)

    def _mac_call(self, method: str, node_id: str, stamp: str, nonce: str, body: bytes) -> str:
        # Newline-joined: none of the parts can hold one (gRPC paths and metadata values cannot).
        text = "\n".join((method, node_id, stamp, nonce, hashlib.sha256(body).hexdigest()))
        return hmac.new(self._mac, text.encode(), hashlib.sha256).hexdigest()
