"""Token streaming end to end: a streaming job's chunks reach the job SSE stream and gRPC
StreamJob in order, batched, and add up to the result stored in the job row. Plus the pure
pieces: the <think> splitter and the progress batcher."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from proto.client import CoreClient
from testkit.compat import MODEL, Fleet, compat_fleet
from testkit.fakes.ollama import FakeOllama
from testkit.sse import read_frames
from testkit.support import eventually
from worker.handlers.thinking import ThinkSplitter, split_thinking
from worker.progress import MAX_BATCH_CHARS, ProgressBatcher


@pytest.fixture
async def fleet(database_url: str, db: asyncpg.Connection) -> AsyncIterator[Fleet]:
    fake = FakeOllama("127.0.0.2", models=[MODEL], chunk_delay=0.004)
    async with compat_fleet(database_url, db, ollama=fake) as f:
        yield f


async def test_job_sse_and_grpc_carry_the_tokens_in_order(fleet: Fleet) -> None:
    words = " ".join(f"x{i}" for i in range(60))
    async with httpx.AsyncClient(base_url=fleet.core.http_url, timeout=30) as http:
        # A job streams when its payload says stream=true (the compatible APIs set it).
        submitted = await http.post(
            "/v1/jobs",
            json={
                "kind": "ollama.generate",
                "payload": {"model": MODEL, "prompt": words, "stream": True},
            },
        )
        job_id = submitted.json()["job_id"]
        frames = await read_frames(http, f"/v1/jobs/{job_id}/stream")
    sse_text = "".join(
        f["data"]["data"].get("delta", "") for f in frames if f.get("event") == "progress"
    )
    final = frames[-1]["data"]["job"]
    assert frames[-1]["event"] == "done"
    assert sse_text == f"echo: {words}" == final["result"]["response"]
    progress_ids = [int(f["id"]) for f in frames if f.get("event") == "progress"]
    assert progress_ids == sorted(progress_ids) and 1 < len(progress_ids) < 61

    async with CoreClient(fleet.core.grpc_addr) as grpc_client:
        events = [e async for e in grpc_client.stream_job(job_id)]
    grpc_text = "".join(
        json.loads(e.data_json).get("delta", "") for e in events if e.type == "progress"
    )
    assert grpc_text == sse_text
    assert json.loads(events[-1].job.result_json)["response"] == grpc_text


def test_think_tags_split_whole_and_across_chunks() -> None:
    assert split_thinking("<think>plan</think>\nanswer") == ("plan", "answer")
    assert split_thinking("no tags") == ("", "no tags")
    text = "<think>a b</think>\nthe answer <b>"
    for size in (1, 2, 3, 5):
        splitter = ThinkSplitter()
        thinking, response = "", ""
        for i in range(0, len(text), size):
            t, r = splitter.feed(text[i : i + size])
            assert "think>" not in t + r
            thinking, response = thinking + t, response + r
        t, r = splitter.flush()
        assert (thinking + t, response + r) == ("a b", "\nthe answer <b>")


def recording_batcher(interval: float) -> tuple[ProgressBatcher, list[dict]]:
    """A batcher whose reports land in the list it comes with."""
    sent: list[dict] = []

    async def send(data: dict) -> None:
        sent.append(data)

    return ProgressBatcher(send, interval=interval), sent


async def test_batcher_sends_the_first_chunk_at_once_then_batches() -> None:
    batcher, sent = recording_batcher(0.2)
    batcher.add(text="first")
    await eventually(lambda: sent)
    assert [d.get("delta") for d in sent] == ["first"]
    for i in range(50):
        batcher.add(text=f" {i}")
    batcher.add(thinking="hmm")
    # The rest is handed back for the completion to carry, not sent as a report of its own.
    rest = await batcher.finish()
    assert len(sent) == 1 and rest is not None
    assert sent[0]["delta"] + rest["delta"] == "first" + "".join(f" {i}" for i in range(50))
    assert rest["thinking"] == "hmm"


async def test_a_stream_longer_than_one_report_is_sent_but_for_its_last_report() -> None:
    batcher, sent = recording_batcher(5)
    batcher.add(text="a")
    await eventually(lambda: sent)
    batcher.add(text="x" * (MAX_BATCH_CHARS + 10))
    rest = await batcher.finish()
    assert [len(d["delta"]) for d in sent] == [1, MAX_BATCH_CHARS]
    assert rest == {"type": "token", "delta": "x" * 10}
    idle, _ = recording_batcher(5)
    assert await idle.finish() is None  # nothing streamed: nothing to carry
