"""The typed async client for core's gRPC API, shared by worker, MCP bridge, telemetry and CLI.

Errors arrive as the classes of the error contract (`proto/errors.py`): core's own class, read
from the code in the call's trailers, translated here only.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import grpc

from proto import llm_pb2 as pb
from proto import llm_pb2_grpc as pb_grpc
from proto.errors import (
    ERROR_CODE_KEY,
    Conflict,
    CoreError,
    CoreUnavailable,
    InvalidInput,
    JobFinished,
    LeaseLost,
    NotFound,
    NotImplementedByCore,
    Unauthorized,
    class_for_code,
    class_for_grpc_status,
)

__all__ = [
    "Conflict",
    "CoreClient",
    "CoreClientError",
    "CoreError",
    "CoreUnavailable",
    "InvalidInput",
    "InvalidRequest",
    "JobFinished",
    "LeaseLost",
    "NotFound",
    "NotImplementedByCore",
    "Unauthenticated",
    "Unauthorized",
    "to_json",
    "translate",
]

# Resumes of a cut StreamJob before giving up (back-off 0.1 s doubling to 2 s: ~9 s in all).
STREAM_RESUMES = 8
# What a stopping core replica says when it hands a StreamJob back; always worth resuming.
STREAM_HANDED_BACK = "core replica shutting down; resume from the last event id on another replica"


# Any error core answered with, or a failure to reach it: the classes of the error contract.
CoreClientError = CoreError
# Other names for two of them, part of the client's public names.
InvalidRequest = InvalidInput
Unauthenticated = Unauthorized


def translate(exc: grpc.aio.AioRpcError) -> CoreError:
    """The error class core raised (its code is in the trailers), else what the status means."""
    trailers = exc.trailing_metadata() or ()
    code = next((value for key, value in trailers if key == ERROR_CODE_KEY), None)
    cls = class_for_code(code) if isinstance(code, str) else None
    if cls is None:
        cls = class_for_grpc_status(exc.code())
    return cls.received(exc.details() or exc.code().name)


def to_json(value: Any) -> str:
    return "" if value is None else json.dumps(value, separators=(",", ":"))


class CoreClient:
    """One gRPC channel to core. Use as `async with CoreClient(addr) as core: ...`."""

    def __init__(
        self,
        address: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        stream_resumes: int = STREAM_RESUMES,
    ) -> None:
        """`stream_resumes`: how many times a cut StreamJob is resumed before CoreUnavailable
        (the default, 8, retries for about ten seconds)."""
        self.address = address
        self._timeout = timeout
        self._stream_resumes = stream_resumes
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._channel = grpc.aio.insecure_channel(
            address,
            options=[
                ("grpc.max_receive_message_length", 16 * 1024 * 1024),
                ("grpc.max_send_message_length", 16 * 1024 * 1024),
                ("grpc.keepalive_time_ms", 30_000),
                ("grpc.enable_retries", 0),
                # Notice a returning core within seconds (gRPC's default backoff grows to 120 s).
                ("grpc.max_reconnect_backoff_ms", 5_000),
                # A target naming several replicas (a headless Service's DNS name, or
                # "ipv4:a:9090,b:9090") spreads calls over every ready one, so a replica that
                # lost its database costs a retry, not a worker stuck on it.
                ("grpc.lb_policy_name", "round_robin"),
            ],
        )
        self._stub = pb_grpc.CoreStub(self._channel)

    async def __aenter__(self) -> CoreClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._channel.close()

    async def _call(self, method: Any, request: Any, *, deadline: float | None = None) -> Any:
        try:
            return await method(request, timeout=deadline or self._timeout, metadata=self._metadata)
        except grpc.aio.AioRpcError as exc:
            raise translate(exc) from None

    # -- clients -----------------------------------------------------------------

    async def submit_job(
        self,
        kind: str,
        payload: dict[str, Any] | None = None,
        *,
        priority: int = 0,
        source: str = "",
        max_attempts: int = 0,
        deadline_at: str = "",
        idempotency_key: str = "",
    ) -> pb.SubmitJobResponse:
        return await self._call(
            self._stub.SubmitJob,
            pb.SubmitJobRequest(
                kind=kind,
                payload_json=to_json(payload or {}),
                priority=priority,
                source=source,
                max_attempts=max_attempts,
                deadline_at=deadline_at,
                idempotency_key=idempotency_key,
            ),
        )

    async def submit_jobs(self, jobs: Sequence[pb.SubmitJobRequest]) -> list[pb.SubmitJobResponse]:
        answer = await self._call(self._stub.SubmitJobs, pb.SubmitJobsRequest(jobs=jobs))
        return list(answer.jobs)

    async def get_job(self, job_id: str) -> pb.Job:
        return await self._call(self._stub.GetJob, pb.GetJobRequest(job_id=job_id))

    async def cancel_job(self, job_id: str) -> pb.Job:
        return await self._call(self._stub.CancelJob, pb.CancelJobRequest(job_id=job_id))

    async def list_jobs(self, **filters: Any) -> pb.ListJobsResponse:
        return await self._call(self._stub.ListJobs, pb.ListJobsRequest(**filters))

    async def stream_job(
        self, job_id: str, *, last_event_id: int = 0
    ) -> AsyncIterator[pb.JobEvent]:
        """The job's events until its terminal one.

        A stream cut after it started by an unavailable core (a replica stopping, a restart)
        is resumed from the last event seen, retrying `stream_resumes` times (about ten
        seconds) before CoreUnavailable is raised; a stream that cannot start raises at once.
        """
        last, started, failures = last_event_id, False, 0
        while True:
            call = self._stub.StreamJob(
                pb.StreamJobRequest(job_id=job_id, last_event_id=last), metadata=self._metadata
            )
            try:
                async for event in call:
                    last, started, failures = max(last, event.id), True, 0
                    yield event
                return
            except grpc.aio.AioRpcError as exc:
                error = translate(exc)
                handed_back = error.message == STREAM_HANDED_BACK
                if not isinstance(error, CoreUnavailable) or not (started or handed_back):
                    raise error from None
                if failures >= self._stream_resumes:
                    raise error from None
            finally:
                call.cancel()
            await asyncio.sleep(min(0.1 * 2**failures, 2.0))
            failures += 1

    # -- workers -----------------------------------------------------------------

    async def register_worker(self, worker: pb.WorkerInfo) -> None:
        await self._call(self._stub.RegisterWorker, pb.RegisterWorkerRequest(worker=worker))

    async def claim(
        self,
        *,
        worker_id: str,
        kinds: Sequence[str],
        lease_seconds: int,
        max_jobs: int = 1,
        wait_seconds: float = 0.0,
    ) -> list[pb.Job]:
        answer = await self._call(
            self._stub.ClaimJob,
            pb.ClaimJobRequest(
                worker_id=worker_id,
                kinds=list(kinds),
                lease_seconds=lease_seconds,
                max_jobs=max_jobs,
                wait_seconds=wait_seconds,
            ),
            deadline=wait_seconds + self._timeout,
        )
        return list(answer.jobs)

    async def heartbeat(
        self, *, worker_id: str, job_id: str, lease_token: str, extend_seconds: int
    ) -> pb.HeartbeatResponse:
        return await self._call(
            self._stub.Heartbeat,
            pb.HeartbeatRequest(
                worker_id=worker_id,
                job_id=job_id,
                lease_token=lease_token,
                extend_seconds=extend_seconds,
            ),
        )

    async def complete(
        self,
        *,
        worker_id: str,
        job_id: str,
        lease_token: str,
        result: Any,
        metrics: dict[str, Any] | None = None,
        progress: dict[str, Any] | None = None,
    ) -> str:
        """The job's final status. `progress`: the end of its stream, written as its last
        progress event (only if the completion is accepted)."""
        answer = await self._call(
            self._stub.CompleteJob,
            pb.CompleteJobRequest(
                worker_id=worker_id,
                job_id=job_id,
                lease_token=lease_token,
                result_json=to_json(result),
                metrics_json=to_json(metrics),
                progress_json=to_json(progress),
            ),
        )
        return answer.status

    async def complete_many(
        self, items: Sequence[pb.CompleteJobRequest]
    ) -> list[pb.CompleteJobResponse]:
        answer = await self._call(self._stub.CompleteJobs, pb.CompleteJobsRequest(jobs=items))
        return list(answer.results)

    async def fail(
        self,
        *,
        worker_id: str,
        job_id: str,
        lease_token: str,
        error: str,
        retryable: bool = True,
        release: bool = False,
        metrics: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> pb.FailJobResponse:
        request = pb.FailJobRequest(
            worker_id=worker_id,
            job_id=job_id,
            lease_token=lease_token,
            error=error,
            retryable=retryable,
            release=release,
            metrics_json=to_json(metrics),
        )
        if retry_after is not None:
            request.retry_after_seconds = retry_after
        return await self._call(self._stub.FailJob, request)

    async def report_progress(
        self, *, worker_id: str, job_id: str, lease_token: str, data: dict[str, Any]
    ) -> pb.ReportProgressResponse:
        """The event's id, and `canceled` when the job's cancellation was asked for."""
        return await self._call(
            self._stub.ReportProgress,
            pb.ReportProgressRequest(
                worker_id=worker_id, job_id=job_id, lease_token=lease_token, data_json=to_json(data)
            ),
        )

    async def report_progress_many(
        self, reports: Sequence[pb.ReportProgressRequest]
    ) -> list[pb.ReportProgressResponse]:
        """Several jobs' progress in one call (at most one report per job): one answer per
        report, in order, `ok` false where the job is not running under that lease."""
        answer = await self._call(
            self._stub.ReportProgresses, pb.ReportProgressesRequest(reports=reports)
        )
        return list(answer.results)

    async def report_benchmark(self, report: pb.ReportBenchmarkRequest) -> None:
        """Stores one benchmark run's figures (they feed routing)."""
        await self._call(self._stub.ReportBenchmark, report)

    # -- routing and the fleet -----------------------------------------------------

    async def llm_request(self, request: dict[str, Any]) -> pb.LlmRequestResponse:
        """Routes like POST /v1/llm/request; `request` is that endpoint's JSON body."""
        return await self._call(
            self._stub.LlmRequest, pb.LlmRequestRequest(request_json=to_json(request))
        )

    async def mark_device_offline(
        self, *, device_id: str, reason: str, worker_id: str = ""
    ) -> None:
        await self._call(
            self._stub.MarkDeviceOffline,
            pb.MarkDeviceOfflineRequest(device_id=device_id, reason=reason, worker_id=worker_id),
        )

    async def report_metrics(
        self, *, worker_id: str, device_id: str, metrics: dict[str, Any]
    ) -> None:
        """Stores device metrics; `ram_gb` / `vram_gb` in them set the device's memory."""
        await self._call(
            self._stub.ReportMetrics,
            pb.ReportMetricsRequest(
                worker_id=worker_id, device_id=device_id, metrics_json=to_json(metrics)
            ),
        )

    async def list_devices(self, *, online_only: bool = False) -> Any:
        """The JSON of GET /v1/devices."""
        answer = await self._call(
            self._stub.ListDevices, pb.ListDevicesRequest(online_only=online_only)
        )
        return json.loads(answer.devices_json)

    async def list_models(self) -> Any:
        """The JSON of GET /v1/models."""
        answer = await self._call(self._stub.ListModels, pb.ListModelsRequest())
        return json.loads(answer.models_json)

    async def get_status(self) -> Any:
        """The JSON of GET /v1/dashboard."""
        answer = await self._call(self._stub.GetStatus, pb.GetStatusRequest())
        return json.loads(answer.snapshot_json)
