"""The fake Ollama: a real HTTP server on 127.0.0.x speaking Ollama's documented wire format
(/api/generate, /api/chat, /api/embed(dings), /api/tags, /api/show, /api/ps, /api/pull,
/api/version), including its error answers, tool calls (streamed and not) and `name` =
`name:latest`.

A model is listed by name (a default /api/tags entry) or as a full entry made with `tag()`.
The fake records the requests it got, the names /api/show was asked about and how many requests
it was serving at once, so tests can check what a user's device would have seen. Run it with
`serving(fake)` or `fake.start()` / `fake.stop()` (see testkit.fakes.server).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from testkit.fakes.server import FakeServer, pieces


def tag(
    name: str, size: int, family: str, parameter_size: str, quantization: str
) -> dict[str, Any]:
    """An /api/tags entry as Ollama 0.5 lists it."""
    return {
        "name": name,
        "model": name,
        "modified_at": "2026-10-01T12:00:00.123456789+02:00",
        "size": size,
        "digest": hashlib.sha256(name.encode()).hexdigest(),
        "details": {
            "parent_model": "",
            "format": "gguf",
            "family": family,
            "families": [family],
            "parameter_size": parameter_size,
            "quantization_level": quantization,
        },
    }


@dataclass
class FakeOllama(FakeServer):
    # Names, or full /api/tags entries made with tag().
    models: list[str | dict[str, Any]] = field(default_factory=lambda: ["llama3.2:1b"])
    # A model's context length as /api/show reports it (131072 when not named here).
    context_lengths: dict[str, int] = field(default_factory=dict)
    ollama_version: str = "0.12.6"
    # The model names /api/show was asked about, in order.
    show_calls: list[str] = field(default_factory=list)
    tps: float = 50.0
    eval_count: int = 20
    # Wraps answers as a thinking model does: "<think>…</think>\n" before the answer.
    thinking: str | None = None
    # Seconds between streamed chunks.
    chunk_delay: float = 0.0
    # This many upcoming streams break off after 3 chunks (the runner died mid-answer).
    cut_streams: int = 0
    # Streamed answers being written now (one ends when its reader hangs up).
    streams_open: int = 0
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
        for listed in self.names():
            if listed == name or listed == tagged or f"{listed}:latest" == tagged:
                return listed
        return None

    def names(self) -> list[str]:
        return [m if isinstance(m, str) else m["name"] for m in self.models]

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
            self.streams_open += 1
            try:
                async for line in answer():
                    yield line
            finally:
                self.streams_open -= 1

        async def answer() -> AsyncIterator[bytes]:
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

    def _listed(self, model: str | dict[str, Any]) -> dict[str, Any]:
        return self._entry(model) if isinstance(model, str) else model

    def _entry(self, name: str) -> dict[str, Any]:
        """The /api/tags entry of a listed name: the one given with tag(), else a default."""
        for model in self.models:
            if isinstance(model, dict) and model["name"] == name:
                return model
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
        return JSONResponse({"models": [self._listed(m) for m in self.models]})

    async def version(self, _request: Request) -> JSONResponse:
        return JSONResponse({"version": self.ollama_version})

    async def show(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.requests.append((request.url.path, body, dict(request.headers)))
        self.show_calls.append(body.get("model") or body.get("name"))
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
                    "general.file_type": 15,
                    "general.parameter_count": 1235814432,
                    "general.quantization_version": 2,
                    f"{family}.attention.head_count": 32,
                    f"{family}.block_count": 16,
                    f"{family}.context_length": self.context_lengths.get(name, 131072),
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
