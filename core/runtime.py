"""Core's process: pool, schema, event hub, maintenance loops, and the HTTP + gRPC servers.

`running_core(settings)` starts everything in the current event loop and stops
it on exit; `llm-mcp core` and the tests both use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial

import asyncpg
import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from core.auth import client_token, worker_token
from core.compat.jobs import CompatJobs
from core.compat.models import with_openai_models
from core.compat.ollama_devices import OllamaDevices
from core.costs.service import CostService
from core.costs.store import CostStore
from core.dashboard.feed import DashboardFeed
from core.dashboard.live import LiveDashboard
from core.dashboard.live_store import LiveStore
from core.dashboard.service import DashboardConfig, DashboardService
from core.dashboard.store import DashboardStore
from core.db.migrate import apply_schema
from core.db.pool import connect, create_pool, ping
from core.drain import Drain
from core.events.hub import EventHub
from core.fleet.catalog_store import CatalogStore
from core.fleet.device_store import DeviceStore
from core.fleet.discovery import Discovery, DiscoveryConfig
from core.fleet.discovery_store import DiscoveryStore
from core.fleet.service import FleetService
from core.fleet.targets import parse_ports
from core.grpc.auth import BearerTokenInterceptor
from core.grpc.decoding import DecodeErrorInterceptor
from core.grpc.servicer import CoreServicer
from core.http.app import create_app
from core.maintenance.lease_sweeper import LeaseSweeper, SweeperConfig
from core.maintenance.retention import RetentionCleaner, RetentionConfig
from core.queue.service import QueueConfig, QueueService
from core.queue.store import JobStore
from core.routing.breaker_store import BreakerStore
from core.routing.breaker_views import with_breakers
from core.routing.concurrency_views import with_concurrency
from core.routing.failover import BreakerConfig, Failover
from core.routing.fleet import DefaultModels
from core.routing.limits_loader import LimitsApplier, LimitsConfig
from core.routing.service import DeviceQueueHooks, RoutingConfig, RoutingService
from core.routing.store import RoutingStore
from core.settings import CoreSettings
from proto import llm_pb2, llm_pb2_grpc
from serving.http_server import HttpServer, start_http_server
from serving.listen import bind_listener
from serving.side_tasks import SideTasks

log = logging.getLogger(__name__)


class CoreRuntime:
    """Everything core holds for its lifetime; HTTP and gRPC both read from it."""

    def __init__(self, settings: CoreSettings, pool: asyncpg.Pool) -> None:
        self.settings = settings
        self.pool = pool
        self.drain = Drain()
        self.store = JobStore(pool)
        self.hub = EventHub(lambda: connect(settings.database_url), self.store)
        self.routing_store = RoutingStore(pool)
        self.breakers = BreakerStore(pool)
        self.costs = CostService(CostStore(pool), pricing_file=settings.model_pricing_file)
        routing_config = RoutingConfig(
            worker_live_seconds=settings.worker_live_seconds,
            device_max_concurrency=settings.device_max_concurrency,
            strict_limits=settings.strict_model_limits,
            defaults=DefaultModels(
                ollama=settings.ollama_model,
                ollama_embed=settings.ollama_embed_model,
                openai=settings.openai_model,
                openrouter=settings.openrouter_model,
            ),
        )
        self.queue = QueueService(
            self.store,
            self.hub,
            QueueConfig(
                retry_base_seconds=settings.retry_base_seconds,
                retry_cap_seconds=settings.retry_cap_seconds,
            ),
            hooks=DeviceQueueHooks(
                self.routing_store,
                routing_config,
                failover=Failover(
                    self.breakers,
                    BreakerConfig(
                        failures=settings.breaker_failures,
                        cooldown_seconds=settings.breaker_cooldown_seconds,
                    ),
                ),
            ),
        )
        self.routing = RoutingService(
            self.routing_store, self.queue, routing_config, breakers=self.breakers
        )
        self.compat = CompatJobs(self.routing, self.queue)
        self.ollama_devices = OllamaDevices()
        self.limits = LimitsApplier(
            self.routing_store,
            LimitsConfig(
                json_text=settings.device_limits_json,
                file_path=settings.device_limits_file,
                interval_seconds=settings.device_limits_interval,
            ),
        )
        self.sweeper = LeaseSweeper(
            self.store, SweeperConfig(interval_seconds=settings.sweep_interval)
        )
        self.retention = RetentionCleaner(
            self.store,
            RetentionConfig(
                retention_days=settings.job_retention_days,
                interval_seconds=settings.retention_interval,
            ),
        )
        self.fleet = _fleet_service(settings, pool)
        self.fleet.device_view_extras.append(partial(with_breakers, self.breakers))
        self.fleet.device_view_extras.append(
            partial(with_concurrency, settings.device_max_concurrency)
        )
        self.fleet.model_view_extras.append(partial(with_openai_models, self.routing))
        self.dashboard = DashboardService(
            DashboardStore(pool),
            DashboardConfig(
                worker_live_seconds=settings.worker_live_seconds,
                device_max_concurrency=settings.device_max_concurrency,
            ),
        )
        self.live = LiveDashboard(
            store=LiveStore(pool), dashboard=self.dashboard, fleet=self.fleet, queue=self.queue
        )
        self.live_feed = DashboardFeed(self.live.frames)
        self.hub.activity_listeners.append(self.live_feed.poke)

    async def database_ok(self) -> bool:
        try:
            async with self.pool.acquire(timeout=2) as conn:
                await ping(conn, limit_seconds=2)
            return True
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
            return False


def _fleet_service(settings: CoreSettings, pool: asyncpg.Pool) -> FleetService:
    devices, runs = DeviceStore(pool), DiscoveryStore(pool)
    discovery = Discovery(
        devices,
        runs,
        DiscoveryConfig(
            tailscale_bin=settings.tailscale_bin,
            tailscale_socket=settings.tailscale_socket_path,
            ports=parse_ports(settings.ollama_ports),
            probe_timeout=settings.discovery_probe_timeout,
            interval_seconds=settings.discovery_interval,
            ollama_base_url=settings.ollama_base_url,
        ),
    )
    return FleetService(devices=devices, catalog=CatalogStore(pool), runs=runs, discovery=discovery)


@dataclass
class RunningCore:
    runtime: CoreRuntime
    http_url: str
    grpc_addr: str
    # The event hub's and the maintenance loops' tasks: one that dies stops `serve`.
    side_tasks: SideTasks = field(default_factory=SideTasks)


async def _start_grpc(runtime: CoreRuntime) -> tuple[grpc.aio.Server, int]:
    settings = runtime.settings
    server = grpc.aio.server(
        interceptors=[
            BearerTokenInterceptor(
                client_token=client_token(settings), worker_token=worker_token(settings)
            ),
            DecodeErrorInterceptor(),
        ],
        options=[
            ("grpc.max_receive_message_length", 16 * 1024 * 1024),
            ("grpc.max_send_message_length", 16 * 1024 * 1024),
            ("grpc.so_reuseport", 0),
        ],
    )
    llm_pb2_grpc.add_CoreServicer_to_server(
        CoreServicer(
            runtime.queue,
            fleet=runtime.fleet,
            routing=runtime.routing,
            dashboard=runtime.dashboard,
            drain=runtime.drain,
        ),
        server,
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    service_name = llm_pb2.DESCRIPTOR.services_by_name["Core"].full_name
    reflection.enable_server_reflection(
        (service_name, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    address = f"{settings.grpc_host}:{settings.grpc_port}"
    try:
        port = server.add_insecure_port(address)
    except RuntimeError as exc:
        raise OSError(f"cannot listen on {address} for gRPC ({exc})") from exc
    await server.start()
    await health_servicer.set(service_name, health_pb2.HealthCheckResponse.SERVING)
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    return server, port


async def _stop_http(http: HttpServer | None) -> None:
    if http is not None:
        await http.stop()


async def _stop_grpc(server: grpc.aio.Server | None, grace: float) -> None:
    if server is not None:
        await server.stop(grace=grace)


@contextlib.asynccontextmanager
async def running_core(
    settings: CoreSettings, *, maintenance: bool = True
) -> AsyncIterator[RunningCore]:
    """Starts core (schema applied, servers listening) and stops it cleanly on exit."""
    pool = await create_pool(settings.database_url, max_size=settings.db_pool_size)
    side = SideTasks()
    grpc_server: grpc.aio.Server | None = None
    http: HttpServer | None = None
    runtime = CoreRuntime(settings, pool)
    try:
        async with pool.acquire() as conn:
            await apply_schema(conn)
        await runtime.limits.apply_at_startup()
        await runtime.costs.load_pricing_file()
        # The configured Ollama is in the fleet before the first request (one short probe).
        await runtime.fleet.discovery.refresh_configured()
        await runtime.hub.start()
        for task in runtime.hub.tasks:
            side.watch(task)
        for task in runtime.queue.start():
            side.watch(task)
        sock = bind_listener(settings.http_host, settings.http_port, what="HTTP")
        grpc_server, grpc_port = await _start_grpc(runtime)
        http = await start_http_server(
            create_app(runtime),
            sock,
            name="core-http",
            graceful_seconds=settings.shutdown_grace_seconds,
            lifespan="off",
        )
        if maintenance:
            side.start(runtime.sweeper.run(), name="lease-sweeper")
            side.start(runtime.retention.run(), name="retention")
            if settings.discovery_interval > 0:
                side.start(runtime.fleet.discovery.run(), name="discovery")
            if settings.device_limits_interval > 0 and runtime.limits.config.configured:
                side.start(runtime.limits.run(), name="device-limits")
        host = settings.http_host if settings.http_host not in ("0.0.0.0", "::") else "127.0.0.1"
        ghost = settings.grpc_host if settings.grpc_host not in ("0.0.0.0", "::") else "127.0.0.1"
        yield RunningCore(runtime, f"http://{host}:{http.port}", f"{ghost}:{grpc_port}", side)
    finally:
        side.cancel()
        # Hand streams and long-polls back first, then let both servers finish what is in
        # flight (they accept nothing new meanwhile), within one grace period.
        runtime.drain.begin()
        runtime.hub.claimers.close()
        await asyncio.gather(
            _stop_http(http),
            _stop_grpc(grpc_server, settings.shutdown_grace_seconds),
        )
        await runtime.live_feed.stop()
        await runtime.queue.stop()
        await runtime.hub.stop()
        await runtime.ollama_devices.aclose()
        await side.join()
        await pool.close()


async def serve(settings: CoreSettings, stop: asyncio.Event) -> None:
    """Runs core until `stop` is set; SideTaskDied (after a clean stop) when a background
    task died."""
    async with running_core(settings) as core:
        log.info("core listening: HTTP %s, gRPC %s", core.http_url, core.grpc_addr)
        await core.side_tasks.until_stopped(stop)
        log.info(
            "core stopping: handing back streams, finishing requests within %.0fs",
            settings.shutdown_grace_seconds,
        )
    core.side_tasks.raise_if_died()
