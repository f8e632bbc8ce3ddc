"""Errors in OpenAI's shape."""

from __future__ import annotations

from core.compat.openai_views import error_for
from core.errors import NoRoute


def test_errors_in_openai_shape() -> None:
    status, body = error_for(NoRoute("nothing live"))
    assert status == 503
    assert body == {
        "error": {
            "message": "nothing live",
            "type": "service_unavailable",
            "param": None,
            "code": "no_route",
        }
    }
