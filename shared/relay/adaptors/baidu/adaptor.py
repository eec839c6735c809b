"""The Baidu adaptor (channel type 15): OpenAI chat/embeddings <-> ERNIE's wenxinworkshop API,
called with an OAuth access token exchanged from the `client_id|client_secret` key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import orjson

from shared.relay import modes
from shared.relay.adaptors.baidu import convert, token
from shared.relay.adaptors.common import conversion_error, path_segment, unsupported_mode
from shared.relay.adaptors.errors import upstream_error
from shared.relay.types import ConvertedResponse, RelayError, RelayMeta, UpstreamRequest
from shared.relay.upstream import BufferedResponse, UpstreamClient, UpstreamResponse

API_PATH = "/rpc/2.0/ai_custom/v1/wenxinworkshop"


def _json(body: bytes) -> dict[str, Any] | None:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return doc if isinstance(doc, dict) else None


def _token_refused(body: bytes) -> bool:
    doc = _json(body)
    return doc is not None and doc.get("error_code") in convert.TOKEN_ERRORS


class BaiduAdaptor:
    name = "baidu"

    def build_request(self, meta: RelayMeta, body: dict[str, Any] | None, raw: bytes) -> UpstreamRequest:
        if meta.mode not in (modes.CHAT, modes.EMBEDDINGS):
            raise unsupported_mode(meta.mode)
        token.split_key(meta.api_key)  # a malformed key fails before any call
        if body is None:
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise conversion_error("request body is not JSON") from None
            if not isinstance(body, dict):
                raise conversion_error("request body is not a JSON object")
        kind = "embeddings" if meta.mode == modes.EMBEDDINGS else "chat"
        payload = convert.embeddings_request(body) if kind == "embeddings" else convert.chat_request(body, meta.is_stream)
        url = f"{meta.base_url}{API_PATH}/{kind}/{path_segment(convert.endpoint(meta.actual_model))}"
        return UpstreamRequest("POST", url, {"Content-Type": "application/json"}, orjson.dumps(payload))

    async def exchange(self, upstream: UpstreamClient, meta: RelayMeta, request: UpstreamRequest) -> UpstreamResponse:
        """The access token joins the URL at send time: it is fetched (and cached) over the network.
        A token Baidu no longer accepts (revoked, rotated) is dropped and the call made once more
        with a fresh one, so a channel recovers at once instead of failing until the cache expires."""
        for last_try in (False, True):
            access = await token.access_token(meta.base_url, meta.api_key, upstream)
            url = f"{request.url}?{urlencode({'access_token': access})}"
            resp = await upstream.send(UpstreamRequest(request.method, url, request.headers, request.body), request.body or b"")
            if not resp.content_type.startswith("application/json"):
                return resp  # a stream's SSE
            try:
                answer = await resp.read()
            finally:
                resp.close()
            if last_try or not _token_refused(answer):
                return BufferedResponse(resp.status, answer, resp.content_type)
            token.forget(meta.api_key)
        raise AssertionError("unreachable")

    @staticmethod
    def upstream_error(status: int, body: bytes) -> RelayError:
        """Baidu's `{error_code, error_msg}` (a stream answered with JSON carries it with HTTP 200)."""
        doc = _json(body)
        error = convert.error_of(doc) if doc is not None else None
        if error is not None:
            return error
        return upstream_error(status if status >= 400 else 500, body)

    def convert_response(self, meta: RelayMeta, status: int, headers: Mapping[str, str], body: bytes) -> ConvertedResponse:
        try:
            if meta.mode == modes.EMBEDDINGS:
                return convert.embeddings_response(meta, status, body)
            return convert.chat_response(meta, status, body)
        except RelayError as exc:
            if exc.code in convert.TOKEN_ERRORS:
                token.forget(meta.api_key)
            raise

    def stream_converter(self, meta: RelayMeta) -> convert.BaiduStream:
        return convert.BaiduStream(meta)
