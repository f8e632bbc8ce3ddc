"""The TLS context of every outgoing HTTP client, built once per process.

httpx builds a new context for each client it creates, and loading the CA bundle into one takes
~40 ms of CPU: a worker building its provider clients, or core its device client, paid that
for each. One context serves any number of clients."""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def client_tls() -> ssl.SSLContext:
    """httpx's default verifying context (certifi's CAs, or SSL_CERT_FILE / SSL_CERT_DIR)."""
    return httpx.create_ssl_context()
