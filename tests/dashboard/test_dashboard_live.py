"""The live dashboard's server side: its page and versioned assets, the frame stream (one read
for every open page), a job's attempts and cost, and the pure history merge."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.dashboard.feed import DashboardFeed, FeedConfig
from core.dashboard.history import MinuteStats, merge_history
from core.dashboard.live import JobFilter
from core.runtime import RunningCore
from core.ui.assets import STATIC_DIR
from testkit.support import eventually, running_worker, start_core

ECHO = {"kind": "echo", "payload": {"text": "hi"}, "source": "dash-test"}


async def next_frame(lines: AsyncIterator[str]) -> dict[str, Any]:
    """The next `frame` event of a dashboard stream."""
    event = None
    async for line in lines:
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event == "frame":
            return json.loads(line.split(":", 1)[1])
    raise AssertionError("the stream ended")


@pytest.mark.slow
async def test_page_and_assets_are_served_versioned_and_cacheable(http: httpx.AsyncClient) -> None:
    page = await http.get("/ui/")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-cache"
    assert "script-src 'self' 'sha256-" in page.headers["content-security-policy"]
    version = re.search(r"/ui/assets/([0-9a-f]{16})/js/app\.js", page.text)
    assert version, page.text
    asset = await http.get(f"/ui/assets/{version[1]}/js/app.js")
    assert asset.status_code == 200
    assert asset.headers["content-type"].startswith("text/javascript")
    assert "immutable" in asset.headers["cache-control"]
    # Another version's URL, a path outside the assets, the page as an asset: none served.
    for wrong in (
        "/ui/assets/0000000000000000/js/app.js",
        f"/ui/assets/{version[1]}/%2E%2E/assets.py",
        f"/ui/assets/{version[1]}/index.html",
    ):
        assert (await http.get(wrong)).status_code == 404, wrong
    assert (await http.get("/ui", follow_redirects=False)).headers["location"] == "/ui/"


def test_vendored_libraries_match_their_manifest() -> None:
    vendor = STATIC_DIR / "vendor"
    manifest = json.loads((vendor / "MANIFEST.json").read_text())
    names = {p["name"] for p in manifest["packages"]}
    assert {"preact", "htm", "uplot", "eventsource-parser"} <= names
    for package in manifest["packages"]:
        assert (vendor / package["license_file"]).is_file()
        for item in package["files"]:
            digest = hashlib.sha256((vendor / item["path"]).read_bytes()).hexdigest()
            assert digest == item["sha256"], item["path"]
    # Nothing reaches beyond the package: no CDN, no absolute URL in any script or style.
    for path in Path(STATIC_DIR).rglob("*"):
        if path.suffix in (".js", ".mjs", ".css", ".html"):
            remote = re.search(r"""(src|href|from|import)\s*=?\s*["']https?://""", path.read_text())
            assert not remote, path


async def test_stream_pushes_frames_as_jobs_finish(database_url: str) -> None:
    async with (
        start_core(database_url) as core,
        httpx.AsyncClient(base_url=core.http_url, timeout=20) as http,
        http.stream("GET", "/v1/dashboard/stream", params={"source": "dash-test"}) as stream,
    ):
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.aiter_lines()
        first = await next_frame(lines)
        assert first["jobs"] == [] and {"snapshot", "devices", "breakdown", "history"} <= set(first)
        job_id = (await http.post("/v1/jobs", json=ECHO)).json()["job_id"]
        async with running_worker(core.grpc_addr):
            while True:
                frame = await asyncio.wait_for(next_frame(lines), 10)
                if frame["jobs"] and frame["jobs"][0]["status"] == "done":
                    break
        assert frame["jobs"][0]["id"] == job_id
        assert "payload" not in frame["jobs"][0]  # rows stay small; the job page reads it
        assert frame["snapshot"]["jobs"]["done"] == 1


async def test_stream_needs_the_token_when_one_is_set(database_url: str) -> None:
    async with (
        start_core(database_url, api_token="ui-secret") as core,
        httpx.AsyncClient(base_url=core.http_url, timeout=10) as http,
    ):
        refused = await http.get("/v1/dashboard/stream", headers={"Authorization": "Bearer no"})
        assert refused.status_code == 401
        assert (await http.get("/ui/")).status_code == 200  # the page holds no data
        headers = {"Authorization": "Bearer ui-secret"}
        async with http.stream("GET", "/v1/dashboard/stream", headers=headers) as stream:
            assert "snapshot" in await next_frame(stream.aiter_lines())


async def test_job_extras_list_attempts_and_cost(
    core: RunningCore, http: httpx.AsyncClient
) -> None:
    job_id = (await http.post("/v1/jobs", json=ECHO)).json()["job_id"]
    async with running_worker(core.grpc_addr):

        async def finished() -> bool:
            return (await http.get(f"/v1/jobs/{job_id}")).json()["status"] == "done"

        await eventually(finished)
    extras = (await http.get(f"/v1/dashboard/jobs/{job_id}")).json()
    assert [a["attempt"] for a in extras["attempts"]] == [1]
    assert extras["attempts"][0]["worker_id"].startswith("test-worker-")
    missing = await http.get("/v1/dashboard/jobs/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404


async def test_one_read_per_round_however_many_pages() -> None:
    reads: list[set[JobFilter]] = []

    async def build(filters: Any) -> dict[JobFilter, dict[str, Any]]:
        reads.append(set(filters))
        return {f: {"jobs": [f.status]} for f in filters}

    feed = DashboardFeed(build, FeedConfig(min_interval_seconds=0, idle_refresh_seconds=60))
    with (
        feed.subscribe(JobFilter()) as a,
        feed.subscribe(JobFilter()) as b,
        feed.subscribe(JobFilter(status="error")) as c,
    ):
        frames = [await s.next(within=5) for s in (a, b, c)]
        assert frames == [{"jobs": [None]}, {"jobs": [None]}, {"jobs": ["error"]}]
        assert reads[0] == {JobFilter(), JobFilter(status="error")}
    assert feed.subscriber_count == 0
    await asyncio.sleep(0)  # the canceled producer's last step
    count = len(reads)
    feed.poke()
    assert len(reads) == count  # no page open: nothing is read


def test_history_merge_replaces_recent_minutes_and_drops_old_ones() -> None:
    now = datetime(2026, 12, 1, 12, 0, 30, tzinfo=UTC)

    def minute(ago: int, done: int) -> MinuteStats:
        start = now.replace(second=0) - timedelta(minutes=ago)
        return MinuteStats(minute=start, done=done, failed=0, p50_ms=1.0, p95_ms=2.0)

    kept = [minute(61, 5), minute(2, 7), minute(1, 3)]
    merged = merge_history(kept, [minute(1, 9), minute(0, 1)], now=now)
    assert [m.done for m in merged] == [7, 9, 1]
