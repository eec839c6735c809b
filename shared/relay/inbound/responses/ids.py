"""The response ids the gateway hands out: the upstream's id sealed with the channel that made it and
the user it belongs to.

Why sealed rather than a map on the node: `GET /v1/responses/{id}` may reach any node of the fleet
(or this one after a restart), and every node can open the id with the shared secret, so it finds
the channel with no shared state and nothing to bound. Why the user: every user of a channel shares
its upstream key, so upstream would show any user's stored response to anyone holding its id; the
gateway answers 404 unless the caller's user made it. AES-SIV is deterministic, so the same upstream
id always seals to the same id (a retrieved response shows the id the client asked for), and any
change to the id fails its tag.
"""

from __future__ import annotations

import base64
import binascii
import functools
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "resp_"
CONVERTED = 0  # the channel id of a response served through chat completions (never stored)
MAX_UPSTREAM_ID = 256  # bytes: longer upstream ids are not sealed (OpenAI's are about 50)
MAX_ID = 512  # characters of an id a client sends; longer ones are not ours
_VERSION = 1
_HEAD = struct.Struct(">BII")  # version, channel id, user id
_AAD = [b"one-api response id v1"]


@dataclass(frozen=True)
class ResponseRef:
    channel_id: int  # CONVERTED for a converted answer
    user_id: int
    upstream_id: str


class ResponseIds:
    def __init__(self, secret: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=64, salt=b"one-api", info=b"response ids").derive(secret.encode())
        self._siv = AESSIV(key)

    def seal(self, ref: ResponseRef) -> str:
        upstream = ref.upstream_id.encode()
        if len(upstream) > MAX_UPSTREAM_ID:
            raise ValueError("upstream response id too long")
        sealed = self._siv.encrypt(_HEAD.pack(_VERSION, ref.channel_id, ref.user_id) + upstream, _AAD)
        return PREFIX + base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()

    def open(self, value: str) -> ResponseRef | None:
        """The reference sealed in `value`, or None for anything this gateway did not issue."""
        if not isinstance(value, str) or not value.startswith(PREFIX) or len(value) > MAX_ID:
            return None
        text = value[len(PREFIX) :]
        try:
            sealed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            plain = self._siv.decrypt(sealed, _AAD)
        except (binascii.Error, ValueError, InvalidTag):
            return None
        if len(plain) < _HEAD.size:
            return None
        version, channel_id, user_id = _HEAD.unpack_from(plain)
        if version != _VERSION:
            return None
        try:
            upstream = plain[_HEAD.size :].decode()
        except UnicodeDecodeError:
            return None
        return ResponseRef(channel_id, user_id, upstream)


@functools.lru_cache(maxsize=4)
def ids_for(secret: str) -> ResponseIds:
    """One sealer per secret (a node has one; tests start several nodes in one process)."""
    return ResponseIds(secret)
