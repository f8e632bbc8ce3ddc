"""A background task that dies stops its process with one ERROR line naming it and the cause,
instead of vanishing while the process runs on without it (`serving/side_tasks.py`)."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys

import pytest

from llm_mcp.pgcluster import free_port
from serving.side_tasks import SideTaskDied, SideTasks


async def _forever() -> None:
    await asyncio.Event().wait()


async def _fails(reached: asyncio.Event) -> None:
    await reached.wait()
    raise KeyError("no such thing")


async def test_a_task_that_raises_stops_the_wait_and_is_named(
    caplog: pytest.LogCaptureFixture,
) -> None:
    side, stop, reached = SideTasks(), asyncio.Event(), asyncio.Event()
    side.start(_forever(), name="steady")
    side.start(_fails(reached), name="fragile")
    reached.set()
    with caplog.at_level(logging.ERROR, logger="serving.side_tasks"):
        await asyncio.wait_for(side.until_stopped(stop), 10)
    assert not stop.is_set()
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        "background task fragile died (KeyError: 'no such thing'); stopping"
    ]
    assert errors[0].exc_info is not None, "the traceback goes with the line"
    side.cancel()
    await side.join()
    with pytest.raises(SideTaskDied, match="fragile") as raised:
        side.raise_if_died()
    assert isinstance(raised.value.cause, KeyError)


async def test_a_loop_that_returns_has_died_too() -> None:
    side = SideTasks()

    async def returns() -> None:
        return None

    side.start(returns(), name="short-lived")
    await asyncio.wait_for(side.until_stopped(asyncio.Event()), 10)
    assert side.failure is not None and str(side.failure) == (
        "background task short-lived died (returned)"
    )


async def test_stopping_is_not_dying(caplog: pytest.LogCaptureFixture) -> None:
    side, stop = SideTasks(), asyncio.Event()
    owned = side.start(_forever(), name="owned")
    elsewhere = asyncio.create_task(_forever())
    side.watch(elsewhere)
    stop.set()
    await asyncio.wait_for(side.until_stopped(stop), 10)
    side.cancel()
    elsewhere.cancel()  # its owner stops it
    await side.join()
    await asyncio.gather(elsewhere, return_exceptions=True)
    assert owned.cancelled() and elsewhere.cancelled()
    side.raise_if_died()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.slow  # starts `llm-mcp worker`: seconds of imports on a loaded machine
def test_a_worker_whose_register_task_dies_exits_with_the_reason() -> None:
    # gRPC cannot carry a token with a non-ASCII character in its metadata: the call fails
    # with an error the register loop does not expect. That task used to end unseen and
    # leave the worker waiting forever to be registered.
    env = {
        **os.environ,
        "CORE_GRPC_ADDR": f"127.0.0.1:{free_port()}",  # never reached: the call fails first
        "WORKER_TOKEN": "tökén",
        "WORKER_ID": "side-task-test",
    }
    env.pop("API_TOKEN", None)
    result = subprocess.run(
        [sys.executable, "-m", "llm_mcp", "worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 1, result.stderr
    died = [line for line in result.stderr.splitlines() if "died" in line]
    assert len(died) == 1, result.stderr
    assert " ERROR serving.side_tasks: background task worker-register died (" in died[0]
    assert died[0].endswith("; stopping")
