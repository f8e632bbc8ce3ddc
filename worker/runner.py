"""The worker loop: register, long-poll claim, run handlers under heartbeats, report.

Holds at most WORKER_CONCURRENCY jobs. A job whose lease is lost (or that was
canceled) is dropped at the next heartbeat. On stop it claims nothing more,
lets running jobs finish for WORKER_SHUTDOWN_GRACE seconds, then hands the
rest back to the queue without spending an attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import platform
import socket
import time
from typing import Any

from proto import llm_pb2 as pb
from proto.client import CoreClient, CoreClientError, CoreUnavailable, LeaseLost, to_json
from serving.side_tasks import SideTasks
from worker.completer import Completer
from worker.handlers.base import Handler, JobContext, JobFailed
from worker.progress import ProgressBatcher
from worker.progress_reports import ProgressReports
from worker.redact import redact, secrets_of
from worker.settings import WorkerSettings

log = logging.getLogger(__name__)

REGISTER_EVERY_SECONDS = 30.0


class Worker:
    def __init__(
        self, settings: WorkerSettings, client: CoreClient, handlers: dict[str, Handler]
    ) -> None:
        self.settings = settings
        self.client = client
        self.handlers = handlers
        self.kinds = sorted(handlers)
        self.running: dict[str, asyncio.Task[None]] = {}
        self.completer = Completer(client, give_up_after=settings.worker_lease_seconds)
        self.progress_reports = ProgressReports(client, worker_id=settings.worker_id)
        # Set once core knows this worker and its kinds (routing counts it as available).
        self.registered = asyncio.Event()
        self._secrets = secrets_of(settings)

    @property
    def worker_id(self) -> str:
        return self.settings.worker_id

    def _info(self) -> pb.WorkerInfo:
        return pb.WorkerInfo(
            id=self.worker_id,
            name=self.worker_id,
            platform=platform.system().lower(),
            arch=platform.machine(),
            host=socket.gethostname(),
            kinds=self.kinds,
        )

    async def _register_forever(self) -> None:
        registered = self.registered
        delay = 0.2
        while True:
            try:
                await self.client.register_worker(self._info())
                if not registered.is_set():
                    log.info(
                        "worker %s registered with core at %s; kinds: %s",
                        self.worker_id,
                        self.client.address,
                        ", ".join(self.kinds),
                    )
                registered.set()
                delay = REGISTER_EVERY_SECONDS
            except CoreClientError as exc:
                log.warning("worker %s: cannot register with core (%s)", self.worker_id, exc)
                delay = min(max(delay * 2, 0.2), 5.0) if not registered.is_set() else 5.0
            await asyncio.sleep(delay)

    async def run(self, stop: asyncio.Event) -> None:
        """Runs until `stop` is set, then shuts down as described in the module doc. When its
        register, completer or progress task dies, shuts down the same way, then raises
        SideTaskDied."""
        registered = self.registered
        side = SideTasks()
        side.start(self._register_forever(), name="worker-register")
        side.watch(self.completer.start())
        side.watch(self.progress_reports.start())
        stop_wait = asyncio.create_task(side.until_stopped(stop))
        try:
            await asyncio.wait(
                [stop_wait, asyncio.create_task(registered.wait())],
                return_when=asyncio.FIRST_COMPLETED,
            )
            while not stop.is_set() and side.failure is None:
                free = self.settings.worker_concurrency - len(self.running)
                if free <= 0:
                    await asyncio.wait(
                        [stop_wait, *self.running.values()], return_when=asyncio.FIRST_COMPLETED
                    )
                    continue
                claim = asyncio.create_task(self._claim(free))
                await asyncio.wait([stop_wait, claim], return_when=asyncio.FIRST_COMPLETED)
                if not claim.done():
                    claim.cancel()
                    with contextlib.suppress(asyncio.CancelledError, CoreClientError):
                        await claim
                    break
                for job in claim.result():
                    self.running[job.id] = asyncio.create_task(self._run_job(job))
        finally:
            await self._drain()
            side.cancel()
            stop_wait.cancel()
            await self.completer.stop()
            await self.progress_reports.stop()
            await side.join()
        side.raise_if_died()

    async def _claim(self, max_jobs: int) -> list[pb.Job]:
        try:
            return await self.client.claim(
                worker_id=self.worker_id,
                kinds=self.kinds,
                lease_seconds=self.settings.worker_lease_seconds,
                max_jobs=max_jobs,
                wait_seconds=self.settings.worker_claim_wait,
            )
        except CoreUnavailable as exc:
            log.warning("worker %s: core unreachable while claiming (%s)", self.worker_id, exc)
            await asyncio.sleep(1.0)
            return []

    async def _drain(self) -> None:
        if not self.running:
            return
        log.info(
            "worker %s: waiting up to %.0fs for %d running jobs",
            self.worker_id,
            self.settings.worker_shutdown_grace,
            len(self.running),
        )
        _done, pending = await asyncio.wait(
            list(self.running.values()), timeout=self.settings.worker_shutdown_grace
        )
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _run_job(self, job: pb.Job) -> None:
        started = time.perf_counter()
        extra = {"job_id": job.id, "worker_id": self.worker_id, "device_id": job.device_id}
        canceled = asyncio.Event()  # a progress report learnt that the job was canceled
        context = JobContext(
            job_id=job.id,
            kind=job.kind,
            payload=json.loads(job.payload_json) if job.payload_json else {},
            attempt=job.attempts,
            worker_id=self.worker_id,
            device_id=job.device_id,
            provider=job.provider,
            model=job.model,
            progress=self._batcher(job, canceled),
        )
        try:
            await self._execute(job, context, started, extra, canceled)
        finally:
            if context.progress is not None:
                await context.progress.cancel()
            self.running.pop(job.id, None)

    def _batcher(self, job: pb.Job, canceled: asyncio.Event) -> ProgressBatcher:
        async def send(data: dict[str, Any]) -> None:
            if await self.progress_reports.report(job, data):
                canceled.set()

        return ProgressBatcher(send, interval=self.settings.worker_progress_interval)

    async def _execute(
        self,
        job: pb.Job,
        context: JobContext,
        started: float,
        extra: dict[str, str],
        canceled: asyncio.Event,
    ) -> None:
        work = asyncio.create_task(self.handlers[job.kind](context))
        beats = asyncio.create_task(self._heartbeat_until_done(job, work, canceled))
        try:
            outcome = await work
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                # Stopped by shutdown: give the job back without spending an attempt.
                await self._report_failure(job, "worker shutting down", release=True)
                raise
            log.info(
                "job dropped: %s", beats.result() if beats.done() else "cancelled", extra=extra
            )
            return
        except JobFailed as exc:
            message = redact(str(exc), self._secrets)
            if job.kind.startswith("ollama.") and not context.payload.get("ollama_addr"):
                # No device: the job went to OLLAMA_BASE_URL, whose absence is the common
                # surprise on a laptop; one line says so where the operator looks.
                log.warning(
                    "job failed on the default Ollama at %s (OLLAMA_BASE_URL): %s",
                    self.settings.ollama_base_url,
                    message,
                    extra=extra,
                )
            if exc.device_unreachable and job.device_id:
                await self._mark_device_offline(job.device_id, message, extra)
            if job.kind.startswith("benchmark."):
                await self._report_benchmark(job, context, None, error=message)
            await self._report_failure(
                job, message, retryable=exc.retryable, retry_after=exc.retry_after
            )
            return
        except Exception as exc:
            message = redact(f"{type(exc).__name__}: {exc}", self._secrets)
            log.error("handler for %s raised %s", job.kind, message, extra=extra)
            await self._report_failure(job, message)
            return
        finally:
            beats.cancel()
        # The end of the stream goes with the completion: every chunk is an event before the
        # job is done, and the two cost one call.
        rest = await context.progress.finish() if context.progress is not None else None
        metrics = {"latency_ms": round((time.perf_counter() - started) * 1000, 3)}
        metrics.update(outcome.metrics)
        if outcome.benchmark is not None:
            await self._report_benchmark(job, context, outcome.benchmark)
        status = await self.completer.complete(
            pb.CompleteJobRequest(
                worker_id=self.worker_id,
                job_id=job.id,
                lease_token=job.lease_token,
                result_json=to_json(outcome.result),
                metrics_json=to_json(metrics),
                progress_json=to_json(rest),
            )
        )
        if status is None:
            log.warning("completion refused: lease lost", extra=extra)

    async def _heartbeat_until_done(
        self, job: pb.Job, work: asyncio.Task[Any], canceled: asyncio.Event
    ) -> str | None:
        """Beats every lease/3 s, and at once when a progress report learnt that the job was
        canceled (the beat ends it in core); cancels `work` and returns why when the job must
        be dropped."""
        interval = self.settings.worker_lease_seconds / 3
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(canceled.wait(), interval)
            canceled.clear()  # one early beat per notice, not a loop of them
            try:
                beat = await self.client.heartbeat(
                    worker_id=self.worker_id,
                    job_id=job.id,
                    lease_token=job.lease_token,
                    extend_seconds=self.settings.worker_lease_seconds,
                )
            except LeaseLost as exc:
                work.cancel()
                return f"lease lost ({exc.message})"
            except CoreClientError as exc:
                log.warning("heartbeat failed (%s); will retry", exc, extra={"job_id": job.id})
                continue
            if beat.canceled:
                work.cancel()
                return "job canceled"

    async def _mark_device_offline(self, device_id: str, reason: str, extra: dict) -> None:
        """Tells core the device is unreachable; core's answer is only logged."""
        try:
            await self.client.mark_device_offline(
                device_id=device_id, reason=reason[:500], worker_id=self.worker_id
            )
            log.warning("device marked offline: %s", reason, extra=extra)
        except CoreClientError as exc:
            log.warning("could not mark device offline (%s): %s", exc, reason, extra=extra)

    async def _report_benchmark(
        self,
        job: pb.Job,
        context: JobContext,
        figures: dict[str, Any] | None,
        *,
        error: str | None = None,
    ) -> None:
        figures = figures or {}
        payload = context.payload
        try:
            await self.client.report_benchmark(
                pb.ReportBenchmarkRequest(
                    worker_id=self.worker_id,
                    job_id=job.id,
                    device_id=job.device_id,
                    provider="ollama",
                    model=str(figures.get("model") or payload.get("model") or job.model),
                    task_type=str(figures.get("task_type") or job.kind.rsplit(".", 1)[-1]),
                    tokens_in=int(figures.get("tokens_in") or 0),
                    tokens_out=int(figures.get("tokens_out") or 0),
                    latency_ms=float(figures.get("latency_ms") or 0.0),
                    tps=float(figures.get("tps") or 0.0),
                    ok=error is None,
                    error=error or "",
                )
            )
        except CoreClientError as exc:
            log.warning("could not report benchmark (%s)", exc, extra={"job_id": job.id})

    async def _report_failure(
        self,
        job: pb.Job,
        error: str,
        *,
        retryable: bool = True,
        release: bool = False,
        retry_after: float | None = None,
    ) -> None:
        try:
            await self.client.fail(
                worker_id=self.worker_id,
                job_id=job.id,
                lease_token=job.lease_token,
                error=error,
                retryable=retryable,
                release=release,
                retry_after=retry_after,
            )
        except CoreClientError as exc:
            log.warning("could not report failure of %s (%s); its lease will expire", job.id, exc)
