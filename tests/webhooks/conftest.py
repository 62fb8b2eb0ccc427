"""A real HTTP receiver in a thread (http.server), and helpers to subscribe and to run the delivery job."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts.scoping import tenant_scope
from permissions.models import Module
from permissions.services import grants
from tests.api.conftest import _fresh_api_state, acme_key, api_acme  # noqa: F401 (the API tests' fixtures)
from tests.factories import UserFactory
from webhooks import services
from webhooks.delivery import deliver_due


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class Receiver:
    """What the receiver got, and what it answers next (``answers``: status codes, then 204 for ever)."""

    url: str
    received: list[Received] = field(default_factory=list)
    answers: deque = field(default_factory=deque)
    delay: float = 0.0
    status_for: object = None  # body -> status code or None: answers by content (sends run concurrently)
    keep_alive: bool = False  # answer in HTTP/1.1 and keep the connection open (else HTTP/1.0: one per request)
    drop_every: int = 0  # with keep_alive: close the connection silently after every n-th answer
    peers: set = field(default_factory=set)  # the client ports seen: one per connection opened

    @property
    def types(self) -> list[str]:
        import json

        return [json.loads(r.body)["type"] for r in self.received]


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        @property
        def protocol_version(self):
            return "HTTP/1.1" if receiver.keep_alive else "HTTP/1.0"

        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            receiver.peers.add(self.client_address[1])
            receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            if receiver.delay:
                time.sleep(receiver.delay)
            chosen = receiver.status_for(body) if receiver.status_for else None
            status = chosen or (receiver.answers.popleft() if receiver.answers else 204)
            self.send_response(status)
            if status in (301, 302, 307, 308):
                self.send_header("Location", receiver.url + "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
            if receiver.drop_every and len(receiver.received) % receiver.drop_every == 0:
                self.close_connection = True  # without saying so: the sender finds out on its next request

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def receiver():
    holder = Receiver(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(holder))
    holder.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield holder
    server.shutdown()
    server.server_close()


@pytest.fixture
def second_receiver():
    holder = Receiver(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(holder))
    holder.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield holder
    server.shutdown()
    server.server_close()


GRANT_EVENTS = ["grant.created", "grant.revoked"]


def subscribe(admin, url, event_types=GRANT_EVENTS, name="CRM sync"):
    """A subscription made through the service; returns (subscription, secret)."""
    with tenant_scope(admin.tenant):
        made = services.create_subscription(
            actor=admin, tenant=admin.tenant, name=name, url=url, event_types=event_types
        )
    return made.subscription, made.secret


def give_grant(admin, subject=None, actions=("view",)):
    with tenant_scope(admin.tenant):
        subject = subject or UserFactory(tenant=admin.tenant)
        reports = Module.objects.get(key="reports")
        return grants.grant(actor=admin, module=reports, actions=list(actions), reason="Quarterly close", user=subject)


def revoke(admin, grant):
    with tenant_scope(admin.tenant):
        return grants.revoke(grant, actor=admin, reason="No longer needed")


def run(tenant, now=None) -> int:
    """The delivery job for one tenant, as the job runner calls it (inside the tenant's scope)."""
    with tenant_scope(tenant):
        return deliver_due(tenant, now)
