"""Bearer-token check for gRPC, with the same rules as HTTP (see core/auth.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from core.auth import token_matches
from core.errors import Unauthorized
from proto.errors import grpc_trailers

WORKER_METHODS = frozenset(
    {
        "RegisterWorker",
        "ClaimJob",
        "Heartbeat",
        "CompleteJob",
        "CompleteJobs",
        "FailJob",
        "ReportMetrics",
        "ReportBenchmark",
        "ReportProgress",
        "ReportProgresses",
        "MarkDeviceOffline",
    }
)
_SERVICE_PREFIX = "/llmmcp.v1.Core/"


class BearerTokenInterceptor(grpc.aio.ServerInterceptor):
    """Guards llmmcp.v1.Core; health checks and reflection stay open."""

    def __init__(self, *, client_token: str | None, worker_token: str | None) -> None:
        self._client_token = client_token
        self._worker_token = worker_token

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        method = details.method or ""
        if handler is None or not method.startswith(_SERVICE_PREFIX):
            return handler
        name = method[len(_SERVICE_PREFIX) :]
        expected = self._worker_token if name in WORKER_METHODS else self._client_token
        if expected is None:
            return handler
        header = dict(details.invocation_metadata or ()).get("authorization")
        if token_matches(header, expected):
            return handler
        return _deny(handler)


def _deny(handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    async def abort(_request: Any, context: grpc.aio.ServicerContext) -> None:
        denied = Unauthorized("missing or wrong bearer token")
        await context.abort(
            denied.grpc_status, denied.message, trailing_metadata=grpc_trailers(denied)
        )

    if handler.unary_stream:

        async def abort_stream(request: Any, context: grpc.aio.ServicerContext) -> Any:
            await abort(request, context)
            yield  # pragma: no cover - abort raises

        return grpc.unary_stream_rpc_method_handler(
            abort_stream,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
    return grpc.unary_unary_rpc_method_handler(
        abort,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )
