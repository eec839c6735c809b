"""Management access tokens (`Authorization: <token>` on /api) are stored hashed.

The console shows a token once, right after `GET /api/user/token` generates it (as One API's
console does), so the plaintext is never needed again: `users.access_token` holds a marker and a
SHA-256 prefix instead. The stored form is exactly 32 characters, so it fits One API's `char(32)`
column unpadded, and a lookup stays one equality on its unique index.

A database carried over from One API holds plaintext tokens; the migration `m0002_sessions`
rewrites each one into its stored form once, so the old token keeps working and is no longer
readable from the table.
"""

from __future__ import annotations

import hashlib

STORED_PREFIX = "h$"  # never in a One API token (32 hex chars), so stored and plain forms cannot be confused
_DIGEST_CHARS = 32 - len(STORED_PREFIX)  # 120 bits of SHA-256: a token is a 122-bit random UUID


def stored_form(token: str) -> str:
    """What the users table keeps for `token`."""
    return STORED_PREFIX + hashlib.sha256(token.encode()).hexdigest()[:_DIGEST_CHARS]


def is_stored_form(value: str) -> bool:
    return value.startswith(STORED_PREFIX) and len(value) == 32
