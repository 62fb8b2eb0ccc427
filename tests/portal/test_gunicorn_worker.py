"""The production worker class (portal/gunicorn_worker.py) in a real gunicorn: a complete answer is closed at
once, without waiting for the client's FIN; bytes still unread keep gunicorn's lingering close, so the answer
reaches the client whole."""

from __future__ import annotations

import socket
import time

from tests.portal.gunicorn_server import production_gunicorn

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def _read_to_end(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def _answer(port: int) -> tuple[bytes, float]:
    """One request on a new connection, read until the server closes; (answer, seconds taken)."""
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(REQUEST)
        return _read_to_end(sock), time.perf_counter() - started


def test_the_worker_serves_the_next_client_while_the_last_one_keeps_its_socket_open(tmp_path):
    with production_gunicorn(tmp_path) as (port, log_path, _master):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as idle_client:
            idle_client.sendall(REQUEST)
            first = _read_to_end(idle_client)  # the server's FIN came: the answer is complete
            # The client keeps its end open. gunicorn's own close would now wait for its FIN (up to 2 s)
            # before the single worker accepts anyone else; this worker has already moved on.
            second, seconds = _answer(port)
        assert first.startswith(b"HTTP/1.1 200") and b'"status"' in first, first[:300]
        assert second.startswith(b"HTTP/1.1 200"), second[:300]
        assert seconds < 1.0, f"the next client waited {seconds:.2f} s for the previous one's FIN"
        assert "portal.gunicorn_worker.PortalSyncWorker" in log_path.read_text()  # the class that served


def test_a_client_still_sending_gets_the_answer_whole(tmp_path):
    """A client still sending when its answer is written (a body the application did not read, a pipelined
    request): closing a socket over unread bytes makes the kernel reset the connection, and the client's read
    of its answer fails. The worker sees the bytes waiting and leaves the close to gunicorn's lingering one,
    which drains them (and what follows, for up to 2 s)."""
    with production_gunicorn(tmp_path) as (port, _log_path, _master):
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(REQUEST + b"x" * 32_768)  # gunicorn reads the request and a chunk, not all of it
                time.sleep(0.2)  # the worker answers and decides how to close
                sock.sendall(b"y" * 32_768)  # still sending after that
                time.sleep(0.2)
                answer = _read_to_end(sock)  # ConnectionResetError here: the answer was lost
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), answer[:300]
            length = next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
            assert len(body) == int(length.split(b":")[1])
