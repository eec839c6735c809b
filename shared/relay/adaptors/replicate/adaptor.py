"""The Replicate adaptor (channel type 46): OpenAI chat and images -> Replicate predictions.

`POST {base}/{owner}/{model}/predictions` creates a prediction (201). Chat then reads the
prediction's stream URL, which serves the tokens as they come, for stream and non-stream requests
alike; a model without a stream is polled until it finishes, and so are image models, whose
output images are downloaded and answered as `b64_json`, as One API answers them. Usage is the
prompt estimate plus the counted reply (One API's rule: Replicate reports no token usage there).
"""

from __future__ import annotations

import asyncio
import base64
import math
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import orjson

from shared.billing import tokenizer
from shared.relay import modes
from shared.relay.adaptors.common import content_text, conversion_error, json_body, listed, now, path_segment, unsupported_mode
from shared.relay.adaptors.replicate.models import MODELS
from shared.relay.adaptors.replicate.sse import ReplicateEvents, ReplicateStream, error_text
from shared.relay.types import ConvertedResponse, RelayError, RelayMeta, UpstreamRequest, Usage
from shared.relay.upstream import BufferedResponse, UpstreamClient, UpstreamResponse, UpstreamUnavailable

DEFAULT_MAX_TOKENS = 500  # One API's default for Replicate chat
POLL_FIRST, POLL_MAX = 0.5, 3.0  # seconds between polls, doubling up to the max
POLL_LIMIT = 600.0  # seconds a prediction may take before the relay gives up and cancels it
MAX_IMAGES = 10
MAX_ERROR_BODY = 64 * 1024
FINISHED = {"succeeded", "failed", "canceled"}


def convert_chat(body: dict[str, Any]) -> dict[str, Any]:
    """Messages -> one prompt of `role: text` lines (system messages -> `system_prompt`)."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise conversion_error("field messages is required")
    lines, system = [], []
    for message in messages:
        if not isinstance(message, dict):
            raise conversion_error("invalid message")
        text = content_text(message.get("content"))
        if message.get("role") == "system":
            system.append(text)
        else:
            lines.append(f"{message.get('role') or 'user'}: {text}")
    data: dict[str, Any] = {"prompt": "\n".join(lines).strip(), "max_tokens": body.get("max_tokens") or DEFAULT_MAX_TOKENS}
    if system:
        data["system_prompt"] = "\n".join(system)
    for key in ("temperature", "top_p", "top_k", "presence_penalty", "frequency_penalty", "seed"):
        if body.get(key) is not None:
            data[key] = body[key]
    stop = body.get("stop")
    if isinstance(stop, str) and stop:
        data["stop_sequences"] = stop
    elif isinstance(stop, list) and stop:
        data["stop_sequences"] = ",".join(s for s in stop if isinstance(s, str))
    return {"input": data, "stream": True}


def aspect_ratio(size: Any) -> str:
    """`1024x768` -> `4:3` (Replicate's image models take a ratio, not a size)."""
    if isinstance(size, str) and "x" in size:
        width, _, height = size.partition("x")
        if width.isdigit() and height.isdigit() and int(width) and int(height):
            w, h = int(width), int(height)
            g = math.gcd(w, h)
            return f"{w // g}:{h // g}"
    return "1:1"


def convert_image(body: dict[str, Any]) -> dict[str, Any]:
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt:
        raise conversion_error("prompt is required")
    data: dict[str, Any] = {"prompt": prompt, "aspect_ratio": aspect_ratio(body.get("size"))}
    data["output_format"] = "png"  # answered as b64_json whatever response_format says, as One API does
    return {"input": data}


def replicate_error(status: int, body: bytes) -> RelayError:
    """Replicate's problem JSON (`{"title", "detail", "status"}`) -> an OpenAI-shaped error."""
    try:
        doc = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        doc = {}
    message = ""
    if isinstance(doc, dict):
        message = str(doc.get("detail") or doc.get("title") or doc.get("error") or "")
    err_type = "authentication_error" if status == 401 else "invalid_request_error" if status in (400, 404, 422) else "upstream_error"
    return RelayError(status, message or f"bad response status code {status}", type=err_type, code="bad_response_status_code")


class Prediction:
    """One prediction's follow-up requests, authorised only towards the API's own hosts."""

    def __init__(self, upstream: UpstreamClient, request: UpstreamRequest, doc: dict[str, Any]) -> None:
        self.upstream = upstream
        self.auth = request.headers.get("Authorization", "")
        self.api_host = urlsplit(request.url).hostname or ""
        self.doc = doc
        urls = doc.get("urls")
        pairs = urls.items() if isinstance(urls, dict) else ()
        self.urls = {k: v for k, v in pairs if isinstance(v, str) and self._trusted(v)}

    def _trusted(self, url: str) -> bool:
        parts = urlsplit(url)
        host = parts.hostname or ""
        return parts.scheme in ("http", "https") and (
            host == self.api_host or (parts.scheme == "https" and host.endswith(".replicate.com"))
        )

    async def get(self, url: str, accept: str = "application/json", auth: bool = True) -> UpstreamResponse:
        headers = {"Accept": accept}
        if auth:
            headers["Authorization"] = self.auth
        return await self.upstream.send(UpstreamRequest("GET", url, headers, None), b"")

    async def read_json(self, url: str) -> dict[str, Any]:
        resp = await self.get(url)
        try:
            body = await resp.read()
        finally:
            resp.close()
        if resp.status != 200:
            raise replicate_error(resp.status, body[:MAX_ERROR_BODY])
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise RelayError(500, f"unmarshal prediction failed: {exc}", code="unmarshal_response_body_failed") from None
        if not isinstance(doc, dict):
            raise RelayError(500, "unexpected prediction", code="unmarshal_response_body_failed")
        return doc

    async def wait(self) -> dict[str, Any]:
        """Poll until the prediction finished; a failure raises, a prediction over the limit is cancelled."""
        doc, delay, deadline = self.doc, POLL_FIRST, time.monotonic() + POLL_LIMIT
        while doc.get("status") not in FINISHED:
            if "get" not in self.urls:
                raise RelayError(500, "prediction has no get url", code="bad_response")
            if time.monotonic() > deadline:
                await self.cancel()
                raise RelayError(504, "prediction did not finish in time", code="prediction_timeout")
            await asyncio.sleep(delay)
            delay = min(delay * 2, POLL_MAX)
            doc = await self.read_json(self.urls["get"])
        if doc["status"] != "succeeded":
            raise RelayError(500, f"prediction {doc['status']}: {error_text(str(doc.get('error') or ''))}", code="prediction_failed")
        return doc

    async def cancel(self) -> None:
        if "cancel" in self.urls:
            try:
                resp = await self.upstream.send(UpstreamRequest("POST", self.urls["cancel"], {"Authorization": self.auth}, b""), b"")
                resp.close()
            except UpstreamUnavailable:
                pass

    async def image(self, url: str) -> str:
        if urlsplit(url).scheme not in ("http", "https"):
            raise RelayError(500, "prediction output is not an image URL", code="bad_response")
        resp = await self.get(url, accept="image/*", auth=False)  # output files need no key
        try:
            data = await resp.read()
        finally:
            resp.close()
        if resp.status != 200:
            raise RelayError(500, f"downloading the image failed: status {resp.status}", code="bad_response")
        return base64.b64encode(data).decode("ascii")


def _output_text(output: Any) -> str:
    if isinstance(output, list):
        return "".join(str(part) for part in output if isinstance(part, str))
    return output if isinstance(output, str) else ""


def _as_events(text: str) -> bytes:
    """A polled answer in the stream's own format, so one converter reads both."""
    data = "".join(f"data: {line}\n" for line in text.split("\n"))
    return f"event: output\n{data}\nevent: done\ndata: {{}}\n\n".encode()


class ReplicateAdaptor:
    name = "replicate"

    def build_request(self, meta: RelayMeta, body: dict[str, Any] | None, raw: bytes) -> UpstreamRequest:
        if meta.mode not in (modes.CHAT, modes.IMAGES):
            raise unsupported_mode(meta.mode)
        if meta.actual_model not in MODELS:
            raise RelayError(
                400, f"model {meta.actual_model} is not supported by Replicate", type="invalid_request_error", code="convert_request_failed"
            )
        body = json_body(body, raw)
        converted = convert_chat(body) if meta.mode == modes.CHAT else convert_image(body)
        owner, _, name = meta.actual_model.partition("/")
        url = f"{meta.base_url}/{path_segment(owner)}/{path_segment(name)}/predictions"
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {meta.api_key}"}
        return UpstreamRequest("POST", url, headers, orjson.dumps(converted))

    async def exchange(self, upstream: UpstreamClient, meta: RelayMeta, request: UpstreamRequest) -> UpstreamResponse:
        resp = await upstream.send(request, request.body or b"")
        try:
            body = await resp.read()
        finally:
            resp.close()
        if resp.status not in (200, 201):
            raise replicate_error(resp.status, body[:MAX_ERROR_BODY])
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise RelayError(500, "prediction answer is not JSON", code="unmarshal_response_body_failed") from None
        if not isinstance(doc, dict):
            raise RelayError(500, "unexpected prediction", code="unmarshal_response_body_failed")
        prediction = Prediction(upstream, request, doc)
        if meta.mode == modes.CHAT:
            if "stream" in prediction.urls:
                stream = await prediction.get(prediction.urls["stream"], accept="text/event-stream")
                if stream.status != 200:
                    try:
                        error_body = (await stream.read())[:MAX_ERROR_BODY]
                    finally:
                        stream.close()
                    raise replicate_error(stream.status, error_body)
                return stream
            done = await prediction.wait()
            return BufferedResponse(200, _as_events(_output_text(done.get("output"))), "text/event-stream")
        done = await prediction.wait()
        output = done.get("output")
        urls = [output] if isinstance(output, str) else [u for u in listed(output) if isinstance(u, str)][:MAX_IMAGES]
        if not urls:
            raise RelayError(500, "prediction returned no image", code="bad_response")
        images = [{"b64_json": await prediction.image(url), "revised_prompt": ""} for url in urls]
        return BufferedResponse(200, orjson.dumps({"created": now(), "data": images}))

    def convert_response(self, meta: RelayMeta, status: int, headers: Mapping[str, str], body: bytes) -> ConvertedResponse:
        """A non-stream chat: the whole event stream, read to its end, as one chat.completion."""
        converter = ReplicateStream(meta)
        for line in body.split(b"\n"):
            for payload in converter.feed(line.removesuffix(b"\r")):
                error = orjson.loads(payload).get("error")
                if error:
                    raise RelayError(500, str(error.get("message") or ""), code="prediction_failed")
        list(converter.finish())
        text = "".join(converter.text_parts)
        completion = tokenizer.count_text(text, meta.actual_model)
        usage = Usage(meta.prompt_tokens, completion, meta.prompt_tokens + completion)
        answer = {
            "id": f"chatcmpl-{now()}",
            "object": "chat.completion",
            "created": now(),
            "model": meta.actual_model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": usage.as_dict(),
        }
        return ConvertedResponse(status=200, body=orjson.dumps(answer), usage=usage, text=text)

    def stream_converter(self, meta: RelayMeta) -> ReplicateStream:
        return ReplicateStream(meta)


__all__ = ["ReplicateAdaptor", "ReplicateEvents"]
