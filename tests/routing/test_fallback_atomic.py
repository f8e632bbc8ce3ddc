"""A routed job's cloud fallback is written in the same statement as the job: the job never
exists without it, and a failed fallback write leaves no job behind."""

from __future__ import annotations

import asyncpg
import httpx

from core.runtime import RunningCore
from proto import llm_pb2 as pb
from proto.client import CoreClient
from testkit.compat import MODEL
from testkit.fleet import add_device

BODY = {"model": MODEL, "prompt": "hi", "constraints": {"prefer_local": True, "fallback": True}}


async def _fleet(db: asyncpg.Connection, grpc_client: CoreClient) -> None:
    await add_device(db, "gpu-a.ts.net.", "http://127.0.0.2:11434")
    await grpc_client.register_worker(
        pb.WorkerInfo(id="w1", kinds=["ollama.generate", "ollama.embed", "openai.chat"])
    )


async def test_the_job_and_its_fallback_are_written_together(
    core: RunningCore, http: httpx.AsyncClient, grpc_client: CoreClient, db: asyncpg.Connection
) -> None:
    await _fleet(db, grpc_client)
    routed = (await http.post("/v1/llm/request", json=BODY)).json()
    assert routed["provider"] == "ollama"
    row = await db.fetchrow(
        "SELECT kind, provider FROM job_fallbacks WHERE job_id = $1", routed["job_id"]
    )
    assert (row["kind"], row["provider"]) == ("openai.chat", "openai")


async def test_a_failed_fallback_write_leaves_no_job(
    core: RunningCore, http: httpx.AsyncClient, grpc_client: CoreClient, db: asyncpg.Connection
) -> None:
    await _fleet(db, grpc_client)
    await db.execute(
        """
        CREATE FUNCTION refuse_fallback() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RAISE EXCEPTION 'fallbacks are refused'; END $$;
        CREATE TRIGGER refuse_fallback BEFORE INSERT ON job_fallbacks
            FOR EACH ROW EXECUTE FUNCTION refuse_fallback();
        """
    )
    answer = await http.post("/v1/llm/request", json=BODY)
    assert answer.status_code >= 400
    assert int(await db.fetchval("SELECT count(*) FROM jobs")) == 0
