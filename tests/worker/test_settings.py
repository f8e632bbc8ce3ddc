"""The worker's settings: empty variables (as an env file leaves them) mean the defaults."""

from __future__ import annotations

import pytest


def test_empty_variables_from_an_env_file_mean_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from worker.settings import WorkerSettings

    for name in ("WORKER_ID", "WORKER_KINDS", "WORKER_TOKEN", "API_TOKEN"):
        monkeypatch.setenv(name, "")
    settings = WorkerSettings()
    assert settings.worker_id == socket.gethostname()
    assert settings.worker_kinds == [] and settings.token is None
