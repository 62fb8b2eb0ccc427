"""gunicorn's sync worker, with two socket-level savings on each request (``worker_class`` in portal/gunicorn.conf.py).

Profiled under the check API benchmark (issue 14), a sync worker spent about a third of its busy time on the
socket rather than in the portal:

- **One segment per answer, not two.** gunicorn writes the status line and headers with one ``sendall`` and the
  body with another: two TCP segments, two wake-ups of the reader. The socket is corked (``TCP_CORK``) while
  the answer is written and uncorked after, so the kernel sends the answer in as few full segments as it fits.
  Uncorking pushes at once: nothing waits for the 200 ms cork limit.
- **No wait for the client's FIN.** gunicorn closes a connection as RFC 9112 §9.6 advises: half-close, then
  read until the client closes too (or 2 s), so that request bytes still unread or still coming cannot make the
  kernel reset the connection over an answer the client has not read yet. The worker sits in that read,
  serving nobody, for as long as the client (a proxy, a load generator) takes to be scheduled, read the answer
  and close: a sixth of the worker's busy time on a loaded two-core machine. So after a complete answer, when
  no byte of the client is waiting, the socket is shut down both ways: gunicorn's close then finds the read
  side closed and closes at once. When bytes are waiting (a pipelined request, a body the application did not
  read, a client still sending), gunicorn's lingering close runs unchanged. What is given up: a client that
  starts sending again after its whole request was read, while a large answer is still in flight, can have
  that answer cut by a reset, as with every gunicorn before version 23; HTTP clients do not send on a
  connection after a request whose answer says ``Connection: close``, and a proxy in front reads answers
  whole before it reuses anything.

Everything else is gunicorn's own worker: accept loop, parsing, timeouts, recycling, logging.
``tests/portal/test_gunicorn_worker.py`` runs it in a real gunicorn.
"""

from __future__ import annotations

import socket

from gunicorn.workers.sync import SyncWorker

_CORK = getattr(socket, "TCP_CORK", None)  # Linux; elsewhere the answer goes as gunicorn writes it


def _set_cork(client, on: bool) -> None:
    if _CORK is None:
        return
    try:
        client.setsockopt(socket.IPPROTO_TCP, _CORK, 1 if on else 0)
    except OSError:  # the client is gone: gunicorn's own handling follows
        pass


def _nothing_unread(client) -> bool:
    """True when no byte of the client waits in the socket (peeked without blocking, nothing consumed)."""
    try:
        waiting = client.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return True
    except OSError:
        return False  # reset or another error: gunicorn's close handles it
    return waiting == b""  # b"": the client closed already; bytes: let gunicorn drain them


class PortalSyncWorker(SyncWorker):
    def handle_request(self, listener, req, client, addr):
        _set_cork(client, True)
        try:
            super().handle_request(listener, req, client, addr)
        finally:
            _set_cork(client, False)
        # Reached only after a complete answer (errors propagate to gunicorn's handle(), which closes its way).
        if _nothing_unread(client):
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
