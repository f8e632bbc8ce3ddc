"""A retried stream's replay: held back until it passes what the client was already sent."""

from __future__ import annotations


def test_replay_holds_back_a_retried_stream_until_it_passes_what_was_sent() -> None:
    from core.compat.jobs import Replay

    replay = Replay()
    replay.new_attempt()
    assert [replay.add(d) for d in ("ab", "c")] == ["ab", "c"]
    replay.new_attempt()  # the retry streams from the start again
    assert [replay.add(d) for d in ("a", "bc", "de")] == ["", "", "de"]
    assert replay.sent == "abcde" and not replay.diverged
    replay.new_attempt()
    assert replay.add("xyz") == "" and replay.diverged
