"""The fake Replicate prediction API.

POST /v1/models/{owner}/{name}/predictions (Bearer `r8_…` token, `{"input": {"prompt": …}}`)
answers 201 with a prediction whose `urls` point back here: `get` (the prediction: `processing`
on the first poll, `succeeded` on the next), `cancel`, and for language models `stream`, an SSE
stream of `output` events then `done`. Image models and `meta/llama-2-7b` (a model served
without a stream here) have no stream URL and must be polled; images are files under /v1/files/.
Errors are Replicate's problem JSON (`title`, `detail`, `status`)."""

from __future__ import annotations

import asyncio
import itertools
import re
import threading
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.responses import Response, StreamingResponse

from tests.fake_upstream.common import Call, StreamCut

CREATE = re.compile(r"^/v1/models/(?P<owner>[^/]+)/(?P<name>[^/]+)/predictions$")
GET = re.compile(r"^/v1/predictions/(?P<id>[a-z0-9]+)(?P<cancel>/cancel)?$")
STREAM = re.compile(r"^/v1/stream/(?P<id>[a-z0-9]+)$")
FILE = re.compile(r"^/v1/files/(?P<id>[a-z0-9]+)\.png$")
POLLED_ONLY = {"meta/llama-2-7b"}
IMAGE = b"\x89PNG\r\n\x1a\nfake-replicate-image"

ERRORS: dict[str, tuple[int, str, str]] = {
    "500": (500, "Internal Server Error", "Something went wrong"),
    "429": (429, "Request was throttled", "Request was throttled. Your rate limit resets in ~30s."),
    "401": (401, "Unauthenticated", "You did not pass a valid authentication token"),
    "400": (422, "Input validation failed", "- input: prompt is required"),
    "quota": (402, "Insufficient credit", "You have insufficient credit to run this model."),
    "error200": (500, "Internal Server Error", "Something went wrong"),
}

_lock = threading.Lock()
_ids = itertools.count(1)
predictions: dict[str, dict[str, Any]] = {}


def error_response(kind: str, override: str | None = None) -> Response:
    status, title, detail = ERRORS[kind]
    return _problem(status, title, detail if override is None else override)


def _problem(status: int, title: str, detail: str) -> Response:
    body = {"title": title, "detail": detail, "status": status}
    return Response(orjson.dumps(body), status_code=status, media_type="application/problem+json")


def _authorised(call: Call) -> bool:
    auth = call.request.headers.get("authorization", "")
    return auth.startswith("Bearer r8_") and len(auth) > len("Bearer r8_")


def _base(call: Call) -> str:
    return f"{call.request.url.scheme}://{call.request.headers['host']}"


def _public(prediction: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in prediction.items() if not k.startswith("_")}


def create(call: Call, owner: str, name: str) -> Response:
    if not _authorised(call):
        return error_response("401")
    data = call.field("input")
    if not isinstance(data, dict) or not isinstance(data.get("prompt"), str) or not data["prompt"]:
        return error_response("400")
    model = f"{owner}/{name}"
    image = model.startswith(("black-forest-labs/", "stability-ai/", "ideogram-ai/", "recraft-ai/"))
    with _lock:
        pid = f"p{next(_ids):06d}fake"
    base = _base(call)
    urls = {"get": f"{base}/v1/predictions/{pid}", "cancel": f"{base}/v1/predictions/{pid}/cancel"}
    if not image and model not in POLLED_ONLY:
        urls["stream"] = f"{base}/v1/stream/{pid}"
    prediction = {
        "id": pid,
        "model": model,
        "version": "hidden",
        "input": data,
        "logs": "",
        "output": None,
        "error": None,
        "status": "starting",
        "created_at": "2024-01-01T00:00:00.000Z",
        "urls": urls,
        "_image": image,
        "_polls": 0,
        "_words": call.canned.words,
        "_fail": call.kind == "stream_error",
    }
    with _lock:
        predictions[pid] = prediction
    return Response(orjson.dumps(_public(prediction)), status_code=201, media_type="application/json")


def get(call: Call, pid: str, cancel: bool) -> Response:
    if not _authorised(call):
        return error_response("401")
    with _lock:
        prediction = predictions.get(pid)
        if prediction is None:
            return _problem(404, "Not found", "The requested resource could not be found.")
        if cancel:
            prediction["status"] = "canceled"
        elif prediction["status"] not in ("succeeded", "failed", "canceled"):
            prediction["_polls"] += 1
            if prediction["_polls"] == 1:
                prediction["status"] = "processing"
            elif prediction["_fail"]:
                prediction.update(status="failed", error="CUDA out of memory")
            else:
                output = [f"{_base(call)}/v1/files/{pid}.png"] if prediction["_image"] else list(prediction["_words"])
                prediction.update(status="succeeded", output=output, metrics={"predict_time": 0.5})
        return Response(orjson.dumps(_public(prediction)), media_type="application/json")


def stream(call: Call, pid: str) -> Response:
    if not _authorised(call):
        return error_response("401")
    if call.request.headers.get("accept") != "text/event-stream":
        return _problem(406, "Not acceptable", "Accept must be text/event-stream")
    with _lock:
        prediction = predictions.get(pid)
    if prediction is None:
        return _problem(404, "Not found", "The requested resource could not be found.")
    words: list[str] = prediction["_words"]
    fail = prediction["_fail"]
    cut_after = call.behaviour.after if call.kind == "cut" and call.behaviour else None

    async def body() -> AsyncIterator[bytes]:
        for sent, word in enumerate(words):
            if cut_after is not None and sent >= cut_after:
                raise StreamCut()
            if fail and sent == 2:
                yield b'event: error\ndata: {"detail": "CUDA out of memory"}\n\n'
                return
            lines = "".join(f"data: {part}\n" for part in word.split("\n"))
            yield f"event: output\nid: {sent}\n{lines}\n".encode()
            await asyncio.sleep(0)
        yield b"event: done\ndata: {}\n\n"

    return StreamingResponse(body(), media_type="text/event-stream")


def file(call: Call, pid: str) -> Response:
    with _lock:
        known = pid in predictions
    if not known:
        return _problem(404, "Not found", "The requested resource could not be found.")
    return Response(IMAGE, media_type="image/png")


def dispatch(call: Call, path: str) -> Response | None:
    if (match := CREATE.match(path)) and call.request.method == "POST":
        return create(call, match["owner"], match["name"])
    if match := GET.match(path):
        return get(call, match["id"], bool(match["cancel"]))
    if match := STREAM.match(path):
        return stream(call, match["id"])
    if match := FILE.match(path):
        return file(call, match["id"])
    return None


def handles(path: str) -> bool:
    return any(p.match(path) for p in (CREATE, GET, STREAM, FILE))
