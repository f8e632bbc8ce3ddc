"""A request that is not a valid protobuf message (truncated, wrong wire types, invalid UTF-8
in a string field) is the caller's mistake: INVALID_ARGUMENT with our code, not gRPC's
UNKNOWN. The deserializer cannot abort a call, so it hands the handler a marker instead."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from core.errors import InvalidInput
from proto.errors import grpc_trailers


@dataclass(frozen=True)
class _Undecodable:
    reason: str


def _tolerant(deserialize: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserialize is None:
        return None

    def parse(data: bytes) -> Any:
        try:
            return deserialize(data)
        except (DecodeError, UnicodeDecodeError, ValueError) as exc:
            return _Undecodable(str(exc)[:200] or type(exc).__name__)

    return parse


async def _refuse(context: grpc.aio.ServicerContext, request: _Undecodable) -> None:
    error = InvalidInput(f"the request is not a valid protobuf message: {request.reason}")
    await context.abort(error.grpc_status, error.message, trailing_metadata=grpc_trailers(error))


def _ours(details: grpc.HandlerCallDetails) -> bool:
    return (details.method or "").startswith("/llmmcp.v1.Core/")


class DecodeErrorInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self) -> None:
        # The tolerant handler made for each method's handler: built once, not per call.
        self._made: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        # Only our own service: its streaming handlers are async generators.
        if handler is None or handler.request_streaming or not _ours(details):
            return handler
        made = self._made.get(details.method)
        if made is not None and made[0] is handler:
            return made[1]
        tolerant = _tolerant_handler(handler)
        self._made[details.method] = (handler, tolerant)
        return tolerant


def _tolerant_handler(handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    """`handler` with a deserializer that hands undecodable requests to _refuse."""
    deserializer = _tolerant(handler.request_deserializer)
    if handler.unary_stream:
        inner_stream = handler.unary_stream

        async def stream(request: Any, context: grpc.aio.ServicerContext) -> Any:
            if isinstance(request, _Undecodable):
                await _refuse(context, request)
                return
            async for item in inner_stream(request, context):
                yield item

        return grpc.unary_stream_rpc_method_handler(
            stream,
            request_deserializer=deserializer,
            response_serializer=handler.response_serializer,
        )
    if handler.unary_unary is None:
        return handler
    inner = handler.unary_unary

    async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
        if isinstance(request, _Undecodable):
            await _refuse(context, request)
            return None
        return await inner(request, context)

    return grpc.unary_unary_rpc_method_handler(
        unary,
        request_deserializer=deserializer,
        response_serializer=handler.response_serializer,
    )
