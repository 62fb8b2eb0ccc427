"""Every endpoint × role: allowed for the administrator's key, refused for a basic user's key and for a
key without the scope, and another tenant's ids answer 404 (AZ-1, AZ-3)."""

import pytest

from tests.api.conftest import bearer, issue
from tests.api.foreign import make
from tests.factories import UserFactory, builtin_role

# (list URL, detail URL template with {id}, kind for tests.api.foreign.make, module scope)
ENDPOINTS = [
    ("/api/v1/users", "/api/v1/users/{id}", "user", "users"),
    ("/api/v1/roles", "/api/v1/roles/{id}", "role", "roles"),
    ("/api/v1/groups", "/api/v1/groups/{id}", "group", "groups"),
    ("/api/v1/modules", "/api/v1/modules/{id}", "module", "modules"),
    ("/api/v1/grants", "/api/v1/grants/{id}", "grant", "grants"),
    ("/api/v1/audit-events", "/api/v1/audit-events/{id}", "event", "audit"),
    ("/api/v1/checkpoints", "/api/v1/checkpoints/{id}", "checkpoint", "audit"),
    ("/api/v1/review-campaigns", "/api/v1/review-campaigns/{id}", "campaign", "reviews"),
    ("/api/v1/review-items", "/api/v1/review-items/{id}", "review_item", "reviews"),
]
# Access requests are read per object (everyone follows their own): tests/api/test_access_requests.py.


def _object(tenant, kind):
    if kind == "user":
        user = UserFactory(tenant=tenant)
        return user.pk, user.email
    if kind == "role":
        from accounts.scoping import tenant_scope
        from permissions.services.roles import create_role

        with tenant_scope(tenant):
            role = create_role(actor=None, tenant=tenant, name="Foreign auditors")
        return role.pk, role.name
    if kind == "event":
        from accounts.scoping import tenant_scope
        from audit.models import AuditEvent

        user = UserFactory(tenant=tenant)
        with tenant_scope(tenant):
            return AuditEvent.objects.get(event_type="user.created", target_id=str(user.pk)).pk, user.email
    return make(tenant, kind)


@pytest.mark.parametrize(("list_url", "detail", "kind", "module"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_az3_admin_key_reads_list_and_detail(api_acme, acme, list_url, detail, kind, module):
    object_id, _text = _object(acme, kind)
    assert api_acme.get(list_url).status_code == 200
    response = api_acme.get(detail.format(id=object_id))
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(("list_url", "detail", "kind", "module"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_az3_basic_user_key_is_refused(acme, list_url, detail, kind, module):
    """A key whose owner is now a basic user can do no more than a basic user (view products)."""
    from accounts.scoping import tenant_scope
    from permissions.services.roles import apply_role_change

    UserFactory(tenant=acme, role=builtin_role(acme, "administrator"))  # the tenant keeps one (INS-2)
    owner = UserFactory(tenant=acme, role=builtin_role(acme, "administrator"))
    _key, token = issue(owner)
    with tenant_scope(acme):
        apply_role_change(owner, builtin_role(acme, "basic"), actor=None)
    client = bearer(token)
    object_id, _text = _object(acme, kind)
    for url in (list_url, detail.format(id=object_id)):
        response = client.get(url)
        assert response.status_code == 403, url
        assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(("list_url", "detail", "kind", "module"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_az3_key_without_the_scope_is_refused(acme, acme_admin, list_url, detail, kind, module):
    """The owner may, but the key's scopes do not name the module: refused."""
    other = "products" if module != "products" else "reports"
    _key, token = issue(acme_admin, scopes={other: ["view"]})
    response = bearer(token).get(list_url)
    assert response.status_code == 403


@pytest.mark.parametrize(("list_url", "detail", "kind", "module"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_az1_other_tenants_ids_are_404_and_absent_from_lists(api_acme, globex, list_url, detail, kind, module):
    object_id, text = _object(globex, kind)
    response = api_acme.get(detail.format(id=object_id))
    assert response.status_code == 404
    assert str(text) not in response.content.decode()
    for method in ("patch", "delete", "post"):
        assert (
            getattr(api_acme, method)(detail.format(id=object_id), {}, content_type="application/json").status_code
            == 404
        )
    assert str(text) not in api_acme.get(list_url).content.decode()


def test_log8_foreign_id_records_a_denied_event(api_acme, acme, globex):
    from accounts.scoping import tenant_scope
    from audit.models import AuditEvent

    object_id, _text = _object(globex, "group")
    assert api_acme.get(f"/api/v1/groups/{object_id}").status_code == 404
    with tenant_scope(acme):
        assert AuditEvent.objects.filter(event_type="security.access_denied", target_id=str(object_id)).exists()


def test_az3_undeclared_api_view_serves_nothing(rf, acme_admin):
    """DRF's default permission class here is DenyByDefault: a view that declares nothing is refused."""
    from rest_framework.response import Response

    from api.base import TenantAPIView

    class Forgetful(TenantAPIView):
        def get(self, request):
            return Response({"secret": 1})

    request = rf.get("/x")
    request.user = acme_admin
    from rest_framework.test import force_authenticate

    force_authenticate(request, user=acme_admin)
    assert Forgetful.as_view()(request).status_code == 403


def test_base_viewset_refuses_get_queryset_override():
    from api.base import TenantViewSet

    with pytest.raises(TypeError):

        class Sloppy(TenantViewSet):
            def get_queryset(self):
                return []
