"""chat.completion.chunk objects as Anthropic's streamed events: message_start, then per
content block content_block_start / content_block_delta (text_delta, input_json_delta) /
content_block_stop, then message_delta (stop reason, usage) and message_stop. Pure."""

from __future__ import annotations

from typing import Any

from core.compat import anthropic_shape as shape

Event = tuple[str, dict[str, Any]]


class MessageEvents:
    """Feeds on one chat's chunks in order; each call returns the events they become."""

    def __init__(self, message_id: str, model: str, *, thinking: bool = False) -> None:
        self._id = message_id
        self._model = model
        self._thinking = thinking  # reasoning as thinking blocks, when the client asked
        self._index = -1
        self._open: str | None = None  # "thinking", "text" or "tool_use"
        self._tool_blocks: dict[int, int] = {}  # OpenAI tool-call index -> block index
        self._finish: str | None = None
        self._usage: dict[str, Any] | None = None

    def start(self) -> list[Event]:
        message = {
            "id": self._id,
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": shape.usage(None),
        }
        return [
            ("message_start", {"type": "message_start", "message": message}),
            ("ping", {"type": "ping"}),
        ]

    def feed(self, chunk: dict[str, Any]) -> list[Event]:
        events: list[Event] = []
        if chunk.get("usage"):
            self._usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if self._thinking and delta.get("reasoning_content"):
                if self._open != "thinking":
                    block = {"type": "thinking", "thinking": "", "signature": ""}
                    events += self._begin("thinking", block)
                piece = {"type": "thinking_delta", "thinking": delta["reasoning_content"]}
                events.append(self._delta(piece))
            if delta.get("content"):
                if self._open != "text":
                    events += self._begin("text", {"type": "text", "text": ""})
                text = {"type": "text_delta", "text": delta["content"]}
                events.append(self._delta(text))
            for call in delta.get("tool_calls") or []:
                events += self._tool_call(call)
            if choice.get("finish_reason"):
                self._finish = choice["finish_reason"]
        return events

    def _tool_call(self, call: dict[str, Any]) -> list[Event]:
        events: list[Event] = []
        index = int(call.get("index") or 0)
        function = call.get("function") or {}
        if index not in self._tool_blocks:
            block = {"type": "tool_use", "id": call.get("id"), "name": function.get("name")}
            events += self._begin("tool_use", {**block, "input": {}})
            self._tool_blocks[index] = self._index
        if function.get("arguments"):
            if self._tool_blocks[index] != self._index:
                return events  # pieces of an earlier call after a later one began: not OpenAI's
            piece = {"type": "input_json_delta", "partial_json": function["arguments"]}
            events.append(self._delta(piece))
        return events

    def finish(self) -> list[Event]:
        # An empty answer is still one (empty) text block, as the unstreamed message has.
        events = self._begin("text", {"type": "text", "text": ""}) if self._index < 0 else []
        events += self._close()
        used = shape.usage(self._usage)
        delta = {"stop_reason": shape.stop_reason(self._finish), "stop_sequence": None}
        usage = {"input_tokens": used["input_tokens"], "output_tokens": used["output_tokens"]}
        events.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": usage}))
        events.append(("message_stop", {"type": "message_stop"}))
        return events

    @staticmethod
    def error(status_body: dict[str, Any]) -> list[Event]:
        """Anthropic's in-stream error event (its body as the error answer would be)."""
        return [("error", status_body)]

    def _begin(self, kind: str, block: dict[str, Any]) -> list[Event]:
        events = self._close()
        self._index += 1
        self._open = kind
        start = {"type": "content_block_start", "index": self._index, "content_block": block}
        events.append(("content_block_start", start))
        return events

    def _delta(self, delta: dict[str, Any]) -> Event:
        return (
            "content_block_delta",
            {"type": "content_block_delta", "index": self._index, "delta": delta},
        )

    def _close(self) -> list[Event]:
        if self._open is None:
            return []
        self._open = None
        return [("content_block_stop", {"type": "content_block_stop", "index": self._index})]
