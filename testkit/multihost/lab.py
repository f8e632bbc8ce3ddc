"""Several hosts on one machine: a network namespace each, joined by veth pairs to a bridge that
lives in a namespace of its own, so no address exists outside the lab and no packet leaves it.

Faults are the network's: a host's switch port down (a pulled cable), tc netem loss and delay
on chosen links, a route between two hosts made unreachable. Processes run inside a host with
`ip netns exec`; `NetnsLoop` runs the test's own client code (HTTP, asyncpg) in one.
Needs root and iproute2; `unavailable()` says why not, for a skip.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from testkit.chaos import Proc

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
SUBNET = "10.231.0"  # /24; refused when any host interface or route already uses it
HOSTS = {"db": 10, "core-a": 11, "core-b": 12, "gpu-1": 21, "gpu-2": 22, "client": 30}
CLONE_NEWNET = 0x40000000


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=30)


def unavailable() -> str | None:
    """Why the lab cannot run here, or None."""
    if os.geteuid() != 0:
        return "the multi-host lab needs root (it creates network namespaces)"
    for tool, package in (("ip", "iproute2"), ("tc", "iproute2"), ("nft", "nftables")):
        if shutil.which(tool) is None:
            return f"`{tool}` is missing: apt-get install -y {package}"
    probe = f"lmhprobe{os.getpid()}"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"`ip netns add` does not work here: {made.stderr.strip()}"
    _ip("netns", "del", probe, check=False)
    used = _ip("-4", "-o", "addr").stdout + _ip("-4", "route").stdout
    if f"{SUBNET}." in used:
        return f"{SUBNET}.0/24 is in use on this machine; the lab would not be isolated"
    return None


@dataclass
class Lab:
    """The namespaces, links and processes of one run; `close()` removes all of them."""

    workdir: Path
    prefix: str = field(default_factory=lambda: f"lmh{os.getpid() % 100000}")
    procs: list[Proc] = field(default_factory=list)

    def ns(self, host: str) -> str:
        return f"{self.prefix}-{host}"

    @property
    def switch(self) -> str:
        return f"{self.prefix}-sw"

    def addr(self, host: str) -> str:
        return f"{SUBNET}.{HOSTS[host]}"

    def _port(self, host: str) -> str:
        return f"p{HOSTS[host]}"

    def up(self) -> None:
        _ip("netns", "add", self.switch)
        _ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.switch, "link", "set", "br0", "up")
        for host, index in HOSTS.items():
            ns = self.ns(host)
            _ip("netns", "add", ns)
            _ip("-n", ns, "link", "set", "lo", "up")
            # Made inside the host's namespace, so neither end ever exists on the machine.
            _ip("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", f"p{index}")
            _ip("-n", ns, "link", "set", f"p{index}", "netns", self.switch)
            _ip("-n", self.switch, "link", "set", f"p{index}", "master", "br0", "up")
            _ip("-n", ns, "addr", "add", f"{self.addr(host)}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")

    def close(self) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
        for host in HOSTS:
            _ip("netns", "del", self.ns(host), check=False)
        _ip("netns", "del", self.switch, check=False)

    # -- faults ------------------------------------------------------------------

    def link(self, host: str, *, up: bool) -> None:
        """The host's port on the switch: down is a pulled cable (silence, no resets)."""
        _ip("-n", self.switch, "link", "set", self._port(host), "up" if up else "down")

    def impair(self, host: str, *, delay_ms: int, loss_percent: float) -> str | None:
        """Delay and loss on the host's link, both directions, with tc netem; returns None.
        A kernel without netem gets the loss alone (nftables drops at random) and the reason
        back: the caller adds the delay another way."""
        spec = ["netem", "delay", f"{delay_ms}ms", "loss", f"{loss_percent}%"]
        for ns, dev in ((self.ns(host), "eth0"), (self.switch, self._port(host))):
            done = subprocess.run(
                ["tc", "-n", ns, "qdisc", "replace", "dev", dev, "root", *spec],
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                break
        else:
            return None
        percent = max(1, round(loss_percent))
        rules = [
            "add table inet lab_impair",
            *(
                f"add chain inet lab_impair {hook} {{ type filter hook {hook} priority 0; }}"
                for hook in ("input", "output")
            ),
            *(
                f"add rule inet lab_impair {hook} {match} eth0 "
                f"numgen random mod 100 < {percent} drop"
                for hook, match in (("input", "iifname"), ("output", "oifname"))
            ),
        ]
        for rule in rules:
            subprocess.run(["ip", "netns", "exec", self.ns(host), "nft", *rule.split()], check=True)
        return f"no netem in this kernel ({done.stderr.strip()})"

    def clear_impairment(self, host: str) -> None:
        for ns, dev in ((self.ns(host), "eth0"), (self.switch, self._port(host))):
            subprocess.run(
                ["tc", "-n", ns, "qdisc", "del", "dev", dev, "root"], capture_output=True
            )
        subprocess.run(
            ["ip", "netns", "exec", self.ns(host), "nft", "delete", "table", "inet", "lab_impair"],
            capture_output=True,
        )

    def partition(self, a: str, b: str, *, cut: bool) -> None:
        """Makes a and b unreachable to each other (both directions), or reachable again."""
        verb = "add" if cut else "del"
        for here, there in ((a, b), (b, a)):
            _ip("-n", self.ns(here), "route", verb, "unreachable", f"{self.addr(there)}/32")

    # -- processes ---------------------------------------------------------------

    def spawn(self, host: str, name: str, args: list[str], env: dict[str, str]) -> Proc:
        """`python ARGS` inside the host (`ip netns exec` execs it: the pid is python's)."""
        log = self.workdir / f"{name}.log"
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("TEST_")}
        full_env.update(env)
        with log.open("ab") as out:
            popen = subprocess.Popen(
                ["ip", "netns", "exec", self.ns(host), sys.executable, *args],
                cwd=ROOT,
                env=full_env,
                stdout=out,
                stderr=out,
            )
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def run(self, host: str, args: list[str]) -> str:
        """`python ARGS` inside the host, to its end; raises with its output when it fails."""
        done = subprocess.run(
            ["ip", "netns", "exec", self.ns(host), sys.executable, *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} on {host} failed:\n{done.stderr[-3000:]}")
        return done.stdout


@contextlib.contextmanager
def lab(workdir: Path) -> Iterator[Lab]:
    """A lab that is torn down on exit, also when setting it up fails half-way."""
    made = Lab(workdir)
    try:
        made.up()
        yield made
    finally:
        made.close()


class NetnsLoop:
    """An event loop on a thread that joined a host's namespace: every socket it opens (httpx,
    asyncpg; not gRPC, whose sockets are made on its own threads) lives in that host."""

    def __init__(self, netns: str) -> None:
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, args=(netns,), daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error

    def _serve(self, netns: str) -> None:
        try:
            fd = os.open(f"/run/netns/{netns}", os.O_RDONLY)
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), f"setns({netns}) failed")
            finally:
                os.close(fd)
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        asyncio.set_event_loop(self.loop)
        self._ready.set()
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()
