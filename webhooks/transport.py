"""HTTP POSTs to receivers: to the checked address, short timeouts, redirects never followed.

``post`` sends one request on a connection of its own. ``Connections`` keeps connections open between the
deliveries of one run (HTTP/1.1 keep-alive): a fan-out of thousands of deliveries to a few receivers then
costs one TCP (and TLS) handshake per receiver and thread instead of one per delivery. A reused connection
that the receiver has closed meanwhile is opened again once, before anything was read from it; so, like any
webhook sender, deliveries are at least once (receivers deduplicate by ``webhook-id``).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
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


def _open(address: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection with Nagle's algorithm off: http.client writes a request's headers and body in two
    sends, and on a reused connection the body would wait for the receiver's delayed acknowledgement of the
    headers (40 ms on Linux) before leaving. urllib3 sets the same option."""
    sock = socket.create_connection((address, port), timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = _open(self._address, self.port, self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = _open(self._address, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST ``body`` to ``url``; never raises (a refusal, a timeout or a reset is an Outcome with an error)."""
    with Connections() as connections:
        return connections.post(url, body, headers)


def _resolve(url: str):
    """(scheme, host, port, path, address) of ``url``, or the refusal's text."""
    try:
        # The delivery log is a technical record, in English like the network errors beside it, whatever
        # language the calling thread has active.
        with translation.override("en"):
            scheme, host, port, path = targets.parse(url)
            return scheme, host, port, path, targets.resolve(host, port)
    except targets.TargetRefused as refused:
        return str(refused)[:300]


class Connections:
    """Connections to receivers kept open for reuse, for the deliveries of one run (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[tuple, list[http.client.HTTPConnection]] = {}
        self._resolved: dict[str, tuple | str] = {}  # url -> its target, checked once a run (DNS pinned)

    def __enter__(self) -> Connections:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    def _target(self, url: str):
        found = self._resolved.get(url)
        if found is None:
            found = self._resolved[url] = _resolve(url)
        return found

    def _take(self, key: tuple) -> http.client.HTTPConnection | None:
        with self._lock:
            idle = self._idle.get(key)
            return idle.pop() if idle else None

    def _give_back(self, key: tuple, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            self._idle.setdefault(key, []).append(connection)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
        """POST ``body`` to ``url``; never raises (a refusal, a timeout or a reset is an Outcome with an error)."""
        started = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        target = self._target(url)
        if isinstance(target, str):
            return Outcome(None, took(), target)
        scheme, host, port, path, address = target
        key = (scheme, host, port, address)
        headers = {**headers, "Content-Type": "application/json", "User-Agent": "Portcullis"}
        connection = self._take(key)
        reused = connection is not None
        for _ in range(2):
            if connection is None:
                kind = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
                connection = kind(host, port, address, settings.WEBHOOKS_TIMEOUT_SECONDS)
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                response.read(MAX_READ)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                connection.close()
                connection = None
                if reused:  # the receiver closed an idle connection: once more on a new one
                    reused = False
                    continue
                return Outcome(None, took(), f"{type(error).__name__}: {error}"[:300])
            except (OSError, http.client.HTTPException, ssl.SSLError) as error:
                connection.close()
                return Outcome(None, took(), f"{type(error).__name__}: {error}"[:300])
            if response.isclosed() and not response.will_close:
                self._give_back(key, connection)  # the whole answer was read: the connection can serve again
            else:
                connection.close()  # an answer longer than we read, or the receiver closes: not reusable
            return Outcome(response.status, took())
        return Outcome(None, took(), "ConnectionError: no connection")  # pragma: no cover - the loop returns
