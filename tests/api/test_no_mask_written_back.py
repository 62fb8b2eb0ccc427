"""FC-3: no value hidden from a writer (a sensitive attribute shown as the mask) is ever written back —
through the API's PATCH, its bulk upsert, or the service every path uses (the console's form included)."""

import pytest

from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from permissions.models import Module, Resource
from permissions.sensitive import MASK
from permissions.services.errors import AccessRefused
from permissions.services.modules import create_resource, update_resource
from tests.api.conftest import bearer, issue

JSON = "application/json"
SCOPES = {"products": ["view", "change", "create"]}  # no view_sensitive: cost_price is shown as the mask


@pytest.fixture
def product(acme):
    with tenant_scope(acme):
        products = Module.objects.get(key="products")
        return create_resource(
            actor=None, module=products, title="X-200", external_id="X-200", attributes={"cost_price": 12, "size": 3}
        )


def _stored(acme, resource) -> dict:
    with tenant_scope(acme):
        return Resource.objects.get(pk=resource.pk).attributes


def test_patch_sending_back_what_it_read_keeps_the_hidden_value(acme, acme_admin, product):
    client = bearer(issue(acme_admin, scopes=SCOPES)[1])
    shown = client.get(f"/api/v1/resources/{product.pk}").json()
    assert shown["attributes"] == {"cost_price": MASK, "size": 3}
    shown["attributes"]["size"] = 4
    response = client.patch(f"/api/v1/resources/{product.pk}", {"attributes": shown["attributes"]}, content_type=JSON)
    assert response.status_code == 200, response.content
    assert _stored(acme, product) == {"cost_price": 12, "size": 4}


def test_patch_leaving_the_hidden_value_out_keeps_it(acme, acme_admin, product):
    client = bearer(issue(acme_admin, scopes=SCOPES)[1])
    response = client.patch(f"/api/v1/resources/{product.pk}", {"attributes": {"size": 5}}, content_type=JSON)
    assert response.status_code == 200, response.content
    assert _stored(acme, product) == {"cost_price": 12, "size": 5}


def test_a_new_value_from_a_writer_who_cannot_see_the_old_one_replaces_it(acme, acme_admin, product):
    client = bearer(issue(acme_admin, scopes=SCOPES)[1])
    body = {"attributes": {"cost_price": 15, "size": 3}}
    assert client.patch(f"/api/v1/resources/{product.pk}", body, content_type=JSON).status_code == 200
    assert _stored(acme, product) == {"cost_price": 15, "size": 3}


def test_bulk_upsert_of_what_was_read_writes_no_mask_and_no_event(acme, acme_admin, product):
    client = bearer(issue(acme_admin, scopes=SCOPES)[1])
    shown = client.get(f"/api/v1/resources/{product.pk}").json()
    with tenant_scope(acme):
        events = AuditEvent.objects.count()
    item = {"external_id": "X-200", "title": shown["title"], "attributes": shown["attributes"]}
    response = client.post("/api/v1/resources/bulk", {"module": "products", "items": [item]}, content_type=JSON)
    assert response.status_code == 200, response.content
    assert response.json()["updated"] == [product.pk]
    assert _stored(acme, product) == {"cost_price": 12, "size": 3}
    with tenant_scope(acme):
        assert AuditEvent.objects.count() == events  # nothing changed, nothing recorded


def test_a_viewer_of_sensitive_values_sending_the_mask_keeps_the_value_too(acme, acme_admin, product):
    """The mask is never a value: even from a writer who could see the real one."""
    with tenant_scope(acme):
        update_resource(product, actor=acme_admin, attributes={"cost_price": MASK, "size": 3})
        assert Resource.objects.get(pk=product.pk).attributes == {"cost_price": 12, "size": 3}


def test_the_mask_is_refused_as_a_new_sensitive_value(acme, acme_admin):
    client = bearer(issue(acme_admin, scopes=SCOPES)[1])
    item = {"external_id": "NEW-1", "title": "New", "attributes": {"cost_price": MASK}}
    response = client.post("/api/v1/resources/bulk", {"module": "products", "items": [item]}, content_type=JSON)
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    with tenant_scope(acme):
        assert not Resource.objects.filter(external_id="NEW-1").exists()
        with pytest.raises(AccessRefused):
            create_resource(
                actor=None, module=Module.objects.get(key="products"), title="Y", attributes={"cost_price": MASK}
            )
