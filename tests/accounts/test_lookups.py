"""LOG-8 and AZ-1 for the shared getter: a foreign id is a 404, recorded as a denied security event."""

import pytest
from django.http import Http404
from django.test import RequestFactory

from accounts.lookups import get_in_tenant_or_404
from accounts.models import User
from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent


def request_as(user):
    request = RequestFactory().get("/somewhere/")
    request.user, request.tenant = user, user.tenant
    return request


def denied_events(tenant):
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED))


def test_own_object_is_returned(acme_admin, acme_basic):
    with tenant_scope(acme_admin.tenant):
        assert get_in_tenant_or_404(User.objects.all(), request_as(acme_admin), pk=acme_basic.pk) == acme_basic


def test_log8_foreign_id_is_404_and_a_denied_event(acme_admin, globex_admin):
    with tenant_scope(acme_admin.tenant), pytest.raises(Http404):
        get_in_tenant_or_404(User.objects.all(), request_as(acme_admin), pk=globex_admin.pk)
    [event] = denied_events(acme_admin.tenant)
    assert event.actor == acme_admin
    assert event.after == {"reason": "cross_tenant", "path": "/somewhere/"}
    assert denied_events(globex_admin.tenant) == []  # the other tenant learns nothing either


def test_missing_id_is_404_without_event(acme_admin):
    with tenant_scope(acme_admin.tenant), pytest.raises(Http404):
        get_in_tenant_or_404(User.objects.all(), request_as(acme_admin), pk=999_999)
    assert denied_events(acme_admin.tenant) == []


def test_malformed_id_is_404(acme_admin):
    with tenant_scope(acme_admin.tenant), pytest.raises(Http404):
        get_in_tenant_or_404(User.objects.all(), request_as(acme_admin), pk="not-a-number")
