"""Channel keys out of upstream error text, before it reaches a client or a log line.

An upstream may echo the credential it refused: whole, or masked the way OpenAI's 401 does
("sk-abc12***…wxyz"). Any run of 8 or more characters of the key is replaced, and so is every
`Bearer …` value and every `sk-…` token (whatever key it belongs to: the text is upstream's). The
key is cut into its secret-looking pieces first (multi-part keys such as `AK|SK|region` or a JSON
credential), so punctuation shared with ordinary text never matches.
"""

from __future__ import annotations

import functools
import re
from typing import Any

REDACTED = "[REDACTED]"
FRAGMENT = 8  # the shortest run of a key's characters that counts as a leak
SHORT_PIECE = 6  # a piece shorter than FRAGMENT is matched whole from this length
MAX_KEY_CHARS = 8192  # a longer key is matched on its first MAX_KEY_CHARS characters
# Upstream error text is cut to this before it is scanned: a client needs no more, and the scan runs
# on the event loop (a megabyte of text against a long key would hold it for a visible time).
MAX_TEXT_CHARS = 16 * 1024
CUT = "… [cut]"

_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s\"',;]+")
_SK = re.compile(r"\bsk-[A-Za-z0-9_\-*]{4,}")
_PIECES = re.compile(r"[A-Za-z0-9_\-+/=.~]+")


@functools.lru_cache(maxsize=1024)
def _fragments(key: str) -> frozenset[str]:
    """Every FRAGMENT-long run of the key's pieces (short pieces whole)."""
    out: set[str] = set()
    for piece in _PIECES.findall(key[:MAX_KEY_CHARS]):
        if len(piece) < FRAGMENT:
            if len(piece) >= SHORT_PIECE:
                out.add(piece)
            continue
        out.update(piece[i : i + FRAGMENT] for i in range(len(piece) - FRAGMENT + 1))
    return frozenset(out)


def redact_error(error: Any, key: str) -> Any:
    """An upstream error object (a stream's error event) with its message redacted."""
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return {**error, "message": redact_key(error["message"], key)}
    return error


def redact_key(text: str, key: str) -> str:
    """`text` with `key` (and fragments of it), Bearer values and sk- tokens replaced by REDACTED."""
    if not text:
        return text
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS] + CUT
    text = _SK.sub(REDACTED, _BEARER.sub(rf"\1 {REDACTED}", text))
    fragments = _fragments(key) if key else frozenset()
    spans: list[tuple[int, int]] = []
    for fragment in fragments:
        at = text.find(fragment)
        while at != -1:
            spans.append((at, at + len(fragment)))
            at = text.find(fragment, at + 1)
    if not spans:
        return text
    spans.sort()
    out, cursor, start, end = [], 0, spans[0][0], spans[0][1]
    for s, e in spans[1:]:
        if s <= end:  # overlapping or touching runs are one leaked stretch
            end = max(end, e)
            continue
        out += [text[cursor:start], REDACTED]
        cursor, start, end = end, s, e
    out += [text[cursor:start], REDACTED, text[end:]]
    return "".join(out)
