"""`llm-mcp`: run a service, start everything locally, or talk to core."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import EventSource
from pydantic import ValidationError

from llm_mcp.logs import setup_logging
from serving.heap import settle
from serving.side_tasks import SideTaskDied


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("llm-mcp")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _settings(cls: type[Any]) -> Any:
    """Builds a settings object; on bad config exits with a message naming the variable."""
    try:
        return cls()
    except ValidationError as exc:
        for error in exc.errors():
            name = "_".join(str(p) for p in error["loc"]).upper() or "configuration"
            print(f"llm-mcp: configuration error: {name}: {error['msg']}", file=sys.stderr)
        raise SystemExit(2) from None


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed (it comes with uvicorn[standard]): asyncpg and the servers run
    markedly faster on it. LLM_MCP_EVENT_LOOP=asyncio keeps the standard loop."""
    if os.environ.get("LLM_MCP_EVENT_LOOP") == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _run_until_signal(serve: Callable[[asyncio.Event], Any]) -> None:
    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        settle()  # after the imports: what they made is kept for good
        await serve(stop)

    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(_main())
    except (OSError, ValueError) as exc:  # ValueError: config read at start-up (device limits)
        print(f"llm-mcp: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except SideTaskDied:  # already logged at ERROR, with its traceback
        raise SystemExit(1) from None


def cmd_core(_args: argparse.Namespace) -> None:
    from core.runtime import serve
    from core.settings import CoreSettings

    setup_logging("core")
    settings = _settings(CoreSettings)
    _run_until_signal(lambda stop: serve(settings, stop))


def cmd_worker(_args: argparse.Namespace) -> None:
    from worker.main import run_worker
    from worker.settings import WorkerSettings

    setup_logging("worker")
    settings = _settings(WorkerSettings)
    try:
        _run_until_signal(lambda stop: run_worker(settings, stop))
    except ValueError as exc:
        print(f"llm-mcp: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_telemetry(_args: argparse.Namespace) -> None:
    from telemetry.main import NOT_CONFIGURED, run_telemetry
    from telemetry.settings import TelemetrySettings

    setup_logging("telemetry")
    settings = _settings(TelemetrySettings)
    if not settings.configured:
        print(f"llm-mcp telemetry: {NOT_CONFIGURED}", file=sys.stderr)
        raise SystemExit(2)
    _run_until_signal(lambda stop: run_telemetry(settings, stop))


def cmd_bridge(args: argparse.Namespace) -> None:
    from mcp_bridge.app import serve, serve_stdio
    from mcp_bridge.settings import BridgeSettings

    setup_logging("bridge")  # logs go to stderr, so stdout stays the MCP channel with --stdio
    settings = _settings(BridgeSettings)
    if args.stdio:
        try:
            asyncio.run(serve_stdio(settings))
        except KeyboardInterrupt:
            pass
        return
    _run_until_signal(lambda stop: serve(settings, stop))


def cmd_up(args: argparse.Namespace) -> None:
    from llm_mcp.up import run_up

    raise SystemExit(
        run_up(
            workers=args.workers,
            host=args.host,
            http_port=args.http_port,
            grpc_port=args.grpc_port,
            bridge_port=args.bridge_port,
            data_dir=Path(args.data_dir) if args.data_dir else None,
        )
    )


def _core_url(args: argparse.Namespace) -> str:
    return args.core_url.rstrip("/")


def _headers() -> dict[str, str]:
    token = os.environ.get("API_TOKEN")
    return {"authorization": f"Bearer {token}"} if token else {}


def _print_error(response: httpx.Response) -> None:
    try:
        error = response.json()["error"]
        print(
            f"llm-mcp: {response.status_code} {error['code']}: {error['message']}", file=sys.stderr
        )
    except (ValueError, KeyError, TypeError):
        print(f"llm-mcp: HTTP {response.status_code}: {response.text}", file=sys.stderr)


def cmd_submit(args: argparse.Namespace) -> None:
    try:
        payload = json.loads(args.payload)
    except ValueError as exc:
        print(f"llm-mcp: PAYLOAD is not valid JSON: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    body = {"kind": args.kind, "payload": payload, "priority": args.priority}
    if args.source:
        body["source"] = args.source
    response = httpx.post(f"{_core_url(args)}/v1/jobs", json=body, headers=_headers(), timeout=30)
    if response.status_code >= 400:
        _print_error(response)
        raise SystemExit(1)
    job_id = response.json()["job_id"]
    print(job_id)
    if args.watch:
        raise SystemExit(watch(_core_url(args), job_id))


def watch(core_url: str, job_id: str) -> int:
    """Prints the job's SSE events, one line each; exit code 0 when it ends done."""
    final = 1
    with httpx.stream(
        "GET", f"{core_url}/v1/jobs/{job_id}/stream", headers=_headers(), timeout=None
    ) as response:
        if response.status_code >= 400:
            response.read()
            _print_error(response)
            return 1
        for event in EventSource(response).iter_sse():
            if not event.data:
                continue  # a reconnect hint alone
            data = json.loads(event.data)
            if event.event == "job":
                print(f"{event.event:<10} status={data['status']}")
            else:
                extra = data.get("job") or data.get("data") or {}
                shown = {k: extra.get(k) for k in ("status", "result", "error") if k in extra}
                print(f"{event.event:<10} {json.dumps(shown, ensure_ascii=False)}")
                if event.event == "done":
                    final = 0
    return final


def cmd_watch(args: argparse.Namespace) -> None:
    raise SystemExit(watch(_core_url(args), args.job_id))


def _get_json(args: argparse.Namespace, method: str, path: str) -> Any:
    response = httpx.request(method, f"{_core_url(args)}{path}", headers=_headers(), timeout=120)
    if response.status_code >= 400:
        _print_error(response)
        raise SystemExit(1)
    return response.json()


def cmd_devices(args: argparse.Namespace) -> None:
    from llm_mcp.fleet_table import render_devices

    view = _get_json(args, "GET", "/v1/devices" + ("?online_only=true" if args.online else ""))
    print(json.dumps(view, indent=2) if args.json else render_devices(view))


def _client(args: argparse.Namespace) -> httpx.Client:
    return httpx.Client(base_url=_core_url(args), headers=_headers(), timeout=30)


def cmd_request(args: argparse.Namespace) -> None:
    from llm_mcp.ask import ask, request_body

    body = request_body(
        args.prompt,
        model=args.model,
        provider=args.provider,
        prefer_local=args.prefer_local,
        force_cloud=args.force_cloud,
    )
    with _client(args) as http:
        raise SystemExit(ask(http, body))


def cmd_jobs(args: argparse.Namespace) -> None:
    from llm_mcp.jobs_table import render_jobs

    query = f"?limit={args.limit}" + (f"&status={args.status}" if args.status else "")
    page = _get_json(args, "GET", f"/v1/jobs{query}")
    print(json.dumps(page, indent=2, ensure_ascii=False) if args.json else render_jobs(page))


def cmd_discover(args: argparse.Namespace) -> None:
    run = _get_json(args, "POST", "/v1/discovery/run")
    print(json.dumps(run["summary"], indent=2, ensure_ascii=False))
    raise SystemExit(0 if run["summary"]["ok"] else 1)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llm-mcp", description="LLM job router for a fleet of Ollama machines and clouds."
    )
    parser.add_argument("--version", action="version", version=f"llm-mcp {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="run core + workers locally (embedded Postgres by default)")
    up.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    up.add_argument("--host", default="127.0.0.1", help="address to listen on")
    up.add_argument("--http-port", type=int, default=8080)
    up.add_argument("--grpc-port", type=int, default=9090)
    up.add_argument("--data-dir", help="where the embedded Postgres keeps its data")
    up.add_argument("--bridge-port", type=int, default=3333, help="MCP bridge port")
    up.set_defaults(func=cmd_up)

    sub.add_parser("core", help="run core (HTTP + gRPC)").set_defaults(func=cmd_core)
    sub.add_parser("worker", help="run one worker").set_defaults(func=cmd_worker)
    sub.add_parser(
        "telemetry", help="keep a Telegram message updated with the fleet status"
    ).set_defaults(func=cmd_telemetry)

    bridge = sub.add_parser("bridge", help="run the MCP bridge (HTTP :3333 and /mcp)")
    bridge.add_argument("--stdio", action="store_true", help="serve MCP over stdin/stdout")
    bridge.set_defaults(func=cmd_bridge)

    default_core = os.environ.get("CORE_URL", "http://127.0.0.1:8080")
    submit = sub.add_parser("submit", help="enqueue a job: llm-mcp submit KIND JSON")
    submit.add_argument("kind")
    submit.add_argument("payload", help="the payload, a JSON object")
    submit.add_argument("--priority", type=int, default=0)
    submit.add_argument("--source")
    submit.add_argument("--watch", action="store_true", help="then follow it until it ends")
    submit.add_argument("--core-url", default=default_core)
    submit.set_defaults(func=cmd_submit)

    watch_cmd = sub.add_parser("watch", help="print a job's events until it ends")
    watch_cmd.add_argument("job_id")
    watch_cmd.add_argument("--core-url", default=default_core)
    watch_cmd.set_defaults(func=cmd_watch)

    devices = sub.add_parser("devices", help="print the fleet: devices, state, models, load")
    devices.add_argument("--online", action="store_true", help="online devices only")
    devices.add_argument("--json", action="store_true", help="the raw JSON of GET /v1/devices")
    devices.add_argument("--core-url", default=default_core)
    devices.set_defaults(func=cmd_devices)

    request = sub.add_parser(
        "request", help="route a prompt (POST /v1/llm/request) and print the answer as it streams"
    )
    request.add_argument("prompt")
    request.add_argument("--model", help="model name (default: the provider's default)")
    request.add_argument(
        "--provider", default="auto", choices=("auto", "ollama", "openai", "openrouter")
    )
    request.add_argument("--prefer-local", action="store_true", help="Ollama when one can serve")
    request.add_argument("--force-cloud", action="store_true", help="a cloud provider first")
    request.add_argument("--core-url", default=default_core)
    request.set_defaults(func=cmd_request)

    jobs = sub.add_parser("jobs", help="list jobs, newest first")
    jobs.add_argument("--status", choices=("queued", "running", "done", "error", "canceled"))
    jobs.add_argument("--limit", type=int, default=20, help="how many (1-500, default 20)")
    jobs.add_argument("--json", action="store_true", help="the raw JSON of GET /v1/jobs")
    jobs.add_argument("--core-url", default=default_core)
    jobs.set_defaults(func=cmd_jobs)

    discover = sub.add_parser("discover", help="run a discovery round now, print its summary")
    discover.add_argument("--core-url", default=default_core)
    discover.set_defaults(func=cmd_discover)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if getattr(args, "workers", 1) < 1:
        print("llm-mcp: --workers must be at least 1", file=sys.stderr)
        raise SystemExit(2)
    try:
        args.func(args)
    except httpx.ConnectError as exc:
        print(f"llm-mcp: cannot reach core: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
