"""Issue 19: "My access" says when each right ends. A module whose view comes from the role (no end) and
whose export comes from a grant expiring in ten days said "no end" for the whole module; now each end is
shown with the actions it ends."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.formats import date_format

from accounts.scoping import tenant_scope
from permissions.models import Grant
from permissions.vocabulary import Action
from tests.conftest import login
from tests.reviews.helpers import grant_on

pytestmark = pytest.mark.django_db


def until_cell(html: str, module_name: str) -> str:
    table = html.split('data-testid="module-access"', 1)[1].split("</table>", 1)[0]
    row = next(r for r in table.split("<tr>") if f"<td>{module_name}</td>" in r)
    return re.sub(r"\s+", " ", row.split('data-testid="module-until"', 1)[1].split("</td>", 1)[0])


def test_a_module_with_an_expiring_grant_says_when_it_ends(acme, acme_basic):
    made = grant_on(acme, acme_basic, "products", actions=(Action.EXPORT,))
    ends = timezone.now() + timedelta(days=10)
    with tenant_scope(acme):
        Grant.objects.filter(pk=made.pk).update(expires_at=ends)
    cell = until_cell(login(Client(), acme_basic).get("/my-access/").content.decode(), "Products")
    when = date_format(timezone.localtime(ends), "DATETIME_FORMAT")
    assert f"Export</span> until {when}" in cell
    assert "View</span>" in cell and "no end" in cell  # the role's view has no end
    assert cell.index("until") < cell.index("no end")  # the soonest end first


def test_a_module_held_only_through_the_role_has_no_end(acme, acme_basic):
    cell = until_cell(login(Client(), acme_basic).get("/my-access/").content.decode(), "Products")
    assert "no end" in cell and "until" not in cell and "chip" not in cell
