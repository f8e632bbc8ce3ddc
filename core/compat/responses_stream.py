"""chat.completion.chunk objects as the Responses API's streamed events, in the order the
official SDK assembles them: response.created, response.in_progress, then per output item
response.output_item.added, (response.content_part.added, response.output_text.delta …,
response.output_text.done, response.content_part.done | response.function_call_arguments.delta
…, response.function_call_arguments.done), response.output_item.done; last
response.completed, or response.failed. Pure."""

from __future__ import annotations

from typing import Any

from core.compat import responses_shape as shape

Event = tuple[str, dict[str, Any]]


class ResponseEvents:
    """Feeds on one chat's chunks in order; each call returns the events they become."""

    def __init__(self, body: shape.ResponsesRequest, hex_id: str, model: str, created: int) -> None:
        self._body = body
        self._hex = hex_id
        self._model = model
        self._created = created
        self._sequence = 0
        self._items: list[dict[str, Any]] = []  # finished output items
        self._open: dict[str, Any] | None = None  # the item being streamed
        self._text = ""
        self._calls: dict[int, int] = {}  # OpenAI tool-call index -> output index
        self._finish: str | None = None
        self._usage: dict[str, Any] | None = None

    def _event(self, type_: str, **fields: Any) -> Event:
        data = {"type": type_, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        return type_, data

    def _response(self, status: str, error: dict[str, Any] | None = None) -> dict[str, Any]:
        return shape.response(
            self._body,
            hex_id=self._hex,
            model=self._model,
            created=self._created,
            output=list(self._items),
            status=status,
            finish_reason=self._finish,
            openai_usage=self._usage,
            error=error,
        )

    def start(self) -> list[Event]:
        return [
            self._event("response.created", response=self._response("in_progress")),
            self._event("response.in_progress", response=self._response("in_progress")),
        ]

    def feed(self, chunk: dict[str, Any]) -> list[Event]:
        events: list[Event] = []
        if chunk.get("usage"):
            self._usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                events += self._text_delta(delta["content"])
            for call in delta.get("tool_calls") or []:
                events += self._call_delta(call)
            if choice.get("finish_reason"):
                self._finish = choice["finish_reason"]
        return events

    def _text_delta(self, text: str) -> list[Event]:
        events: list[Event] = []
        if self._open is None or self._open["type"] != "message":
            events += self._close()
            self._open = shape.message_item(self._hex, "", status="in_progress")
            self._text = ""
            events.append(self._added())
            part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            events.append(self._event("response.content_part.added", **self._at(), part=part))
        self._text += text
        events.append(
            self._event("response.output_text.delta", **self._at(), delta=text, logprobs=[])
        )
        return events

    def _call_delta(self, call: dict[str, Any]) -> list[Event]:
        events: list[Event] = []
        index = int(call.get("index") or 0)
        if index not in self._calls:
            events += self._close()
            self._open = shape.call_item(self._hex, index, call, status="in_progress")
            self._calls[index] = len(self._items)
            events.append(self._added())
        arguments = (call.get("function") or {}).get("arguments")
        if arguments and self._open and self._calls[index] == len(self._items):
            self._open["arguments"] += arguments
            events.append(
                self._event(
                    "response.function_call_arguments.delta",
                    item_id=self._open["id"],
                    output_index=len(self._items),
                    delta=arguments,
                )
            )
        return events

    def _at(self) -> dict[str, Any]:
        assert self._open is not None
        return {"item_id": self._open["id"], "output_index": len(self._items), "content_index": 0}

    def _added(self) -> Event:
        assert self._open is not None
        return self._event(
            "response.output_item.added", output_index=len(self._items), item=dict(self._open)
        )

    def _close(self) -> list[Event]:
        item = self._open
        if item is None:
            return []
        events: list[Event] = []
        index = len(self._items)
        if item["type"] == "message":
            part = {"type": "output_text", "text": self._text, "annotations": [], "logprobs": []}
            at = self._at()
            events.append(
                self._event("response.output_text.done", **at, text=self._text, logprobs=[])
            )
            events.append(self._event("response.content_part.done", **at, part=part))
            item = {**item, "status": "completed", "content": [part]}
        else:
            events.append(
                self._event(
                    "response.function_call_arguments.done",
                    item_id=item["id"],
                    output_index=index,
                    name=item["name"],
                    arguments=item["arguments"],
                )
            )
            item = {**item, "status": "completed"}
        events.append(self._event("response.output_item.done", output_index=index, item=item))
        self._items.append(item)
        self._open = None
        return events

    def finish(self) -> list[Event]:
        events = self._close()
        final = self._response("completed")
        kind = "response.completed" if final["status"] == "completed" else "response.incomplete"
        events.append(self._event(kind, response=final))
        return events

    def failed(self, code: str, message: str) -> list[Event]:
        """The response ends as failed: OpenAI's in-stream failure."""
        self._open = None
        error = {"code": code, "message": message}
        return [self._event("response.failed", response=self._response("failed", error))]
