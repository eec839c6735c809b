"""Image dimensions from file headers (PNG, JPEG, GIF, WebP: the formats One API decodes).

Only the header is read, never the pixels, so a prefix of the file is enough. `TruncatedImage`
means "give me more bytes"; `ImageFormatError` means the data is not a supported image.
"""

from __future__ import annotations

import base64
import binascii
import struct


class ImageFormatError(ValueError):
    """Not a PNG, JPEG, GIF or WebP header, or a corrupt one."""


class TruncatedImage(ImageFormatError):
    """The header continues past the bytes given."""


_JPEG_SOF_SUPPORTED = {0xC0, 0xC1, 0xC2}  # baseline, extended sequential, progressive (as Go)
_JPEG_SOF_OTHER = {0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_JPEG_NO_LENGTH = {0x01, 0xD8, *range(0xD0, 0xD8)}


def _need(data: bytes, size: int) -> None:
    if len(data) < size:
        raise TruncatedImage("image header truncated")


def _png(data: bytes) -> tuple[int, int]:
    _need(data, 24)
    if data[12:16] != b"IHDR":
        raise ImageFormatError("png: missing IHDR")
    return struct.unpack(">II", data[16:24])


def _gif(data: bytes) -> tuple[int, int]:
    _need(data, 10)
    return struct.unpack("<HH", data[6:10])


def _jpeg(data: bytes) -> tuple[int, int]:
    pos = 2
    while True:
        _need(data, pos + 2)
        if data[pos] != 0xFF:
            raise ImageFormatError("jpeg: missing marker")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        pos += 2
        if marker in _JPEG_NO_LENGTH:
            continue
        if marker == 0xD9:
            raise ImageFormatError("jpeg: no frame header")
        _need(data, pos + 2)
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        if length < 2:
            raise ImageFormatError("jpeg: bad segment length")
        if marker in _JPEG_SOF_SUPPORTED:
            _need(data, pos + 7)
            height, width = struct.unpack(">HH", data[pos + 3 : pos + 7])
            return width, height
        if marker in _JPEG_SOF_OTHER:
            raise ImageFormatError("jpeg: unsupported coding process")
        pos += length


def _webp(data: bytes) -> tuple[int, int]:
    _need(data, 30)
    chunk = data[12:16]
    if chunk == b"VP8 ":
        if data[23:26] != b"\x9d\x01\x2a":
            raise ImageFormatError("webp: bad VP8 start code")
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        if data[20] != 0x2F:
            raise ImageFormatError("webp: bad VP8L signature")
        (bits,) = struct.unpack("<I", data[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    raise ImageFormatError("webp: unknown chunk")


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) read from the start of an image file."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png(data)
    if data.startswith((b"GIF87a", b"GIF89a")):
        return _gif(data)
    if data.startswith(b"\xff\xd8"):
        return _jpeg(data)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return _webp(data)
    if len(data) < 12:
        raise TruncatedImage("image header truncated")
    raise ImageFormatError("image: unknown format")


_PREFIX_CHARS = 64 * 1024  # base64 characters decoded first; headers nearly always fit


def data_url_image_size(url: str) -> tuple[int, int]:
    """Dimensions of a `data:image/...;base64,` URL, decoding only as much as the header needs."""
    marker = url.find(";base64,")
    if not url.startswith("data:image/") or marker < 0:
        raise ImageFormatError("not a base64 image data URL")
    payload = url[marker + len(";base64,") :]
    try:
        if len(payload) > _PREFIX_CHARS:
            try:
                return image_size(base64.b64decode(payload[:_PREFIX_CHARS]))
            except TruncatedImage:
                pass
        return image_size(base64.b64decode(payload))
    except binascii.Error as exc:
        raise ImageFormatError(f"illegal base64 data: {exc}") from exc
