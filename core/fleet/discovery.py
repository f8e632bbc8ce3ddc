"""The discovery round: tailnet -> devices, every online device probed for Ollama -> models.

One replica at a time runs a round (a Postgres advisory lock held for the whole
round). `run_once()` is what POST /v1/discovery/run and the tests call; `run()` is
the DISCOVERY_INTERVAL loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import httpx

from core.fleet.device_store import DeviceStore
from core.fleet.discovery_store import DiscoveryRun, DiscoveryStore
from core.fleet.models import DiscoverySummary, OllamaProbe, ProbeTarget
from core.fleet.ollama_probe import probe
from core.fleet.tailscale import TailscaleUnavailable, parse_status, read_status
from core.fleet.targets import configured_target, plan_targets
from serving.tls import client_tls

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DiscoveryConfig:
    tailscale_bin: str = "tailscale"
    tailscale_socket: str | None = None  # None: the CLI's own default
    ports: tuple[int, ...] = (11434,)
    probe_timeout: float = 2.0
    interval_seconds: float = 60.0  # 0 = no background rounds
    tailscale_timeout: float = 10.0
    max_concurrent_probes: int = 64
    # The Ollama at OLLAMA_BASE_URL: a device of the fleet whether or not tailscale runs.
    ollama_base_url: str | None = None


class Discovery:
    def __init__(self, devices: DeviceStore, runs: DiscoveryStore, config: DiscoveryConfig) -> None:
        self._devices = devices
        self._runs = runs
        self.config = config
        # Callers on this replica queue here, not in Postgres: waiting for the advisory lock
        # holds a pooled connection, and a burst of POST /v1/discovery/run must not drain it.
        self._local = asyncio.Lock()
        # The tailnet error of the last round: a machine without Tailscale says so once.
        self._last_error: str | None = None
        self._configured_error: str | None = None
        self.configured = (
            configured_target(config.ollama_base_url, config.ports)
            if config.ollama_base_url
            else None
        )

    async def run_once(
        self, *, wait: bool = True, skip_within: float | None = None
    ) -> DiscoveryRun | None:
        """Runs one round and records it. Returns None without a round when wait=False and
        another replica (or task) is running one, or when a round finished less than
        `skip_within` seconds ago."""
        if not wait and self._local.locked():
            return None
        async with self._local, self._runs.round_lock(wait=wait) as held:
            if not held:
                return None
            if skip_within is not None:
                since = await self._runs.seconds_since_last()
                if since is not None and since < skip_within:
                    return None
            run_id = await self._runs.start()
            summary = await self._round()
            body = summary.to_json()
            started, finished = await self._runs.finish(run_id, body)
        return DiscoveryRun(id=run_id, started_at=started, finished_at=finished, summary=body)

    async def run(self) -> None:
        """Background rounds every interval_seconds; a round another replica ran recently
        counts, so N replicas do not probe the fleet N times per interval."""
        interval = self.config.interval_seconds
        while True:
            try:
                await self.run_once(wait=False, skip_within=interval * 0.9)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("discovery: round failed; trying again in %.0fs", interval)
            await asyncio.sleep(interval)

    async def _round(self) -> DiscoverySummary:
        started = time.perf_counter()
        summary = DiscoverySummary()
        try:
            await self._discover(summary)
        finally:
            summary.duration_ms = round((time.perf_counter() - started) * 1000, 1)
        if summary.error is None:
            log.info(
                "discovery: %d devices, %d online, %d with Ollama, +%d/-%d models, %d errors",
                summary.devices_seen,
                summary.online,
                summary.with_ollama,
                len(summary.models_added),
                len(summary.models_removed),
                len(summary.errors),
            )
        return summary

    async def refresh_configured(self) -> OllamaProbe | None:
        """Probes the configured Ollama now (at start-up, after a pull) and records it."""
        if self.configured is None:
            return None
        summary = DiscoverySummary()
        return await self._probe_configured(summary)

    async def _probe_configured(self, summary: DiscoverySummary) -> OllamaProbe | None:
        target = self.configured
        if target is None:
            return None
        result = (await self._probe_all([target]))[0]
        if result.ok:
            added, removed, _had = await self._devices.record_probe(result)
            summary.models_added += [{"device_id": target.device_id, "model": m} for m in added]
            summary.models_removed += [{"device_id": target.device_id, "model": m} for m in removed]
            summary.with_ollama += 1
        else:
            reason = f"Ollama at {target.base_url} (OLLAMA_BASE_URL): {result.error}"
            await self._devices.record_configured_failure(target, reason)
            summary.errors[target.device_id] = reason
            # Once a WARNING, then DEBUG while the same Ollama stays away.
            level = logging.DEBUG if reason == self._configured_error else logging.WARNING
            log.log(level, "discovery: %s", reason, extra={"device_id": target.device_id})
        self._configured_error = None if result.ok else reason
        return result

    async def _discover(self, summary: DiscoverySummary) -> None:
        config = self.config
        before_configured = await self._devices.online_ids()
        configured = await self._probe_configured(summary)
        if configured is not None:
            summary.devices_seen += 1
            summary.online += int(configured.ok)
        try:
            status = await read_status(
                config.tailscale_bin,
                config.tailscale_socket,
                limit_seconds=config.tailscale_timeout,
            )
        except (TailscaleUnavailable, OSError) as exc:
            # Nothing is marked offline: not seeing the tailnet says nothing about the devices.
            after = await self._devices.online_ids()
            summary.came_back = sorted(after - before_configured)
            summary.went_offline = sorted(before_configured - after)
            error = str(exc)
            repeated = error == self._last_error
            self._last_error = error
            if configured is None:
                summary.error = error
            else:  # the configured Ollama is the fleet; no tailnet is no error then
                summary.tailnet = error
            # A new problem is a WARNING; the same one every round after is DEBUG, so a
            # laptop without Tailscale does not log it every DISCOVERY_INTERVAL.
            log.log(
                logging.DEBUG if repeated else logging.WARNING,
                "discovery: %s%s",
                exc,
                "" if repeated else " (repeats are logged at DEBUG)",
            )
            return
        if self._last_error is not None:
            log.info("discovery: the tailnet answers again")
            self._last_error = None
        nodes = parse_status(status)
        before = before_configured
        keep = [self.configured.node.id] if configured is not None and configured.ok else []
        await self._devices.record_nodes(nodes, keep=keep)
        summary.devices_seen += len(nodes)
        summary.online += sum(1 for n in nodes if n.online)
        probes = await self._probe_all(plan_targets(nodes, config.ports))
        for result in probes:
            device_id = result.target.device_id
            added, removed, had_ollama = await self._devices.record_probe(result)
            summary.models_added += [{"device_id": device_id, "model": m} for m in added]
            summary.models_removed += [{"device_id": device_id, "model": m} for m in removed]
            if result.ok:
                summary.with_ollama += 1
            elif had_ollama or not result.refused:
                # A refused connection on a node that never ran Ollama is not news.
                summary.errors[device_id] = result.error or "unknown error"
                log.warning(
                    "discovery: Ollama at %s: %s",
                    result.target.base_url,
                    result.error,
                    extra={"device_id": device_id},
                )
        after = await self._devices.online_ids()
        summary.came_back = sorted(after - before)
        summary.went_offline = sorted(before - after)

    async def _probe_all(self, targets: list[ProbeTarget]) -> list[OllamaProbe]:
        # /api/show once per model name per round, on whichever device lists it first.
        asked = await self._devices.models_with_context()
        limit = asyncio.Semaphore(self.config.max_concurrent_probes)
        timeout = self.config.probe_timeout

        def needs_show(name: str) -> bool:
            if name in asked:
                return False
            asked.add(name)
            return True

        async def one(target: ProbeTarget) -> OllamaProbe:
            async with limit:
                return await probe(client, target, limit_seconds=timeout, needs_show=needs_show)

        # trust_env=False: an HTTP(S)_PROXY meant for the internet must not catch tailnet hosts.
        async with httpx.AsyncClient(
            timeout=timeout, trust_env=False, verify=client_tls()
        ) as client:
            return await asyncio.gather(*(one(t) for t in targets))
