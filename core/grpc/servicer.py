"""llmmcp.v1.Core over the queue service; errors translated to gRPC status codes here only."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc
from pydantic import ValidationError

from core import errors
from core.dashboard.service import DashboardService
from core.dashboard.view import snapshot_view
from core.drain import HANDED_BACK, Drain
from core.fleet.schemas import DeviceOffline
from core.fleet.service import FleetService
from core.grpc.convert import dumps, event_to_pb, given, job_to_pb, parse_json, submit_fields, ts
from core.queue.models import ProgressAdded
from core.queue.schemas import (
    ClaimRequest,
    CompleteRequest,
    FailRequest,
    HeartbeatRequest,
    JobCreate,
    JobListQuery,
    ProgressRequest,
    WorkerRegister,
    check_batch,
)
from core.queue.service import QueueService
from core.routing.schemas import BenchmarkReport, LlmRequest
from core.routing.service import RoutingService
from core.routing.store import BenchmarkRecord
from proto import llm_pb2 as pb
from proto import llm_pb2_grpc as pb_grpc
from proto.errors import grpc_trailers

log = logging.getLogger(__name__)

R = TypeVar("R")


def as_core_error(exc: Exception) -> errors.CoreError:
    """A pydantic ValidationError becomes ValidationFailed; our own errors stay as they are."""
    if isinstance(exc, ValidationError):
        return errors.ValidationFailed(
            "; ".join(
                f"{'.'.join(str(x) for x in e['loc']) or 'request'}: {e['msg']}"
                for e in exc.errors()[:10]
            )
        )
    assert isinstance(exc, errors.CoreError)
    return exc


async def abort_with(context: grpc.aio.ServicerContext, exc: Exception) -> None:
    """Ends the call with the error's gRPC status, message and (in trailers) its code."""
    error = as_core_error(exc)
    await context.abort(error.grpc_status, error.message, trailing_metadata=grpc_trailers(error))


def _translated(
    method: Callable[..., Awaitable[R]],
) -> Callable[..., Awaitable[R]]:
    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> R:
        try:
            return await method(self, request, context)
        except (errors.CoreError, ValidationError) as exc:
            await abort_with(context, exc)
            raise  # unreachable: abort raises

    return wrapper


def _complete_fields(req: pb.CompleteJobRequest) -> CompleteRequest:
    return CompleteRequest(
        worker_id=req.worker_id,
        job_id=req.job_id,
        **given(req, "lease_token"),
        result=parse_json("result_json", req.result_json),
        metrics=parse_json("metrics_json", req.metrics_json, object_only=True),
        progress=parse_json("progress_json", req.progress_json, object_only=True),
    )


def _progress_fields(req: pb.ReportProgressRequest) -> ProgressRequest:
    return ProgressRequest(
        worker_id=req.worker_id,
        job_id=req.job_id,
        **given(req, "lease_token"),
        data=parse_json("data_json", req.data_json, default={}, object_only=True),
    )


class CoreServicer(pb_grpc.CoreServicer):
    def __init__(
        self,
        queue: QueueService,
        *,
        fleet: FleetService,
        routing: RoutingService,
        dashboard: DashboardService,
        drain: Drain,
    ) -> None:
        self._queue = queue
        self._drain = drain
        self.fleet = fleet
        self._routing = routing
        self._dashboard = dashboard

    @_translated
    async def SubmitJob(self, request: pb.SubmitJobRequest, context: Any) -> pb.SubmitJobResponse:
        result = (await self._queue.submit([JobCreate(**submit_fields(request))]))[0]
        return pb.SubmitJobResponse(
            job_id=str(result.job.id), status=result.job.status, created=result.created
        )

    @_translated
    async def SubmitJobs(
        self, request: pb.SubmitJobsRequest, context: Any
    ) -> pb.SubmitJobsResponse:
        creates = [JobCreate(**submit_fields(j)) for j in request.jobs]
        results = await self._queue.submit(creates)
        return pb.SubmitJobsResponse(
            jobs=[
                pb.SubmitJobResponse(job_id=str(r.job.id), status=r.job.status, created=r.created)
                for r in results
            ]
        )

    @_translated
    async def GetJob(self, request: pb.GetJobRequest, context: Any) -> pb.Job:
        return job_to_pb(await self._queue.get(request.job_id))

    @_translated
    async def CancelJob(self, request: pb.CancelJobRequest, context: Any) -> pb.Job:
        return job_to_pb(await self._queue.cancel(request.job_id))

    @_translated
    async def ListJobs(self, request: pb.ListJobsRequest, context: Any) -> pb.ListJobsResponse:
        query = JobListQuery(**given(request, "status", "kind", "source", "limit", "cursor"))
        page = await self._queue.list_jobs(**query.model_dump())
        return pb.ListJobsResponse(
            jobs=[job_to_pb(j) for j in page.jobs], next_cursor=page.next_cursor or ""
        )

    async def StreamJob(
        self, request: pb.StreamJobRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.JobEvent]:
        events = self._queue.following.follow(request.job_id, last_event_id=request.last_event_id)
        try:
            async for event in self._drain.until_begun(events):
                if event is None:
                    continue
                final = event.job if event.terminal else None
                if event.terminal and final is None:
                    final = await self._queue.get(event.job_id)
                yield event_to_pb(event, final)
                if event.terminal:
                    return
        except (errors.CoreError, ValidationError) as exc:
            await abort_with(context, exc)
        if self._drain.active:
            # Handed back: the caller resumes from its last event id on another replica.
            await context.abort(grpc.StatusCode.UNAVAILABLE, HANDED_BACK)

    @_translated
    async def RegisterWorker(
        self, request: pb.RegisterWorkerRequest, context: Any
    ) -> pb.RegisterWorkerResponse:
        w = request.worker
        registration = WorkerRegister(
            id=w.id,
            tags=dict(w.tags),
            kinds=list(w.kinds),
            **given(w, "name", "platform", "arch", "host"),
        )
        await self._queue.register_worker(registration)
        return pb.RegisterWorkerResponse(ok=True, worker_id=registration.id)

    @_translated
    async def ClaimJob(self, request: pb.ClaimJobRequest, context: Any) -> pb.ClaimJobResponse:
        claim = ClaimRequest(
            worker_id=request.worker_id,
            kinds=list(request.kinds),
            **given(request, "lease_seconds", "max_jobs", "wait_seconds"),
        )
        jobs = [job_to_pb(j, with_lease=True) for j in await self._queue.claim(claim)]
        response = pb.ClaimJobResponse(found=bool(jobs), jobs=jobs)
        if jobs:
            response.job.CopyFrom(jobs[0])
        return response

    @_translated
    async def Heartbeat(self, request: pb.HeartbeatRequest, context: Any) -> pb.HeartbeatResponse:
        beat = await self._queue.heartbeat(
            HeartbeatRequest(
                worker_id=request.worker_id,
                job_id=request.job_id,
                **given(request, "lease_token", "extend_seconds"),
            )
        )
        return pb.HeartbeatResponse(
            ok=True, canceled=beat.canceled, lease_until=ts(beat.lease_until)
        )

    @_translated
    async def CompleteJob(
        self, request: pb.CompleteJobRequest, context: Any
    ) -> pb.CompleteJobResponse:
        status = await self._queue.complete(_complete_fields(request))
        return pb.CompleteJobResponse(ok=True, status=status)

    @_translated
    async def CompleteJobs(
        self, request: pb.CompleteJobsRequest, context: Any
    ) -> pb.CompleteJobsResponse:
        statuses = await self._queue.complete_many([_complete_fields(j) for j in request.jobs])
        return pb.CompleteJobsResponse(
            results=[pb.CompleteJobResponse(ok=s is not None, status=s or "") for s in statuses]
        )

    @_translated
    async def FailJob(self, request: pb.FailJobRequest, context: Any) -> pb.FailJobResponse:
        outcome = await self._queue.fail(
            FailRequest(
                worker_id=request.worker_id,
                job_id=request.job_id,
                metrics=parse_json("metrics_json", request.metrics_json, object_only=True),
                retry_after=given(request, "retry_after_seconds").get("retry_after_seconds"),
                **given(request, "lease_token", "error", "retryable", "release"),
            )
        )
        return pb.FailJobResponse(ok=True, status=outcome.status, run_after=ts(outcome.run_after))

    @_translated
    async def ReportMetrics(
        self, request: pb.ReportMetricsRequest, context: Any
    ) -> pb.ReportMetricsResponse:
        metrics = parse_json("metrics_json", request.metrics_json, default={}, object_only=True)
        await self.fleet.report_metrics(
            worker_id=request.worker_id or None,
            device_id=request.device_id or None,
            metrics=metrics,
        )
        return pb.ReportMetricsResponse(ok=True)

    @_translated
    async def ReportProgress(
        self, request: pb.ReportProgressRequest, context: Any
    ) -> pb.ReportProgressResponse:
        added = await self._queue.add_progress(_progress_fields(request))
        return pb.ReportProgressResponse(ok=True, event_id=added.event.id, canceled=added.canceled)

    @_translated
    async def ReportProgresses(
        self, request: pb.ReportProgressesRequest, context: Any
    ) -> pb.ReportProgressesResponse:
        """Each report stands on its own: one that is malformed, or whose job is not running
        under its lease, is answered ok = false; the others are written."""
        check_batch(len(request.reports), "progress reports")
        parsed: list[ProgressRequest | errors.CoreError] = []
        for report in request.reports:
            try:
                parsed.append(_progress_fields(report))
            except (errors.CoreError, ValidationError) as exc:
                parsed.append(as_core_error(exc))
        valid = [p for p in parsed if isinstance(p, ProgressRequest)]
        added = iter(await self._queue.add_progress_many(valid) if valid else [])
        results = []
        for item in parsed:
            answer = next(added) if isinstance(item, ProgressRequest) else item
            if isinstance(answer, ProgressAdded):
                results.append(
                    pb.ReportProgressResponse(
                        ok=True, event_id=answer.event.id, canceled=answer.canceled
                    )
                )
            else:
                results.append(pb.ReportProgressResponse(ok=False, error=str(answer)))
        return pb.ReportProgressesResponse(results=results)

    @_translated
    async def MarkDeviceOffline(
        self, request: pb.MarkDeviceOfflineRequest, context: Any
    ) -> pb.MarkDeviceOfflineResponse:
        await self.fleet.mark_offline(
            DeviceOffline(
                device_id=request.device_id,
                reason=request.reason,
                worker_id=request.worker_id or None,
            )
        )
        return pb.MarkDeviceOfflineResponse(ok=True)

    @_translated
    async def ListDevices(
        self, request: pb.ListDevicesRequest, context: Any
    ) -> pb.ListDevicesResponse:
        devices = await self.fleet.list_devices(online_only=request.online_only)
        return pb.ListDevicesResponse(devices_json=dumps(devices))

    @_translated
    async def ListModels(
        self, request: pb.ListModelsRequest, context: Any
    ) -> pb.ListModelsResponse:
        return pb.ListModelsResponse(models_json=dumps(await self.fleet.list_models()))

    @_translated
    async def LlmRequest(
        self, request: pb.LlmRequestRequest, context: Any
    ) -> pb.LlmRequestResponse:
        body = parse_json("request_json", request.request_json, default={}, object_only=True)
        routed = await self._routing.request(LlmRequest.model_validate(body))
        return pb.LlmRequestResponse(
            job_id=routed.job_id,
            provider=routed.provider,
            kind=routed.kind,
            model=routed.model,
            device_id=routed.device_id or "",
            reason=routed.reason,
        )

    @_translated
    async def ReportBenchmark(
        self, request: pb.ReportBenchmarkRequest, context: Any
    ) -> pb.ReportBenchmarkResponse:
        report = BenchmarkReport(
            model=request.model,
            task_type=request.task_type,
            tokens_in=request.tokens_in,
            tokens_out=request.tokens_out,
            latency_ms=request.latency_ms,
            tps=request.tps,
            ok=request.ok,
            **given(request, "job_id", "device_id", "provider", "error"),
        )
        await self._routing.report_benchmark(BenchmarkRecord(**report.model_dump()))
        return pb.ReportBenchmarkResponse(ok=True)

    @_translated
    async def GetStatus(self, request: pb.GetStatusRequest, context: Any) -> pb.StatusSnapshot:
        return pb.StatusSnapshot(
            snapshot_json=dumps(snapshot_view(await self._dashboard.snapshot()))
        )
