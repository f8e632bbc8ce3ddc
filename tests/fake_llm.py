"""Fake Ollama and OpenAI-compatible servers: real HTTP servers on 127.0.0.x speaking the
documented wire formats (Ollama /api/generate, /api/chat, /api/embed(dings), /api/tags,
/api/show, /api/ps, /api/pull, /api/version; OpenAI /chat/completions), including their error
answers, tool calls (streamed and not) and Ollama's `name` = `name:latest`.

Each records the requests it got and how many it was serving at once, so tests can check
what a user's device would have seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route


@dataclass
class CannedError:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeServer:
    host: str
    port: int = 0
    requests: list[tuple[str, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    errors: list[CannedError] = field(default_factory=list)
    delay: float = 0.0
    # When set, requests wait for it (a test holds the device busy, then frees it).
    gate: asyncio.Event | None = None
    in_flight: int = 0
    max_in_flight: int = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @contextlib.asynccontextmanager
    async def _serving(self) -> AsyncIterator[None]:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.gate is not None:
                await self.gate.wait()
            if self.delay:
                await asyncio.sleep(self.delay)  # the fake's own simulated work
            yield
        finally:
            self.in_flight -= 1

    async def _record(self, request: Request) -> dict[str, Any] | JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "invalid JSON"}, status_code=400)
        self.requests.append((request.url.path, body, dict(request.headers)))
        if self.errors:
            canned = self.errors.pop(0)
            return JSONResponse(canned.body, status_code=canned.status, headers=canned.headers)
        return body


def pieces(text: str) -> list[str]:
    """The text in small chunks, as a model streams tokens (whitespace kept with words)."""
    out: list[str] = []
    for word in text.split(" "):
        out.append((" " if out else "") + word)
    return [p for p in out if p]


@dataclass
class FakeOllama(FakeServer):
    models: list[str] = field(default_factory=lambda: ["llama3.2:1b"])
    tps: float = 50.0
    eval_count: int = 20
    # Wraps answers as a thinking model does: "<think>…</think>\n" before the answer.
    thinking: str | None = None
    # Seconds between streamed chunks.
    chunk_delay: float = 0.0
    # This many upcoming streams break off after 3 chunks (the runner died mid-answer).
    cut_streams: int = 0
    # Models held in memory, as /api/ps lists them.
    loaded: list[str] = field(default_factory=list)
    # What /api/pull can fetch ("registry"); a pulled model joins `models`.
    pullable: list[str] = field(default_factory=list)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/generate", self.generate, methods=["POST"]),
                Route("/api/chat", self.chat, methods=["POST"]),
                Route("/api/embeddings", self.embeddings, methods=["POST"]),
                Route("/api/embed", self.embed, methods=["POST"]),
                Route("/api/tags", self.tags, methods=["GET"]),
                Route("/api/version", self.version, methods=["GET"]),
                Route("/api/show", self.show, methods=["POST"]),
                Route("/api/ps", self.ps, methods=["GET"]),
                Route("/api/pull", self.pull, methods=["POST"]),
            ]
        )

    def has(self, name: Any) -> str | None:
        """The listed name `name` means (Ollama adds :latest to an untagged name)."""
        if not isinstance(name, str):
            return None
        tagged = name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"
        for listed in self.models:
            if listed == name or listed == tagged or f"{listed}:latest" == tagged:
                return listed
        return None

    def answer_text(self, prompt: str) -> str:
        text = f"echo: {prompt}"
        if self.thinking is not None:
            text = f"<think>{self.thinking}</think>\n{text}"
        return text

    def _stats(self, prompt: str) -> dict[str, Any]:
        eval_ns = int(self.eval_count / self.tps * 1e9)
        return {
            "done": True,
            "done_reason": "stop",
            "total_duration": eval_ns + 5_000_000,
            "load_duration": 1_000_000,
            "prompt_eval_count": len(prompt.split()),
            "prompt_eval_duration": 2_000_000,
            "eval_count": self.eval_count,
            "eval_duration": eval_ns,
        }

    def _ndjson(self, model: str, text: str, prompt: str, chat: bool) -> StreamingResponse:
        cut = self.cut_streams > 0
        self.cut_streams -= 1 if cut else 0

        async def lines() -> AsyncIterator[bytes]:
            for n, piece in enumerate(pieces(text)):
                if cut and n == 3:
                    return  # no done line: the stream ends early
                line: dict[str, Any] = {"model": model, "created_at": "2026-01-01T00:00:00Z"}
                if chat:
                    line["message"] = {"role": "assistant", "content": piece}
                else:
                    line["response"] = piece
                line["done"] = False
                yield (json.dumps(line) + "\n").encode()
                if self.chunk_delay:
                    await asyncio.sleep(self.chunk_delay)
            last: dict[str, Any] = {"model": model, "created_at": "2026-01-01T00:00:00Z"}
            if chat:
                last["message"] = {"role": "assistant", "content": ""}
            else:
                last["response"] = ""
            last.update(self._stats(prompt))
            yield (json.dumps(last) + "\n").encode()

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    async def chat(self, request: Request) -> JSONResponse | StreamingResponse:
        async with self._serving():
            body = await self._record(request)
            if isinstance(body, JSONResponse):
                return body
            if missing := self._unknown_model(body):
                return missing
            prompt = str(body["messages"][-1].get("content", ""))
            if body.get("tools") and body["messages"][-1].get("role") == "user":
                return self._tool_call(body, prompt)
            images = body["messages"][-1].get("images") or []
            if images:
                prompt = f"{prompt} [{len(images)} image(s)]"
            text = self.answer_text(prompt)
            if body.get("stream", True):
                return self._ndjson(body["model"], text, prompt, chat=True)
            return JSONResponse(
                {
                    "model": body["model"],
                    "created_at": "2026-01-01T00:00:00Z",
                    "message": {"role": "assistant", "content": text},
                    **self._stats(prompt),
                }
            )

    async def embed(self, request: Request) -> JSONResponse:
        async with self._serving():
            body = await self._record(request)
            if isinstance(body, JSONResponse):
                return body
            if missing := self._unknown_model(body):
                return missing
            texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
            return JSONResponse(
                {
                    "model": body["model"],
                    "embeddings": [[0.5, -0.25, float(len(t))] for t in texts],
                    "prompt_eval_count": sum(len(t.split()) for t in texts),
                }
            )

    def _tool_call(self, body: dict[str, Any], prompt: str) -> JSONResponse | StreamingResponse:
        """The model calls the first tool offered, with the prompt as its `query` argument."""
        name = body["tools"][0]["function"]["name"]
        message = {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"function": {"name": name, "arguments": {"query": prompt}}}],
        }
        head = {"model": body["model"], "created_at": "2026-01-01T00:00:00Z"}
        if not body.get("stream", True):
            return JSONResponse({**head, "message": message, **self._stats(prompt)})

        async def lines() -> AsyncIterator[bytes]:
            yield (json.dumps({**head, "message": message, "done": False}) + "\n").encode()
            last = {**head, "message": {"role": "assistant", "content": ""}, **self._stats(prompt)}
            yield (json.dumps(last) + "\n").encode()

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    def _entry(self, name: str) -> dict[str, Any]:
        family = "nomic-bert" if "embed" in name else "llama"
        return {
            "name": name,
            "model": name,
            "modified_at": "2026-10-01T12:00:00.123456789+02:00",
            "size": 1_300_000_000,
            "digest": hashlib.sha256(name.encode()).hexdigest(),
            "details": {
                "parent_model": "",
                "format": "gguf",
                "family": family,
                "families": [family],
                "parameter_size": "1.2B",
                "quantization_level": "Q8_0",
            },
        }

    async def tags(self, _request: Request) -> JSONResponse:
        return JSONResponse({"models": [self._entry(m) for m in self.models]})

    async def version(self, _request: Request) -> JSONResponse:
        return JSONResponse({"version": "0.12.6"})

    async def show(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.requests.append((request.url.path, body, dict(request.headers)))
        name = self.has(body.get("model") or body.get("name"))
        if name is None:
            wanted = body.get("model") or body.get("name")
            return JSONResponse({"error": f"model '{wanted}' not found"}, status_code=404)
        entry = self._entry(name)
        family = entry["details"]["family"]
        return JSONResponse(
            {
                "license": "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT",
                "modelfile": f'# Modelfile generated by "ollama show"\nFROM {name}\n',
                "parameters": 'stop "<|eot_id|>"',
                "template": "{{ .Prompt }}",
                "details": entry["details"],
                "model_info": {
                    "general.architecture": family,
                    "general.parameter_count": 1235814432,
                    f"{family}.context_length": 131072,
                    f"{family}.embedding_length": 2048,
                },
                "capabilities": ["embedding"] if "embed" in name else ["completion", "tools"],
                "modified_at": entry["modified_at"],
            }
        )

    async def ps(self, _request: Request) -> JSONResponse:
        models = []
        for name in self.loaded:
            entry = self._entry(name)
            models.append(
                {
                    **{k: entry[k] for k in ("name", "model", "size", "digest", "details")},
                    "expires_at": "2026-10-01T12:05:00.000000000Z",
                    "size_vram": entry["size"],
                    "context_length": 4096,
                }
            )
        return JSONResponse({"models": models})

    async def pull(self, request: Request) -> JSONResponse | StreamingResponse:
        """Ollama's progress: pulling manifest, a layer's downloading lines, verifying, success;
        an unknown name is {"error": "pull model manifest: file does not exist"}."""
        body = await request.json()
        self.requests.append((request.url.path, body, dict(request.headers)))
        name = body.get("model") or body.get("name")
        if name not in self.pullable:
            lines_ = [
                {"status": "pulling manifest"},
                {"error": "pull model manifest: file does not exist"},
            ]
        else:
            digest = "sha256:" + "ab" * 32
            lines_ = [
                {"status": "pulling manifest"},
                *(
                    {
                        "status": f"pulling {digest[7:19]}",
                        "digest": digest,
                        "total": 1000,
                        "completed": c,
                    }
                    for c in (0, 500, 1000)
                ),
                {"status": "verifying sha256 digest"},
                {"status": "writing manifest"},
                {"status": "success"},
            ]
            self.models.append(name)
        if not body.get("stream", True):
            last = lines_[-1]
            return JSONResponse(last, status_code=500 if "error" in last else 200)

        async def stream() -> AsyncIterator[bytes]:
            for line in lines_:
                yield (json.dumps(line) + "\n").encode()

        return StreamingResponse(stream(), media_type="application/x-ndjson")

    def _unknown_model(self, body: dict[str, Any]) -> JSONResponse | None:
        if self.has(body.get("model")) is None:
            return JSONResponse(
                {"error": f"model '{body.get('model')}' not found, try pulling it first"},
                status_code=404,
            )
        return None

    async def generate(self, request: Request) -> JSONResponse | StreamingResponse:
        async with self._serving():
            body = await self._record(request)
            if isinstance(body, JSONResponse):
                return body
            if missing := self._unknown_model(body):
                return missing
            prompt = str(body.get("prompt", ""))
            if body.get("stream", True):
                return self._ndjson(body["model"], self.answer_text(prompt), prompt, chat=False)
            eval_ns = int(self.eval_count / self.tps * 1e9)
            return JSONResponse(
                {
                    "model": body["model"],
                    "created_at": "2026-01-01T00:00:00.000000Z",
                    "response": self.answer_text(prompt),
                    "done": True,
                    "done_reason": "stop",
                    "context": [1, 2, 3],
                    "total_duration": eval_ns + 5_000_000,
                    "load_duration": 1_000_000,
                    "prompt_eval_count": len(prompt.split()),
                    "prompt_eval_duration": 2_000_000,
                    "eval_count": self.eval_count,
                    "eval_duration": eval_ns,
                }
            )

    async def embeddings(self, request: Request) -> JSONResponse:
        async with self._serving():
            body = await self._record(request)
            if isinstance(body, JSONResponse):
                return body
            if missing := self._unknown_model(body):
                return missing
            return JSONResponse({"embedding": [0.5, -0.25, float(len(str(body.get("prompt"))))]})


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


@contextlib.asynccontextmanager
async def serving(fake: FakeServer) -> AsyncIterator[FakeServer]:
    """Runs the fake on its host (a free port) in this event loop until exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit it: answers go out at once, as from a real Ollama.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((fake.host, fake.port))
    sock.listen(128)
    sock.setblocking(False)
    fake.port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(fake.app(), log_config=None, access_log=False, lifespan="off")  # type: ignore[attr-defined]
    )
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            await task
        await asyncio.sleep(0.005)
    try:
        yield fake
    finally:
        if fake.gate is not None:
            fake.gate.set()
        server.should_exit = True
        await task


def closed_port(host: str = "127.0.0.9") -> str:
    """An address on which nothing listens: connecting is refused."""
    sock = socket.socket()
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://{host}:{port}"


def last_body(fake: FakeServer) -> dict[str, Any]:
    return json.loads(json.dumps(fake.requests[-1][1]))
