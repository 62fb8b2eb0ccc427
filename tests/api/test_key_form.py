"""Issue 19, the API-key form: labelled fields with help texts, the scopes as a grid (a row per module, a column
per action, toggles per row and column, a legend), only the scopes the creator holds offered; posting scopes still
creates the key with the same scope map, and a scope the creator does not hold is refused (AZ-6)."""

import re

from django.test import Client

from accounts.scoping import tenant_scope
from api.models import ApiKey
from permissions.vocabulary import mask_of
from tests.conftest import login
from tests.console.conftest import role_with
from tests.factories import UserFactory

URL = "/api/keys/new"


def integrator(acme):
    """A person who manages settings and holds products: view, export (and nothing else)."""
    role = role_with(acme, "Integrations", {"settings": ["view", "change"], "products": ["view", "export"]})
    user = UserFactory(tenant=acme, email="integrator@acme.example", role=role)
    return user, login(Client(), user)


def keys(acme):
    with tenant_scope(acme):
        return list(ApiKey.objects.order_by("id"))


def test_the_form_is_labelled_and_lays_the_held_scopes_out_as_a_grid(acme):
    _user, client = integrator(acme)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'<label for="id_name">Name</label>', html)  # no trailing colon
    assert 'aria-describedby="id_name_helptext"' in html and 'id="id_name_helptext"' in html
    assert 'aria-describedby="id_scopes_helptext"' in html and 'id="id_scopes_helptext"' in html
    assert 'data-testid="scope-grid"' in html and 'data-testid="matrix-legend"' in html
    boxes = re.findall(r'<input type="checkbox" name="scopes" value="([a-z_]+:[a-z_]+)"', html)
    assert sorted(boxes) == ["products:export", "products:view", "settings:change", "settings:view"]
    assert 'aria-label="Products: View"' in html and "Products: Delete" not in html
    assert 'aria-label="Select all: Products"' in html and 'aria-label="Select all: View"' in html
    assert 'aria-label="Select all: Delete"' not in html  # nothing of that column is offered: no toggle
    assert "You do not hold this" in html  # products: delete applies, but is not theirs to give
    assert [row.module.key for row in response.context["grid"].rows] == ["products", "settings"]  # held ones only


def test_posting_scopes_creates_the_key_with_their_scope_map(acme):
    user, client = integrator(acme)
    data = {"name": "ERP", "scopes": ["products:view", "products:export", "settings:view"], "rate_per_minute": 60}
    response = client.post(URL, data)
    assert response.status_code == 200 and response.context["token"].startswith("pck_")
    [key] = keys(acme)
    assert key.owner == user and key.name == "ERP" and key.rate_per_minute == 60
    assert key.scopes == {"products": mask_of(["view", "export"]), "settings": mask_of(["view"])}


def test_a_scope_the_creator_does_not_hold_is_refused_and_nothing_is_created(acme):
    _user, client = integrator(acme)
    for scopes in (["products:view", "products:delete"], ["users:view"]):
        response = client.post(URL, {"name": "ERP", "scopes": scopes, "rate_per_minute": 600})
        assert response.status_code == 200 and "token" not in response.context
        errors = response.context["form"].errors["scopes"]
        assert errors and "is not one of the available choices" in errors[0]
        html = response.content.decode()
        assert 'id="id_scopes_error"' in html and 'aria-describedby="id_scopes_helptext id_scopes_error"' in html
        assert 'value="products:delete"' not in html and 'value="users:view"' not in html
    assert keys(acme) == []


def test_without_a_scope_the_form_says_so_next_to_the_grid(acme):
    _user, client = integrator(acme)
    response = client.post(URL, {"name": "ERP", "rate_per_minute": 600})
    assert response.status_code == 200 and response.context["form"].errors["scopes"]
    assert keys(acme) == []
