"""The fake OpenAI-compatible API: OpenAI's (prefix /v1) or OpenRouter's (prefix /api/v1) chat
completions and model list, a real HTTP server on 127.0.0.x with the real wire format: API-key
checks, SSE streams with usage, tool calls (streamed and not) and canned errors such as
`rate_limited`. Run it with `serving(fake)` (see testkit.fakes.server).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from testkit.fakes.server import CannedError, FakeServer, pieces


@dataclass
class FakeOpenAI(FakeServer):
    """OpenAI's (prefix /v1) or OpenRouter's (prefix /api/v1) chat completions API."""

    prefix: str = "/v1"
    api_key: str = "sk-test"
    completion_tokens: int = 7

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(f"{self.prefix}/chat/completions", self.chat, methods=["POST"]),
                Route(f"{self.prefix}/models", self.list_models, methods=["GET"]),
            ]
        )

    def _refused(self, request: Request) -> JSONResponse | None:
        if request.headers.get("authorization") == f"Bearer {self.api_key}":
            return None
        return JSONResponse(
            {
                "error": {
                    "message": "Incorrect API key provided",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
            },
            status_code=401,
        )

    async def list_models(self, request: Request) -> JSONResponse:
        if refused := self._refused(request):
            return refused
        return JSONResponse(
            {"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model", "owned_by": "x"}]}
        )

    @property
    def base_url(self) -> str:
        return f"{self.url}{self.prefix}"

    def _sse(self, model: str, text: str) -> StreamingResponse:
        async def events() -> AsyncIterator[bytes]:
            base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1}
            first = {"role": "assistant", "content": ""}
            yield _sse({**base, "model": model, "choices": [{"index": 0, "delta": first}]})
            for piece in pieces(text):
                delta = {"index": 0, "delta": {"content": piece}, "finish_reason": None}
                yield _sse({**base, "model": model, "choices": [delta]})
            end = {"index": 0, "delta": {}, "finish_reason": "stop"}
            yield _sse({**base, "model": model, "choices": [end]})
            usage = {
                "prompt_tokens": 3,
                "completion_tokens": self.completion_tokens,
                "total_tokens": 3 + self.completion_tokens,
            }
            yield _sse({**base, "model": model, "choices": [], "usage": usage})
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    def _sse_tool_call(self, body: dict[str, Any]) -> StreamingResponse:
        """A streamed tool call as OpenAI sends it: id and name first, arguments in pieces."""
        name = body["tools"][0]["function"]["name"]
        base = {"id": "chatcmpl-3", "object": "chat.completion.chunk", "created": 1}
        model = body["model"]

        def call(delta: dict[str, Any]) -> bytes:
            choice = {"index": 0, "delta": {"tool_calls": [{"index": 0, **delta}]}}
            return _sse({**base, "model": model, "choices": [choice]})

        async def events() -> AsyncIterator[bytes]:
            first = {"role": "assistant", "content": None}
            yield _sse({**base, "model": model, "choices": [{"index": 0, "delta": first}]})
            head = {"id": "call_9", "type": "function", "function": {"name": name, "arguments": ""}}
            yield call(head)
            for piece in ('{"q', 'uery": ', '"now"}'):
                yield call({"function": {"arguments": piece}})
            end = {"index": 0, "delta": {}, "finish_reason": "tool_calls"}
            yield _sse({**base, "model": model, "choices": [end]})
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    async def chat(self, request: Request) -> JSONResponse | StreamingResponse:
        if refused := self._refused(request):
            return refused
        async with self._serving():
            body = await self._record(request)
            if isinstance(body, JSONResponse):
                return body
            last = body["messages"][-1].get("content")
            if body.get("tools") and body["messages"][-1]["role"] == "user":
                if body.get("stream"):
                    return self._sse_tool_call(body)
                return JSONResponse(_tool_call_answer(body))
            if body.get("stream"):
                return self._sse(body["model"], f"re: {last}")
            return JSONResponse(
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": f"re: {last}"},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": 3,
                        "completion_tokens": self.completion_tokens,
                        "total_tokens": 3 + self.completion_tokens,
                    },
                }
            )


def _tool_call_answer(body: dict[str, Any]) -> dict[str, Any]:
    """The model asks to call the first tool (as OpenAI answers with tools offered)."""
    name = body["tools"][0]["function"]["name"]
    call = {"id": "call_1", "type": "function", "function": {"name": name, "arguments": "{}"}}
    return {
        "id": "chatcmpl-2",
        "object": "chat.completion",
        "created": 1,
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": None, "tool_calls": [call]},
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }


def _sse(data: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(data)}\n\n".encode()


def rate_limited(retry_after: int) -> CannedError:
    return CannedError(
        429,
        {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit"}},
        {"Retry-After": str(retry_after)},
    )
