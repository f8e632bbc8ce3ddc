"""Thinking models: <think>…</think> apart from the answer, whole or chunk by chunk. Pure."""

from __future__ import annotations

OPEN, CLOSE = "<think>", "</think>"


def split_thinking(text: str) -> tuple[str, str]:
    """(thinking, response) of a whole answer; text outside the tags is the response."""
    splitter = ThinkSplitter()
    thinking, response = splitter.feed(text)
    rest_thinking, rest_response = splitter.flush()
    return thinking + rest_thinking, (response + rest_response).lstrip("\n")


def _partial_tag_at_end(text: str, tag: str) -> int:
    """Length of the longest suffix of `text` that is a proper prefix of `tag`."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0


class ThinkSplitter:
    """Splits streamed text into thinking and response as chunks arrive.

    A tag split across chunks is held back until the next chunk decides it, so what is
    emitted never contains a tag or part of one.
    """

    def __init__(self) -> None:
        self.inside = False
        self._held = ""

    def feed(self, chunk: str) -> tuple[str, str]:
        text = self._held + chunk
        self._held = ""
        thinking: list[str] = []
        response: list[str] = []
        while text:
            tag = CLOSE if self.inside else OPEN
            at = text.find(tag)
            target = thinking if self.inside else response
            if at >= 0:
                target.append(text[:at])
                text = text[at + len(tag) :]
                self.inside = not self.inside
                continue
            hold = _partial_tag_at_end(text, tag)
            target.append(text[: len(text) - hold])
            self._held = text[len(text) - hold :]
            break
        return "".join(thinking), "".join(response)

    def flush(self) -> tuple[str, str]:
        """What was held back at the end of the stream (an unfinished tag is plain text)."""
        held, self._held = self._held, ""
        return (held, "") if self.inside else ("", held)
