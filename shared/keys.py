"""Secrets One API generates: relay token keys, access tokens, aff codes, redemption codes."""

from __future__ import annotations

import hashlib
import secrets
import string
import uuid

_ALNUM = string.digits + string.ascii_letters


def random_alnum(n: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


def uuid_hex() -> str:
    return uuid.uuid4().hex


def generate_token_key() -> str:
    """48 chars: 16 alphanumerics + a UUID's 32 hex chars with even-position letters upper-cased."""
    hex_part = uuid_hex()
    mixed = "".join(c.upper() if i % 2 == 0 and c.isalpha() else c for i, c in enumerate(hex_part))
    return random_alnum(16) + mixed


def key_hash(key: str) -> str:
    """How the relay indexes tokens in memory: a slave never needs the plaintext key."""
    return hashlib.sha256(key.encode()).hexdigest()
