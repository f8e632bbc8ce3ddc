"""One data dir, one owner: the lock `llm-mcp up` holds on its data directory for its whole life.

The lock is `flock` on `<data dir>/up.lock`, so the kernel releases it when the holder
dies, even by SIGKILL: there is no stale lock to clean up by hand. The file also says who
holds it (pid, addresses), so a second `up` can name the running instance. A clean exit
empties the file; content found under a lock we could take means the last holder was
killed, and the caller may recover what it left behind (its Postgres).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

LOCK_NAME = "up.lock"


@dataclass(frozen=True)
class Holder:
    """Who runs on a data dir: enough for another `up` to say so, or to share its database."""

    pid: int
    http_url: str
    grpc_addr: str
    bridge_url: str
    database_url: str

    def describe(self) -> str:
        return (
            f"pid {self.pid}; HTTP {self.http_url}, gRPC {self.grpc_addr}, "
            f"MCP bridge {self.bridge_url}, Postgres {self.database_url}"
        )


class DataDirBusy(Exception):
    """Another live `llm-mcp up` holds the data dir; `holder` is None when it has not yet said
    who it is (it is starting)."""

    def __init__(self, data_dir: Path, holder: Holder | None) -> None:
        self.data_dir = data_dir
        self.holder = holder
        who = holder.describe() if holder else "it is starting"
        super().__init__(f"data dir {data_dir} is in use by another `llm-mcp up` ({who})")


def _parse(text: str) -> Holder | None:
    try:
        return Holder(**json.loads(text))
    except (ValueError, TypeError):
        return None


class InstanceLock:
    """`acquire()` once, `record()` who we are, `release()` on the way out."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> Holder | None:
        """Takes the lock at once or raises DataDirBusy. Returns the previous holder when it
        was killed without releasing (its record is still there), else None."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # os.open's descriptors are not inherited (O_CLOEXEC): children and the Postgres that
        # pg_ctl daemonises must not keep the lock alive after we are gone.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _parse(self.path.read_text())
            os.close(fd)
            raise DataDirBusy(self.data_dir, holder) from None
        self._fd = fd
        previous = os.pread(fd, 64 * 1024, 0).decode(errors="replace")
        return _parse(previous) if previous.strip() else None

    def record(self, holder: Holder) -> None:
        if self._fd is None:
            raise RuntimeError("record() before acquire()")
        data = json.dumps(asdict(holder)).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)  # an empty record: this owner stopped cleanly
        os.close(self._fd)  # closing the descriptor drops the flock
        self._fd = None
