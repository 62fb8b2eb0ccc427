"""clients/python/example: the tiny Django app's views, asking a live portal through portcullis_client."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory, override_settings
from portcullis_client.django import get_client
from standardwebhooks import Webhook

from permissions.models import BuiltinRole
from tests.clients.conftest import CLIENT
from tests.clients.test_python_client import world  # noqa: F401 (the fixture)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "whsec_" + "c2VjcmV0LWZvci10aGUtZXhhbXBsZS1hcHAtdGVzdHMh"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [CLIENT / "example" / "exampleapp" / "templates"],
        "OPTIONS": {"libraries": {"portcullis": "portcullis_client.templatetags.portcullis"}},
    }
]


@pytest.fixture
def example(live_server, world):  # noqa: F811
    config = {"URL": live_server.url, "TOKEN": world["token"], "WEBHOOK_SECRET": SECRET, "SUBJECT": "pk"}
    with override_settings(PORTCULLIS=config, TEMPLATES=TEMPLATES):
        yield world


def _get(user, path="/"):
    request = RequestFactory().get(path)
    request.user = user
    return request


def test_pages_buttons_and_api_follow_portcullis(example):
    from exampleapp import views

    carol = example["carol"]
    other = UserFactory(tenant=carol.tenant, role_key=BuiltinRole.BASIC)
    assert b'data-testid="export"' in views.reports_page(_get(carol)).content
    assert b'data-testid="export"' not in views.reports_page(_get(other)).content  # may view products, not export
    assert views.export_reports(_get(carol)).status_code == 200
    with pytest.raises(PermissionDenied):
        views.export_reports(_get(other))
    assert views.ReportApi.as_view()(_get(carol)).status_code == 200
    assert views.ReportApi.as_view()(_get(other)).status_code == 403


def test_the_webhook_endpoint_empties_the_cache_only_for_a_valid_signature(example):
    from exampleapp import urls

    client = get_client()
    client.cache.put((1, "view", "reports"), True)
    view = next(p.callback for p in urls.urlpatterns if p.name == "portcullis-webhook")
    body = json.dumps({"type": "grant.revoked", "timestamp": "2026-01-01T00:00:00Z", "data": {}})
    sent_at = datetime.fromtimestamp(int(time.time()), tz=UTC)
    headers = {
        "HTTP_WEBHOOK_ID": "msg_1",
        "HTTP_WEBHOOK_TIMESTAMP": str(int(sent_at.timestamp())),
        "HTTP_WEBHOOK_SIGNATURE": "v1,AAAA",
    }
    factory = RequestFactory()
    bad = view(factory.post("/hooks/portcullis", body, content_type="application/json", **headers))
    assert bad.status_code == 400 and len(client.cache) == 1
    headers["HTTP_WEBHOOK_SIGNATURE"] = Webhook(SECRET).sign("msg_1", sent_at, body)
    good = view(factory.post("/hooks/portcullis", body, content_type="application/json", **headers))
    assert good.status_code == 204 and len(client.cache) == 0
