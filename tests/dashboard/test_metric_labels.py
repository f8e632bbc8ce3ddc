"""Metric labels come only from known values: made-up kinds count as `other`, so /metrics
(open, unauthenticated) stays the same size however many kinds clients invent."""

from __future__ import annotations

import re

import httpx

from core.runtime import RunningCore
from proto import llm_pb2 as pb
from proto.client import CoreClient


def submitted(text: str, kind: str) -> float:
    # Counters are per process: compare before and after, never absolute values.
    found = re.search(
        rf'^llm_mcp_jobs_submitted_total{{kind="{re.escape(kind)}"}} (\S+)$', text, re.M
    )
    return float(found.group(1)) if found else 0.0


async def test_made_up_kinds_do_not_grow_metrics(
    core: RunningCore, http: httpx.AsyncClient, grpc_client: CoreClient
) -> None:
    await http.post("/v1/jobs", json={"kind": "echo"})
    before = (await http.get("/metrics")).text
    batch = [{"kind": f"made.up.{i}"} for i in range(400)]
    assert (await http.post("/v1/jobs/batch", json=batch)).status_code == 201
    after = (await http.get("/metrics")).text
    assert "made.up." not in after
    assert submitted(after, "other") - submitted(before, "other") == 400
    assert len(after) - len(before) < 2_000
    # A kind some worker offers is a label of its own.
    await grpc_client.register_worker(pb.WorkerInfo(id="w-custom", kinds=["custom.ocr"]))
    await http.post("/v1/jobs", json={"kind": "custom.ocr"})
    offered = (await http.get("/metrics")).text
    assert submitted(offered, "custom.ocr") - submitted(after, "custom.ocr") == 1
