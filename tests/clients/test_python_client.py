"""clients/python against a live portal: check, check_many, visible, explain; the cache and its invalidation
by a real, signed webhook; retries and timeouts; the Django decorator, DRF permission class, template tag and
WSGI middleware."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from portcullis_client import Check, Client, PortcullisError
from portcullis_client.cache import TTLCache

from accounts.scoping import tenant_scope
from api import keys
from permissions.models import BuiltinRole, Module
from permissions.services import grants, modules
from tests.factories import UserFactory
from tests.webhooks.conftest import revoke, run, subscribe

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(acme_admin):
    """A customer with a grant to export reports and to view one report; a key that may ask (grants: view)."""
    tenant = acme_admin.tenant
    carol = UserFactory(tenant=tenant, role_key=BuiltinRole.BASIC)
    with tenant_scope(tenant):
        reports = Module.objects.get(key="reports")
        export = grants.grant(actor=acme_admin, module=reports, actions=["export"], reason="Close", user=carol)
        report = modules.create_resource(actor=acme_admin, module=reports, title="Q3")
        grants.grant(actor=acme_admin, module=reports, resource=report, actions=["view"], reason="Q3", user=carol)
        token = keys.create_key(actor=acme_admin, name="crm", scopes={"grants": ["view"]}).token
    return {"admin": acme_admin, "carol": carol, "export": export, "report": report, "token": token}


def test_the_four_questions(live_server, world):
    client = Client(live_server.url, world["token"])
    carol, report = world["carol"].pk, world["report"]
    assert client.check(carol, "export", "reports") is True
    assert client.check(carol, "delete", "reports") is False
    assert client.check(carol, "view", {"module": "reports", "resource": report.pk}) is True
    assert client.check(10**12, "view", "reports") is False  # an unknown subject is not allowed
    questions = [Check(carol, "export", "reports"), (carol, "delete", "reports"), (carol, "view", "products")]
    client.invalidate()
    assert client.check_many(questions) == [True, False, True]
    assert client.visible(carol, "reports") == [report.pk]
    why = client.explain(carol, "export", "reports")
    assert why.allowed and any(p["grant"] == world["export"].pk for p in why.paths)
    why_not = client.explain(carol, "delete", "reports")
    assert not why_not.allowed and why_not.reasons


def test_a_cached_answer_is_dropped_by_a_signed_webhook(live_server, world):
    """The portal revokes, its webhook reaches the application, the application's next check is fresh."""
    client_box: dict[str, Client] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            try:
                client_box["client"].handle_webhook(body, dict(self.headers.items()))
                self.send_response(204)
            except Exception:  # noqa: BLE001
                self.send_response(400)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _subscription, secret = subscribe(world["admin"], f"http://127.0.0.1:{server.server_address[1]}/hook")
        client = client_box["client"] = Client(live_server.url, world["token"], cache_ttl=3600, webhook_secret=secret)
        carol = world["carol"].pk
        assert client.check(carol, "export", "reports") is True
        revoke(world["admin"], world["export"])
        assert client.check(carol, "export", "reports") is True  # still cached: nothing told the client yet
        run(world["admin"].tenant)  # the portal's job delivers the grant.created and grant.revoked events
        assert len(client.cache) == 0
        assert client.check(carol, "export", "reports") is False
    finally:
        server.shutdown()
        server.server_close()


def test_a_badly_signed_webhook_clears_nothing(world):
    client = Client("http://127.0.0.1:9", world["token"], webhook_secret="whsec_" + "A" * 43 + "=")
    client.cache.put((1, "view", "reports"), True)
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(time.time())), "webhook-signature": "v1,AAAA"}
    with pytest.raises(Exception):  # noqa: B017, PT011 (the library's verification error)
        client.handle_webhook(b'{"type":"grant.revoked"}', headers)
    assert len(client.cache) == 1


def test_the_cache_lives_its_ttl():
    now = [100.0]
    cache = TTLCache(1.0, clock=lambda: now[0])
    cache.put("k", True)
    now[0] = 100.9
    assert cache.get("k") is True
    now[0] = 101.1
    assert cache.get("k") is None


class _Scripted(BaseHTTPRequestHandler):
    script: list = []
    seen: list = []

    def do_POST(self):  # noqa: N802
        self.seen.append(self.path)
        status, delay = self.script.pop(0) if self.script else (200, 0)
        time.sleep(delay)
        body = json.dumps({"allowed": True}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def scripted():
    _Scripted.script, _Scripted.seen = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Scripted
    server.shutdown()
    server.server_close()


@pytest.mark.django_db(transaction=False)
def test_retries_then_answers_and_refusals_are_not_retried(scripted):
    url, handler = scripted
    handler.script = [(503, 0), (502, 0)]
    assert Client(url, "t", retries=2, backoff=0.01).check(1, "view", "reports") is True
    assert len(handler.seen) == 3
    handler.seen.clear()
    handler.script = [(401, 0)]
    with pytest.raises(PortcullisError) as refused:
        Client(url, "t", retries=2, backoff=0.01).check(1, "view", "reports")
    assert refused.value.status == 401 and len(handler.seen) == 1


@pytest.mark.django_db(transaction=False)
def test_a_slow_portal_times_out_after_the_retries(scripted):
    url, handler = scripted
    handler.script = [(200, 0.6), (200, 0.6)]
    started = time.monotonic()
    with pytest.raises(PortcullisError):
        Client(url, "t", timeout=0.2, retries=1, backoff=0.01).check(1, "view", "reports")
    assert time.monotonic() - started < 1.0 and len(handler.seen) == 2


def _request_as(user):
    request = RequestFactory().get("/reports/")
    request.user = user
    return request


def test_the_django_decorator_drf_permission_and_template_tag(live_server, world):
    from portcullis_client.django import permission_required
    from portcullis_client.drf import PortcullisPermission
    from portcullis_client.templatetags.portcullis import portcullis_can

    settings = {"URL": live_server.url, "TOKEN": world["token"], "SUBJECT": "pk", "CACHE_TTL": 0}
    with override_settings(PORTCULLIS=settings):

        @permission_required("export", "reports")
        def export_view(request):
            return HttpResponse("csv")

        assert export_view(_request_as(world["carol"])).content == b"csv"
        with pytest.raises(PermissionDenied):
            export_view(_request_as(UserFactory(tenant=world["admin"].tenant, role_key=BuiltinRole.BASIC)))

        class Products:
            portcullis_target = "products"  # the Basic role views products

        class ReportExport:
            portcullis_target = "reports"
            portcullis_actions = {"GET": "export"}

        drf_request = _request_as(world["carol"])
        assert PortcullisPermission().has_permission(drf_request, Products()) is True
        assert PortcullisPermission().has_permission(drf_request, ReportExport()) is True
        drf_request.method = "DELETE"
        assert PortcullisPermission().has_permission(drf_request, Products()) is False
        assert PortcullisPermission().has_permission(drf_request, ReportExport()) is False  # no action for DELETE
        assert portcullis_can({"request": _request_as(world["carol"])}, "export", "reports") is True
        assert portcullis_can({"request": _request_as(world["carol"])}, "view", "reports", world["report"].pk) is True
        assert portcullis_can({}, "export", "reports") is False


def test_the_wsgi_middleware(live_server, world):
    from portcullis_client.wsgi import PortcullisMiddleware

    def app(environ, start_response):
        start_response("200 OK", [])
        return [b"ok"]

    client = Client(live_server.url, world["token"], cache_ttl=0)
    guarded = PortcullisMiddleware(
        app, client, rules=[("/reports/export", "export", "reports")], subject=lambda e: e.get("USER_ID")
    )
    statuses = []

    def call(path, user_id):
        return b"".join(guarded({"PATH_INFO": path, "USER_ID": user_id}, lambda s, h: statuses.append(s)))

    assert call("/reports/export", world["carol"].pk) == b"ok"
    assert call("/reports/export/2026", None) == b"Forbidden\n"
    assert call("/elsewhere", None) == b"ok"
    assert statuses == ["200 OK", "403 Forbidden", "200 OK"]
