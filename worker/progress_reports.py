"""The progress reports of all of a worker's jobs, sent to core together.

Each job's ProgressBatcher sends one report at a time; what the jobs send while a call is in
flight goes in the next ReportProgresses call. Under load the first chunks of the jobs of one
claim come at nearly the same moment, and share a call, a statement and a NOTIFY in core.
A core older than this worker (no ReportProgresses) gets one ReportProgress per report.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from proto import llm_pb2 as pb
from proto.client import CoreClient, CoreClientError, NotImplementedByCore, to_json
from serving.coalescing import Coalescer

# Core takes at most 64 KiB of data per report: 32 of them stay below gRPC's 4 MB message
# limit even when escaped. Under load a call carries about six.
MAX_BATCH = 32


class ProgressReports:
    def __init__(self, client: CoreClient, *, worker_id: str) -> None:
        self._client = client
        self._worker_id = worker_id
        self._calls = Coalescer(self._send, name="worker-progress", max_batch=MAX_BATCH)
        self._batches = True

    def start(self) -> asyncio.Task[None]:
        """Starts sending; returns the task (for the process to watch)."""
        return self._calls.start()

    async def stop(self) -> None:
        await self._calls.stop()

    async def report(self, job: pb.Job, data: dict[str, Any]) -> bool:
        """Writes one progress event of `job`; True when its cancellation was asked for.
        Raises CoreClientError when core refused it (the job is not running under this
        worker's lease, or the report is malformed) or the call failed."""
        request = pb.ReportProgressRequest(
            worker_id=self._worker_id,
            job_id=job.id,
            lease_token=job.lease_token,
            data_json=to_json(data),
        )
        answer = await self._calls.submit(request)
        if not answer.ok:
            raise CoreClientError(answer.error)
        return answer.canceled

    async def _send(self, items: list[pb.ReportProgressRequest]) -> list[pb.ReportProgressResponse]:
        if self._batches:
            try:
                return await self._client.report_progress_many(items)
            except NotImplementedByCore:
                self._batches = False
        return [await self._one(item) for item in items]

    async def _one(self, item: pb.ReportProgressRequest) -> pb.ReportProgressResponse:
        try:
            return await self._client.report_progress(
                worker_id=item.worker_id,
                job_id=item.job_id,
                lease_token=item.lease_token,
                data=json.loads(item.data_json),
            )
        except CoreClientError as exc:  # this report only, as in a ReportProgresses answer
            return pb.ReportProgressResponse(ok=False, error=str(exc))
