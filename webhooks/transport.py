"""One HTTP POST to a receiver: to the checked address, short timeouts, redirects never followed."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils import translation

from webhooks import targets

MAX_READ = 4096  # bytes of an answer read (and dropped): a receiver cannot make us download much


@dataclass(frozen=True)
class Outcome:
    """What one attempt gave: a status code (None when no answer came), the duration and an error text."""

    status_code: int | None
    duration_ms: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST ``body`` to ``url``; never raises (a refusal, a timeout or a reset is an Outcome with an error)."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        # The delivery log is a technical record, in English like the network errors beside it, whatever
        # language the calling thread has active.
        with translation.override("en"):
            scheme, host, port, path = targets.parse(url)
            address = targets.resolve(host, port)
    except targets.TargetRefused as refused:
        return Outcome(None, took(), str(refused)[:300])
    kind = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
    connection = kind(host, port, address, settings.WEBHOOKS_TIMEOUT_SECONDS)
    try:
        connection.request(
            "POST", path, body=body, headers={**headers, "Content-Type": "application/json", "User-Agent": "Portcullis"}
        )
        response = connection.getresponse()
        response.read(MAX_READ)
        return Outcome(response.status, took())
    except (OSError, http.client.HTTPException, ssl.SSLError) as error:
        return Outcome(None, took(), f"{type(error).__name__}: {error}"[:300])
    finally:
        connection.close()
