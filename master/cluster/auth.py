"""Who may call the master's gRPC port: a call signed with the cluster secret over its method and
its exact request bytes, inside the time window, with a nonce never seen before.

The check needs the request as it travelled, which a gRPC interceptor never sees; so the
interceptor swaps each method's handler for one that receives the raw bytes, verifies them and
only then parses them for the servicer. The verified node id reaches the servicer through
`caller()`, since re-reading the metadata there would be a replay of the same nonce.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from typing import Any, NoReturn

import grpc
from google.protobuf.message import DecodeError

from shared.cluster.crypto import AUTH_HEADER, ClusterKeys, SignedCall
from shared.cluster.nonces import NonceCache, Verdict
from shared.logs import get_logger

log = get_logger(__name__)

_CALLER: ContextVar[str] = ContextVar("cluster_caller")


def caller() -> str:
    """The node id of the call being served, as its verified signature names it."""
    return _CALLER.get()


def _header(metadata: Any) -> str | None:
    for key, value in metadata or ():
        if key == AUTH_HEADER:
            return value if isinstance(value, str) else value.decode(errors="replace")
    return None


class CallGuard:
    """Verifies one call; refuses it by aborting the RPC."""

    def __init__(self, keys: ClusterKeys, nonces: NonceCache) -> None:
        self.keys, self.nonces = keys, nonces

    async def admit(self, method: str, raw: bytes, context: grpc.aio.ServicerContext) -> SignedCall:
        call = self.keys.verify_call(_header(context.invocation_metadata()), method, raw)
        if call is None:
            log.warning("cluster call refused: bad, stale or missing signature", method=method)
            await _refuse(context, grpc.StatusCode.UNAUTHENTICATED, "invalid cluster credentials")
        verdict = self.nonces.admit(call)
        if verdict is Verdict.REPLAYED:
            log.warning("cluster call refused: replayed signature", method=method, node_id=call.node_id)
            await _refuse(context, grpc.StatusCode.UNAUTHENTICATED, "invalid cluster credentials")
        if verdict is Verdict.FULL:
            log.warning("cluster call refused: nonce cache full", method=method, cap=self.nonces.cap)
            await _refuse(context, grpc.StatusCode.RESOURCE_EXHAUSTED, "too many cluster calls; retry later")
        return call


async def _refuse(context: grpc.aio.ServicerContext, code: grpc.StatusCode, message: str) -> NoReturn:
    await context.abort(code, message)
    raise AssertionError("ServicerContext.abort returned")  # it raises to end the call


async def _parsed(deserialize: Callable[[bytes], Any] | None, raw: bytes, context: grpc.aio.ServicerContext) -> Any:
    try:
        return raw if deserialize is None else deserialize(raw)
    except DecodeError:
        await _refuse(context, grpc.StatusCode.INVALID_ARGUMENT, "request is not a valid message")


def _guarded(guard: CallGuard, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    """`handler` behind the guard: its request deserializer moves after the signature check."""
    deserialize = handler.request_deserializer
    if handler.unary_unary is not None:
        inner = handler.unary_unary

        async def unary(raw: bytes, context: grpc.aio.ServicerContext) -> Any:
            call = await guard.admit(method, raw, context)
            request = await _parsed(deserialize, raw, context)
            _CALLER.set(call.node_id)
            return await inner(request, context)

        return grpc.unary_unary_rpc_method_handler(unary, None, handler.response_serializer)
    if handler.unary_stream is not None:
        inner_stream = handler.unary_stream

        async def stream(raw: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            call = await guard.admit(method, raw, context)  # the initial request is what is signed
            request = await _parsed(deserialize, raw, context)
            _CALLER.set(call.node_id)
            async for item in inner_stream(request, context):
                yield item

        return grpc.unary_stream_rpc_method_handler(stream, None, handler.response_serializer)
    raise TypeError(f"{method}: the cluster protocol has only unary and server-streaming calls")


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Puts every method of the server behind a CallGuard."""

    def __init__(self, guard: CallGuard) -> None:
        self.guard = guard

    async def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]], details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None:
            return handler
        return _guarded(self.guard, details.method, handler)
