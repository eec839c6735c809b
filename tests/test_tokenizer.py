"""Prompt-token estimation (docs/one-api-compat.md §6.2): offline tiktoken, message rules, image tokens."""

from __future__ import annotations

import base64
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
import tiktoken

from shared.billing import tokenizer as tk
from shared.billing.imagesize import ImageFormatError, TruncatedImage, data_url_image_size, image_size
from shared.relay import modes
from shared.usercontent import UserContentClient
from tests.test_usercontent import LocalServer, allow_loopback

ROOT = Path(__file__).resolve().parent.parent
TEXT = "Hello, world! 你好，世界。 <|endoftext|>"


@pytest.fixture(autouse=True, scope="module")
def _primed() -> None:
    """Prime tiktoken's cache first, so the direct tiktoken calls below never try to download."""
    tk.warm_up()


OFFLINE_SCRIPT = r"""
import json, os, socket, sys
import tiktoken.load

def no_download(*args, **kwargs):
    raise AssertionError("tiktoken tried to download " + repr(args))

def no_network(*args, **kwargs):
    raise AssertionError("network used")

tiktoken.load.read_file = no_download
socket.socket.connect = no_network
socket.getaddrinfo = no_network

import tiktoken
from shared.billing import tokenizer as tk

out = {
    "gpt-4o": tk.count_text(sys.argv[1], "gpt-4o"),
    "gpt-3.5-turbo": tk.count_text(sys.argv[1], "gpt-3.5-turbo"),
    "is_tiktoken": all(isinstance(tk.encoder_for(m), tiktoken.Encoding) for m in ("gpt-4o", "gpt-4")),
    "cache_dir": os.environ.get("TIKTOKEN_CACHE_DIR"),
    "files": sorted(os.listdir(os.environ["TIKTOKEN_CACHE_DIR"])),
}
print(json.dumps(out))
"""


def _run_offline(env_extra: dict[str, str], tmp_path: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR")}
    env.update({"HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": str(tmp_path / "xdg"), "PYTHONPATH": str(ROOT)})
    env.update(env_extra)
    done = subprocess.run([sys.executable, "-c", OFFLINE_SCRIPT, TEXT], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_tiktoken_works_offline_from_an_empty_cache_dir(tmp_path: Path) -> None:
    cache = tmp_path / "empty-cache"
    cache.mkdir()
    out = _run_offline({"TIKTOKEN_CACHE_DIR": str(cache)}, tmp_path)
    assert out["is_tiktoken"] is True
    assert out["gpt-4o"] == len(tiktoken.get_encoding("o200k_base").encode_ordinary(TEXT)) == 16
    assert out["gpt-3.5-turbo"] == len(tiktoken.get_encoding("cl100k_base").encode_ordinary(TEXT)) == 18
    assert out["cache_dir"] == str(cache)  # the user's folder is kept
    assert out["files"] == sorted(tk.tiktoken_cache_key(e) for e in (tk.CL100K, tk.O200K))


def test_offline_default_cache_folder(tmp_path: Path) -> None:
    out = _run_offline({}, tmp_path)
    assert out["is_tiktoken"] is True
    assert out["cache_dir"] == str(tmp_path / "xdg" / "one-api" / "tiktoken")
    assert len(out["files"]) == 2


def test_cache_dir_choice(tmp_path: Path) -> None:
    env: dict[str, str] = {"XDG_CACHE_HOME": str(tmp_path)}
    assert tk.tiktoken_cache_dir(env) == tmp_path / "one-api" / "tiktoken"
    assert env["TIKTOKEN_CACHE_DIR"] == str(tmp_path / "one-api" / "tiktoken")
    env = {"DATA_GYM_CACHE_DIR": "/data/gym"}
    assert tk.tiktoken_cache_dir(env) == Path("/data/gym") and "TIKTOKEN_CACHE_DIR" not in env
    env = {"TIKTOKEN_CACHE_DIR": "/mine", "DATA_GYM_CACHE_DIR": "/data/gym"}
    assert tk.tiktoken_cache_dir(env) == Path("/mine") and env["TIKTOKEN_CACHE_DIR"] == "/mine"
    env = {"TIKTOKEN_CACHE_DIR": "", "DATA_GYM_CACHE_DIR": "/data/gym"}  # "" would disable tiktoken's cache
    assert tk.tiktoken_cache_dir(env) == Path("/data/gym") and env["TIKTOKEN_CACHE_DIR"] == "/data/gym"


def test_priming_reports_an_unwritable_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert tk.prime_tiktoken_cache({"TIKTOKEN_CACHE_DIR": str(blocker / "sub")}) == {tk.CL100K: False, tk.O200K: False}
    good = {"TIKTOKEN_CACHE_DIR": str(tmp_path / "ok")}
    assert tk.prime_tiktoken_cache(good) == {tk.CL100K: True, tk.O200K: True}
    assert tk.prime_tiktoken_cache(good) == {tk.CL100K: True, tk.O200K: True}  # already there


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-3.5-turbo", "cl100k_base"),
        ("gpt-3.5-turbo-0301", "cl100k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-4-turbo", "cl100k_base"),
        ("gpt-4o", "o200k_base"),
        ("gpt-4o-mini-2024-07-18", "o200k_base"),
        ("o1-mini", "o200k_base"),
        ("o3-mini", "o200k_base"),
        ("chatgpt-4o-latest", "o200k_base"),
        ("text-embedding-3-small", "cl100k_base"),
        ("text-davinci-003", "cl100k_base"),  # p50k is not bundled: default
        ("claude-3-opus-20240229", "cl100k_base"),
        ("whatever", "cl100k_base"),
    ],
)
def test_encoding_choice(model: str, encoding: str) -> None:
    assert tk.encoding_name(model) == encoding


def test_known_token_counts() -> None:
    assert tiktoken.get_encoding("cl100k_base").encode_ordinary("hello world") == [15339, 1917]
    assert tiktoken.get_encoding("o200k_base").encode_ordinary("hello world") == [24912, 2375]
    cases = {
        ("hello world", "gpt-4"): 2,
        ("The quick brown fox jumps over the lazy dog.", "gpt-3.5-turbo"): 10,
        ("你好，世界", "gpt-4"): 6,
        ("你好，世界", "gpt-4o"): 3,
        ("<|endoftext|>", "gpt-4o"): 7,  # special tokens count as plain text, never raise
        ("", "gpt-4"): 0,
    }
    for (text, model), expected in cases.items():
        assert tk.count_text(text, model) == expected
        assert tk.count_text(text, model) == len(tiktoken.get_encoding(tk.encoding_name(model)).encode_ordinary(text))
    assert tk.count_text("bad \ud800 surrogate", "gpt-4") > 0


def test_approximate_count() -> None:
    assert tk.count_text("hello", "gpt-4", approximate=True) == 1  # int(5 * 0.38)
    assert tk.count_text("你好", "gpt-4", approximate=True) == 2  # 6 bytes
    assert tk.count_text("a" * 1000, "gpt-4", approximate=True) == 380


def _enc(text: str, model: str = "gpt-4") -> int:
    return len(tiktoken.get_encoding(tk.encoding_name(model)).encode_ordinary(text))


def test_count_messages_rules() -> None:
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "hello world", "name": "bob"},
    ]
    expected = 3 + _enc("You are terse.") + _enc("system") + 3 + _enc("hello world") + _enc("user") + 1 + _enc("bob") + 3
    assert tk.count_messages_local(messages, "gpt-4") == expected
    old = 4 + _enc("You are terse.") + _enc("system") + 4 + _enc("hello world") + _enc("user") - 1 + _enc("bob") + 3
    assert tk.count_messages_local(messages, "gpt-3.5-turbo-0301") == old
    assert tk.count_messages_local([], "gpt-4") == 3
    assert tk.count_messages_local(None, "gpt-4") == 3
    # Odd shapes never raise: null content, non-dict parts, non-string name.
    odd = [{"role": "user", "content": None, "name": None}, "junk", {"role": "user", "content": [1, {"type": "text"}]}]
    assert tk.count_messages_local(odd, "gpt-4") == 3 + _enc("user") + 3 + _enc("user") + 3


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = zlib.compress(b"".join(b"\x00" + b"\x00" * width for _ in range(height)))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def _data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def _image_message(url: str, detail: str | None = None, text: str = "what is this?") -> list[dict[str, Any]]:
    image: dict[str, Any] = {"url": url}
    if detail is not None:
        image["detail"] = detail
    return [{"role": "user", "content": [{"type": "text", "text": text}, {"type": "image_url", "image_url": image}]}]


@pytest.mark.parametrize(
    ("size", "detail", "model", "image_tokens"),
    [
        ((1024, 1024), None, "gpt-4o", 4 * 170 + 85),  # -> 768x768: 2x2 tiles
        ((1024, 1024), "auto", "gpt-4o", 765),
        ((1024, 1024), "high", "gpt-4o-mini", 4 * 5667 + 2833),
        ((1024, 1024), "low", "gpt-4o", 85),
        ((1024, 1024), "low", "gpt-4o-mini", 2833),
        ((100, 100), "high", "gpt-4o", 170 + 85),
        ((2048, 4096), "high", "gpt-4o", 6 * 170 + 85),  # -> 1024x2048 -> 768x1536: 2x3 tiles
        ((600, 300), "high", "gpt-4-turbo", 2 * 170 + 85),  # no scaling: 2x1 tiles
        ((1024, 1024), "medium", "gpt-4o", 0),  # unknown detail: error, adds 0
    ],
)
def test_image_tokens_from_data_url(size: tuple[int, int], detail: str | None, model: str, image_tokens: int) -> None:
    messages = _image_message(_data_url(_png(*size)), detail)
    base = 3 + _enc("what is this?", model) + _enc("user", model) + 3
    assert tk.count_messages_local(messages, model) == base + image_tokens


def test_image_tokens_for_size_formula() -> None:
    assert tk.image_tokens_for_size(0, 0, "gpt-4o") == 85
    assert tk.image_tokens_for_size(4096, 8192, "gpt-4o") == tk.image_tokens_for_size(1024, 2048, "gpt-4o") == 1105
    assert tk.image_tokens_for_size(513, 512, "gpt-4o-mini") == 2 * 5667 + 2833


def test_bad_images_add_zero() -> None:
    base = tk.count_messages_local(_image_message("data:image/png;base64,AAAA", "low"), "gpt-4o") - 85
    assert tk.count_messages_local(_image_message("data:image/png;base64,!!!not-base64!!!"), "gpt-4o") == base
    assert tk.count_messages_local(_image_message(_data_url(b"GIF89a")), "gpt-4o") == base  # truncated
    assert tk.count_messages_local(_image_message("https://example.com/cat.png"), "gpt-4o") == base  # unresolved remote


def test_image_header_parsers() -> None:
    assert image_size(_png(640, 480)) == (640, 480)
    assert image_size(b"GIF89a" + struct.pack("<HH", 320, 200) + b"\x00" * 8) == (320, 200)
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + b"\x00" * 9
    sof = lambda marker: b"\xff" + marker + struct.pack(">HBHHB", 11, 8, 300, 400, 1) + b"\x01\x11\x00"  # noqa: E731
    assert image_size(b"\xff\xd8" + app0 + sof(b"\xc0")) == (400, 300)
    assert image_size(b"\xff\xd8" + app0 + b"\xff" + sof(b"\xc2")) == (400, 300)  # fill byte, progressive
    with pytest.raises(ImageFormatError):
        image_size(b"\xff\xd8" + app0 + sof(b"\xc3"))  # lossless: unsupported, as in Go
    vp8x = (
        b"RIFF" + b"\x00" * 4 + b"WEBPVP8X" + b"\x0a\x00\x00\x00" + b"\x00" * 4 + (799).to_bytes(3, "little") + (599).to_bytes(3, "little")
    )
    assert image_size(vp8x) == (800, 600)
    bits = (1023) | (767 << 14)
    vp8l = b"RIFF" + b"\x00" * 4 + b"WEBPVP8L" + b"\x00" * 4 + b"\x2f" + struct.pack("<I", bits) + b"\x00" * 5
    assert image_size(vp8l) == (1024, 768)
    vp8 = b"RIFF" + b"\x00" * 4 + b"WEBPVP8 " + b"\x00" * 4 + b"\x00" * 3 + b"\x9d\x01\x2a" + struct.pack("<HH", 640, 360)
    assert image_size(vp8) == (640, 360)
    with pytest.raises(TruncatedImage):
        image_size(b"\x89PNG\r\n\x1a\n\x00")
    with pytest.raises(ImageFormatError):
        image_size(b"BM" + b"\x00" * 40)  # BMP is not decoded by One API either


def test_large_data_url_reads_only_the_header() -> None:
    png = _png(1500, 900)
    url = _data_url(png + b"\x00" * 200_000)
    assert data_url_image_size(url) == (1500, 900)
    with pytest.raises(ImageFormatError):
        data_url_image_size("data:text/plain;base64,AAAA")


async def test_remote_image_sizes_through_the_user_content_client() -> None:
    server = LocalServer()
    await server.start()
    server.routes.update(
        {
            "/cat.png": (200, {"Content-Type": "image/png"}, _png(1024, 1024)),
            "/page": (200, {"Content-Type": "text/html"}, b"<html></html>"),
        }
    )
    try:
        async with UserContentClient(timeout=5, trust_env=False, is_allowed_ip=allow_loopback) as client:
            base = 3 + _enc("what is this?", "gpt-4o") + _enc("user", "gpt-4o") + 3
            got = await tk.count_messages(_image_message(server.url("/cat.png")), "gpt-4o", client=client)
            assert got == base + 765
            # Non-image Content-Type (also a 404 page): 0x0, i.e. 0 tiles -> 85, as One API does.
            assert await tk.count_messages(_image_message(server.url("/page")), "gpt-4o", client=client) == base + 85
            assert await tk.count_messages(_image_message(server.url("/gone")), "gpt-4o", client=client) == base + 85
            # Forbidden address: refused by the client, counts 0.
            refused = await tk.count_messages(_image_message("http://169.254.169.254/x.png"), "gpt-4o", client=client)
            assert refused == base
            # The same URL twice is fetched once; low detail is never fetched.
            two = _image_message(server.url("/cat.png")) + _image_message(server.url("/cat.png"))
            two += _image_message(server.url("/low.png"), "low")
            before = len(server.requests)
            assert await tk.count_messages(two, "gpt-4o", client=client) == 3 * (base - 3) + 3 + 2 * 765 + 85
            assert [r[1] for r in server.requests[before:]] == ["/cat.png", "/cat.png"]  # HEAD + GET
    finally:
        await server.stop()


async def test_no_fetch_without_remote_images() -> None:
    messages = [{"role": "user", "content": "hi"}]
    async with UserContentClient(timeout=5, proxy="http://127.0.0.1:9") as client:  # would fail if used
        assert await tk.count_messages(messages, "gpt-4", client=client) == tk.count_messages_local(messages, "gpt-4")
        data = _image_message(_data_url(_png(100, 100)))
        assert await tk.count_messages(data, "gpt-4o", client=client) == tk.count_messages_local(data, "gpt-4o")
    remote = _image_message("https://example.com/cat.png")
    assert await tk.count_messages(remote, "gpt-4o") == tk.count_messages_local(remote, "gpt-4o")  # no client: 0
    assert tk.remote_image_urls(_image_message(_data_url(_png(1, 1)))) == []


async def test_count_input_and_estimate() -> None:
    assert tk.count_input(modes.COMPLETIONS, {"prompt": "hello world"}, "gpt-3.5-turbo-instruct") == 2
    assert tk.count_input(modes.COMPLETIONS, {"prompt": ["hello world"]}, "gpt-3.5-turbo-instruct") == 0
    assert tk.count_input(modes.MODERATIONS, {"input": "hello world"}, "text-moderation-latest") == 2
    assert tk.count_input(modes.MODERATIONS, {"input": ["a", "b"]}, "text-moderation-latest") == 0
    assert tk.count_input(modes.EMBEDDINGS, {"input": "hello world"}, "text-embedding-3-small") == 0
    assert tk.count_input(modes.EDITS, {"input": "x", "instruction": "y"}, "text-davinci-edit-001") == 0
    assert tk.count_input(modes.COMPLETIONS, {"prompt": "a" * 100}, "gpt-3.5-turbo-instruct", approximate=True) == 38
    chat = {"messages": [{"role": "user", "content": "hello world"}]}
    assert await tk.estimate_prompt_tokens(modes.CHAT, chat, "gpt-4") == 3 + 2 + 1 + 3
    assert await tk.estimate_prompt_tokens(modes.COMPLETIONS, {"prompt": "hello world"}, "gpt-4") == 2


LAZY_SCRIPT = r"""
import asyncio, json, pickle
import tiktoken
from shared.billing import tokenizer as tk

tk.warm_up()
after_warm_up = sorted(tk._encoders._loaded)
asyncio.run(tk.load_encoder("gpt-4o"))
o200k = tiktoken.get_encoding("o200k_base")
print(json.dumps({
    "after_warm_up": after_warm_up,
    "after_gpt_4o": sorted(tk._encoders._loaded),
    "same_object": tk.encoder_for("gpt-4o") is o200k,
    "python_ranks": len(o200k._mergeable_ranks),
    "encode": o200k.encode_ordinary("hello world"),
    "decode": o200k.decode([24912, 2375]),
    "pickled": pickle.loads(pickle.dumps(o200k)).encode_ordinary("hello world"),
}))
"""


def test_o200k_loads_on_first_use_without_its_python_ranks(tmp_path: Path) -> None:
    """warm_up loads the default encoding only (o200k alone is ~45 MB of RSS); the Python copy of
    the ranks is dropped once tiktoken's Rust core has its own, and nothing we use needs it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", LAZY_SCRIPT], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["after_warm_up"] == ["cl100k_base"]
    assert out["after_gpt_4o"] == ["cl100k_base", "o200k_base"]
    assert out["same_object"] is True and out["python_ranks"] == 0
    assert out["encode"] == out["pickled"] == [24912, 2375] and out["decode"] == "hello world"
