"""The MCP server: llm-mcp's queue as tools for LLM agents, over gRPC to core.

Every failure a caller can cause or meet (unknown job, invalid input, core down, an RPC core
does not implement yet) comes back as an MCP tool error with the reason; the session lives on.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, ToolAnnotations
from pydantic import Field

from mcp_bridge.answers import answer_text, token_counts
from mcp_bridge.following import FollowOutcome, follow_job
from mcp_bridge.models import (
    Constraints,
    DeviceList,
    JobInfo,
    LlmAnswer,
    ModelList,
    QueueStats,
    SubmittedJob,
    WaitResult,
)
from mcp_bridge.stats import count_jobs_by_status
from mcp_bridge.views import job_view
from proto.client import (
    CoreClient,
    CoreClientError,
    CoreUnavailable,
    InvalidInput,
    NotFound,
    NotImplementedByCore,
)

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

INSTRUCTIONS = (
    "llm-mcp routes LLM calls to a fleet of Ollama machines and cloud providers through a "
    "durable job queue. Use llm_request for a model answer; submit_job/wait_job/get_job/"
    "cancel_job for raw jobs; list_devices/list_models/queue_stats to see the fleet."
)

JobId = Annotated[str, Field(min_length=1, max_length=100, description="The job's id (a UUID)")]
Timeout = Annotated[float, Field(ge=0, le=3600, description="Seconds to wait at most")]


def tool_error(exc: CoreClientError, core_addr: str, what: str) -> ToolError:
    """The error as the message an agent reads; it starts with the error's stable code."""
    if isinstance(exc, CoreUnavailable):
        text = f"core is unavailable at {core_addr} ({exc.message}); try again later"
    elif isinstance(exc, NotFound):
        text = f"not found: {exc.message}"
    elif isinstance(exc, NotImplementedByCore):
        text = f"{what} is not available: core does not implement it yet"
    elif isinstance(exc, InvalidInput):
        text = f"invalid input: {exc.message}"
    else:
        text = f"{what} failed: {exc.message}"
    return ToolError(f"[{exc.code}] {text}")


def _registrar(server: MCPServer) -> Callable[..., Callable[[F], F]]:
    """Like `server.tool(...)`, with the docstring reflowed into one clean description."""

    def tool(**hints: Any) -> Callable[[F], F]:
        def register(fn: F) -> F:
            description = " ".join(inspect.cleandoc(fn.__doc__ or "").split())
            server.add_tool(fn, description=description, annotations=ToolAnnotations(**hints))
            return fn

        return register

    return tool


class PromptlessServer(MCPServer):
    """An MCPServer that has no prompts and says so: the prompts capability is not
    advertised, and asking for a prompt is invalid params (-32602), not an internal error."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The SDK registers prompts/list for every server; the capability follows the handler.
        handlers = getattr(self._lowlevel_server, "_request_handlers", {})
        handlers.pop("prompts/list", None)

    async def get_prompt(self, name: str, *_args: Any, **_kwargs: Any) -> Any:
        raise MCPError(INVALID_PARAMS, f"Unknown prompt: {name}; this server has no prompts")


def build_mcp_server(core: CoreClient) -> MCPServer:
    """The MCP server with every tool and the job://{id} resource, calling `core`."""
    server = PromptlessServer("llm-mcp", instructions=INSTRUCTIONS, version="0.1.0")
    tool = _registrar(server)

    async def follow_with_progress(ctx: Context, job_id: str, within: float) -> FollowOutcome:
        async def report(step: int, _type: str, message: str) -> None:
            await ctx.report_progress(step, None, message)

        return await follow_job(core, job_id, within=within, report=report)

    @tool(read_only_hint=False, open_world_hint=True)
    async def llm_request(
        ctx: Context,
        prompt: Annotated[str | None, Field(max_length=200_000, description="The prompt")] = None,
        messages: Annotated[
            list[dict[str, Any]] | None,
            Field(max_length=500, description='Chat messages [{"role", "content"}]'),
        ] = None,
        task: Literal["chat", "generate", "embed"] = "chat",
        provider: Literal["auto", "ollama", "openai", "openrouter"] = "auto",
        model: Annotated[str | None, Field(max_length=200)] = None,
        temperature: Annotated[float | None, Field(ge=0, le=2)] = None,
        max_tokens: Annotated[int | None, Field(ge=1, le=1_000_000)] = None,
        priority: Annotated[int, Field(ge=-1000, le=1000)] = 0,
        constraints: Annotated[
            Constraints | None,
            Field(description="As POST /v1/llm/request: prefer_local, force_cloud, ..."),
        ] = None,
        prefer_local: bool = False,
        force_cloud: bool = False,
        max_latency_ms: Annotated[int | None, Field(ge=1)] = None,
        wait: Annotated[bool, Field(description="False: return the job id at once")] = True,
        timeout_seconds: Timeout = 300,
    ) -> LlmAnswer:
        """Ask a language model. Core picks provider, model and device (as POST
        /v1/llm/request), queues the job, and - with wait=true - this tool waits for the
        answer, sending progress notifications, and returns the answer text with provider,
        model, device and token counts. With wait=false it returns the job id at once
        (follow it with wait_job). A job that fails is a tool error carrying its error."""
        if not prompt and not messages:
            raise ToolError("give `prompt` or `messages`")
        request: dict[str, Any] = {"task": task, "provider": provider, "priority": priority}
        request["source"] = "mcp"
        # Waiting: the worker streams tokens, which arrive here as progress notifications.
        request["stream"] = wait and task != "embed"
        optional = {
            "prompt": prompt,
            "messages": messages,
            "model": model,
            "temperature": temperature,
            "max_tokens": max_tokens,
        }
        request.update({k: v for k, v in optional.items() if v is not None})
        # The object as the HTTP API takes it; the flat flags (older callers) add to it.
        wanted = (constraints or Constraints()).model_dump(exclude_none=True)
        wanted["prefer_local"] = wanted["prefer_local"] or prefer_local
        wanted["force_cloud"] = wanted["force_cloud"] or force_cloud
        if max_latency_ms is not None:
            wanted.setdefault("max_latency_ms", max_latency_ms)
        request["constraints"] = wanted
        try:
            routed = await core.llm_request(request)
            routing = {
                "job_id": routed.job_id,
                "provider": routed.provider or None,
                "kind": routed.kind or None,
                "model": routed.model or None,
                "device_id": routed.device_id or None,
                "reason": list(routed.reason),
            }
            if not wait:
                return LlmAnswer(status="queued", finished=False, **routing)
            where = " on ".join(x for x in (routed.model, routed.device_id) if x)
            await ctx.report_progress(0, None, f"routed to {routed.provider} {where}".strip())
            outcome = await follow_with_progress(ctx, routed.job_id, timeout_seconds)
        except CoreClientError as exc:
            raise tool_error(exc, core.address, "llm_request") from None
        answer = llm_answer(outcome, routing)
        if answer.status in ("error", "canceled"):
            raise ToolError(f"job {answer.job_id} {answer.status}: {answer.error or 'no result'}")
        return answer

    @tool(read_only_hint=False, open_world_hint=False)
    async def submit_job(
        kind: Annotated[
            str, Field(min_length=1, max_length=100, description="Job kind, e.g. echo")
        ],
        payload: Annotated[
            dict[str, Any] | None, Field(description="The job's input, a JSON object")
        ] = None,
        priority: Annotated[int, Field(ge=-1000, le=1000, description="Higher runs first")] = 0,
        source: Annotated[str, Field(min_length=1, max_length=200)] = "mcp",
        max_attempts: Annotated[int | None, Field(ge=1, le=100)] = None,
        deadline_at: Annotated[
            str | None, Field(max_length=64, description="RFC 3339 time after which it fails")
        ] = None,
        idempotency_key: Annotated[
            str | None, Field(max_length=200, description="Same key = same job")
        ] = None,
    ) -> SubmittedJob:
        """Put a raw job in the queue (kinds: ollama.generate, ollama.embed, openai.chat,
        openrouter.chat, echo, ...). Returns its id; follow it with wait_job or get_job."""
        try:
            answer = await core.submit_job(
                kind,
                payload or {},
                priority=priority,
                source=source,
                max_attempts=max_attempts or 0,
                deadline_at=deadline_at or "",
                idempotency_key=idempotency_key or "",
            )
        except CoreClientError as exc:
            raise tool_error(exc, core.address, "submit_job") from None
        return SubmittedJob(job_id=answer.job_id, status=answer.status, created=answer.created)

    @tool(read_only_hint=True)
    async def get_job(job_id: JobId) -> JobInfo:
        """A job's current status, result or error, attempts and timestamps."""
        try:
            return JobInfo.from_pb(await core.get_job(job_id))
        except CoreClientError as exc:
            raise tool_error(exc, core.address, "get_job") from None

    @tool(read_only_hint=True)
    async def wait_job(ctx: Context, job_id: JobId, timeout_seconds: Timeout = 60) -> WaitResult:
        """Wait until the job ends (done, error or canceled) or `timeout_seconds` pass,
        sending a progress notification for each of its events. `finished` says which."""
        try:
            outcome = await follow_with_progress(ctx, job_id, timeout_seconds)
        except CoreClientError as exc:
            raise tool_error(exc, core.address, "wait_job") from None
        return WaitResult(
            finished=outcome.finished,
            job=JobInfo.from_pb(outcome.job),
            events_seen=outcome.events_seen,
        )

    @tool(destructive_hint=True, idempotent_hint=True)
    async def cancel_job(job_id: JobId) -> JobInfo:
        """Cancel a job: a queued one ends at once, a running one when its worker learns of it
        (cancel_requested is then true). Canceling a finished job changes nothing."""
        try:
            return JobInfo.from_pb(await core.cancel_job(job_id))
        except CoreClientError as exc:
            raise tool_error(exc, core.address, "cancel_job") from None

    @tool(read_only_hint=True)
    async def list_devices(
        online_only: Annotated[bool, Field(description="Only devices online now")] = False,
    ) -> DeviceList:
        """The machines of the fleet (Tailscale discovery): online state, Ollama address,
        models and load, as core's GET /v1/devices."""
        try:
            answer = await core.list_devices(online_only=online_only)
        except CoreClientError as exc:
            raise tool_error(exc, core.address, "list_devices") from None
        return DeviceList(devices=_items(answer, "devices"))

    @tool(read_only_hint=True)
    async def list_models() -> ModelList:
        """The models the fleet can run (per device, with size and parameters), as core's
        GET /v1/models."""
        try:
            answer = await core.list_models()
        except CoreClientError as exc:
            raise tool_error(exc, core.address, "list_models") from None
        return ModelList(models=_items(answer, "models"))

    @tool(read_only_hint=True)
    async def queue_stats() -> QueueStats:
        """How many jobs are queued, running, done, error and canceled."""
        try:
            return await count_jobs_by_status(core)
        except CoreClientError as exc:
            raise tool_error(exc, core.address, "queue_stats") from None

    @server.resource(
        "job://{job_id}",
        name="job",
        description="A job of the queue (status, payload, result) as JSON",
        mime_type="application/json",
    )
    async def job_resource(job_id: str) -> str:
        try:
            job = await core.get_job(job_id)
        except NotFound as exc:
            raise ResourceNotFoundError(exc.message) from None
        except CoreClientError as exc:
            raise ResourceError(str(tool_error(exc, core.address, "reading the job"))) from None
        return json.dumps(job_view(job))

    return server


def llm_answer(outcome: FollowOutcome, routing: dict[str, Any]) -> LlmAnswer:
    """The llm_request answer from a followed job and core's routing decision."""
    view = job_view(outcome.job)
    tokens_in, tokens_out = token_counts(view["result"], view["metrics"])
    return LlmAnswer(
        **{
            **routing,
            "provider": view["provider"] or routing["provider"],
            "model": view["model"] or routing["model"],
            "device_id": view["device_id"] or routing["device_id"],
        },
        status=outcome.job.status,
        finished=outcome.finished,
        answer=answer_text(view["result"]) if outcome.job.status == "done" else None,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        error=view["error"],
        result=view["result"],
    )


def _items(answer: Any, key: str) -> list[dict[str, Any]]:
    """A list endpoint's items, whether core answers a bare list or {key: [...]}."""
    items = answer.get(key, []) if isinstance(answer, dict) else answer
    return [i if isinstance(i, dict) else {"value": i} for i in items or []]
