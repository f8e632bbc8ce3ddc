"""Every HTTP error of core is JSON {"error": {"code", "message"}}, derived from the error's
class; the handlers are shared with the bridge."""

from __future__ import annotations

from proto.http_errors import (
    core_error_response,
    describe_validation,
    error_response,
    install_error_handlers,
)

__all__ = ["core_error_response", "describe_validation", "error_response", "install_error_handlers"]
