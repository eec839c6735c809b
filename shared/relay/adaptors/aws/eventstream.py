"""The AWS event-stream binary framing (application/vnd.amazon.eventstream), decoded incrementally.

A message: total length (4 bytes, big-endian), headers length (4), CRC32 of those 8 bytes (4),
the headers, the payload, CRC32 of everything before it (4). A header: name length (1), name,
value type (1), value. Bedrock's InvokeModelWithResponseStream sends `chunk` events whose JSON
payload carries the model's own stream event base64-encoded in `bytes`, and `exception` messages.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

PRELUDE = 12
MAX_MESSAGE = 16 * 1024 * 1024  # AWS's own cap on one event-stream message
# value type -> fixed size (None: a 2-byte length precedes the value)
_FIXED = {0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}
_STRING, _BYTES = 7, 6


class FramingError(Exception):
    """The bytes are not a valid event stream (bad CRC, impossible length, truncated header)."""


@dataclass
class Message:
    headers: dict[str, str]  # string-valued headers (:event-type, :message-type, …); others skipped
    payload: bytes


def _headers(raw: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    at = 0
    while at < len(raw):
        size = raw[at]
        name = raw[at + 1 : at + 1 + size].decode("utf-8", "replace")
        at += 1 + size
        if at >= len(raw):
            raise FramingError("truncated header")
        kind = raw[at]
        at += 1
        if kind in (_STRING, _BYTES):
            if at + 2 > len(raw):
                raise FramingError("truncated header")
            (length,) = struct.unpack_from(">H", raw, at)
            value = raw[at + 2 : at + 2 + length]
            at += 2 + length
            if kind == _STRING:
                out[name] = value.decode("utf-8", "replace")
        elif kind in _FIXED:
            at += _FIXED[kind]
        else:
            raise FramingError(f"unknown header type {kind}")
        if at > len(raw):
            raise FramingError("truncated header")
    return out


class Decoder:
    """Feed bytes as they arrive; get back the complete messages."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Message]:
        self._buffer += data
        messages = []
        while len(self._buffer) >= PRELUDE:
            total, header_size, prelude_crc = struct.unpack_from(">III", self._buffer)
            if zlib.crc32(self._buffer[:8]) != prelude_crc:
                raise FramingError("prelude checksum mismatch")
            if total > MAX_MESSAGE or total < PRELUDE + header_size + 4:
                raise FramingError(f"impossible message length {total}")
            if len(self._buffer) < total:
                break
            frame = bytes(self._buffer[:total])
            del self._buffer[:total]
            (message_crc,) = struct.unpack_from(">I", frame, total - 4)
            if zlib.crc32(frame[: total - 4]) != message_crc:
                raise FramingError("message checksum mismatch")
            headers = _headers(frame[PRELUDE : PRELUDE + header_size])
            messages.append(Message(headers, frame[PRELUDE + header_size : total - 4]))
        return messages

    @property
    def pending(self) -> int:
        return len(self._buffer)
