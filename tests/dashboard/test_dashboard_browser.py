"""The dashboard in a real headless browser (Debian's chromium, driven by Playwright): the
fleet of a fake tailnet with its models, a job that turns done without a reload, tokens
arriving on a job's page, and the token prompt. Takes the screenshots doc/img/ shows: into
doc/img/ with SAVE_SCREENSHOTS=1, else into a temporary folder (a test run changes no file)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio

from testkit.fakes.ollama import FakeOllama
from testkit.fakes.server import serving
from testkit.fleet import GPU, QWEN_7B, add_device, fake_tailnet
from testkit.support import apt_tool, eventually, provider_worker, start_core

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")

pytestmark = [pytest.mark.external, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DOC_IMG = Path(__file__).resolve().parents[2] / "doc" / "img"
STREAM_DEVICE = "gpu1.ts.net."
MODEL = "ui-stream:1b"  # on no device of the fake tailnet: the job runs on STREAM_DEVICE


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go: doc/img/ with SAVE_SCREENSHOTS=1, else a temporary folder."""
    if os.environ.get("SAVE_SCREENSHOTS") == "1":
        return DOC_IMG
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's chromium, installed with apt-get on first use; skipped when it cannot be had."""
    return Path(apt_tool("chromium", "chromium"))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser(chromium: Path) -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as p:
        try:
            launched = await p.chromium.launch(executable_path=str(chromium), args=ARGS)
        except playwright_api.Error as exc:
            pytest.skip(f"{chromium} does not start: {str(exc)[:500]}")
        yield launched
        await launched.close()


@contextlib.asynccontextmanager
async def page_of(browser: Any, **options: Any) -> AsyncIterator[tuple[Any, list[str]]]:
    """A page in a fresh context (its own sessionStorage) and the errors it logs."""
    context = await browser.new_context(viewport={"width": 1280, "height": 860}, **options)
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        yield page, problems
    finally:
        await context.close()


async def test_fleet_jobs_and_streamed_tokens(
    browser: Any,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    shots: Path,
) -> None:
    words = " ".join(f"token{i}" for i in range(25))
    ollama = FakeOllama("127.0.0.7", models=[MODEL], chunk_delay=0.06)
    async with (
        fake_tailnet(tmp_path, monkeypatch) as net,
        serving(ollama),
        start_core(database_url, device_max_concurrency=4, **net.settings()) as core,
        httpx.AsyncClient(base_url=core.http_url, timeout=30) as http,
        page_of(browser) as (page, problems),
    ):
        assert (await http.post("/v1/discovery/run")).status_code == 200
        conn = await asyncpg.connect(database_url)
        try:
            await add_device(conn, STREAM_DEVICE, ollama.url, {MODEL: 1.2})
        finally:
            await conn.close()

        # Some history for the charts: jobs finished before the page opens.
        batch = [{"kind": "echo", "payload": {"n": i}, "source": "ui-test"} for i in range(20)]
        ids = [j["job_id"] for j in (await http.post("/v1/jobs/batch", json=batch)).json()["jobs"]]
        async with provider_worker(core.grpc_addr, worker_concurrency=40):

            async def all_done() -> bool:
                page_of_jobs = (await http.get("/v1/jobs", params={"status": "done"})).json()
                return len(page_of_jobs["jobs"]) == len(ids)

            await eventually(all_done)

        await page.goto(f"{core.http_url}/ui/")
        gpu = page.locator(f'[data-device="{GPU}"]')
        await gpu.get_by_text(QWEN_7B["name"]).wait_for()
        assert await gpu.locator(".badge.ok").inner_text() == "online"
        assert await page.locator('[data-link="live"]').count() == 1

        # A job submitted through the API shows up queued, then done, without a reload.
        job_id = (await http.post("/v1/jobs", json={"kind": "echo", "payload": {"n": 1}})).json()[
            "job_id"
        ]
        await page.locator(f'tr[data-job-id="{job_id}"][data-status="queued"]').wait_for()
        async with provider_worker(core.grpc_addr, worker_concurrency=40):
            await page.locator(f'tr[data-job-id="{job_id}"][data-status="done"]').wait_for()
            await page.locator(f'[data-device="{GPU}"]').scroll_into_view_if_needed()
            await page.evaluate("window.scrollTo(0, 0)")
            await page.screenshot(path=str(shots / "dashboard-fleet.png"), full_page=True)

            # A streamed job's page shows tokens while the job still runs, then its answer.
            streamed = await http.post(
                "/v1/jobs",
                json={
                    "kind": "ollama.generate",
                    "payload": {"model": MODEL, "prompt": words, "stream": True},
                    "source": "ui-test",
                },
            )
            stream_id = streamed.json()["job_id"]
            await page.goto(f"{core.http_url}/ui/#/jobs/{stream_id}")
            await page.wait_for_function(
                """() => {
                  const job = document.querySelector("section.job");
                  const answer = document.querySelector("[data-testid=answer]");
                  return job && job.dataset.status === "running" && answer
                    && answer.textContent.startsWith("echo: token0");
                }""",
                timeout=20000,
            )
            await page.locator('section.job[data-status="done"]').wait_for(timeout=20000)
        answer = await page.locator("[data-testid=answer]").inner_text()
        assert answer == f"echo: {words}"
        await page.locator("ol.timeline .status-done").wait_for()
        await page.screenshot(path=str(shots / "dashboard-job.png"), full_page=True)
        assert problems == []


async def test_token_is_asked_once_per_session_and_a_wrong_one_refused(
    browser: Any, database_url: str
) -> None:
    async with start_core(database_url, api_token="ui-s3cret") as core:
        async with page_of(browser) as (page, _problems):
            await page.goto(f"{core.http_url}/ui/")
            await page.get_by_label("API token").fill("wrong-token")
            await page.get_by_role("button", name="Sign in").click()
            await page.get_by_role("alert").get_by_text("That token was refused.").wait_for()
            assert await page.locator("header.top").count() == 0  # nothing shown

            await page.get_by_label("API token").fill("ui-s3cret")
            await page.get_by_label("API token").press("Enter")
            await page.locator('[data-link="live"]').wait_for()
            assert "s3cret" not in page.url
            await page.reload()  # the same session: not asked again
            await page.locator('[data-link="live"]').wait_for()
            assert await page.get_by_label("API token").count() == 0

            # The token allows actions: cancel a queued job, then retry it as a new one.
            async with httpx.AsyncClient(
                base_url=core.http_url, headers={"Authorization": "Bearer ui-s3cret"}
            ) as http:
                job = (await http.post("/v1/jobs", json={"kind": "echo", "payload": {}})).json()
            await page.goto(f"{core.http_url}/ui/#/jobs/{job['job_id']}")
            await page.get_by_role("button", name="Cancel").click()
            await page.locator('section.job[data-status="canceled"]').wait_for()
            await page.get_by_role("button", name="Retry as a new job").click()
            await page.locator('section.job[data-status="queued"]').wait_for()
            assert job["job_id"] not in page.url
        async with page_of(browser) as (page, _problems):  # another session: asked again
            await page.goto(f"{core.http_url}/ui/")
            await page.get_by_label("API token").wait_for()
