"""Issue 19: the request form never pre-ticks a right the requester already holds (a customer who views
the products found "View" ticked when asking for more); what they do not hold is still ticked as asked."""

import re

import pytest
from django.test import Client

from tests.conftest import login

pytestmark = pytest.mark.django_db


def ticked(html: str) -> set[str]:
    boxes = re.findall(r'<input type="checkbox" name="actions" value="(\w+)"([^>]*)>', html)
    assert boxes, "the form has no action checkboxes"
    return {value for value, rest in boxes if "checked" in rest}


def test_a_held_right_is_not_pre_ticked(acme, acme_basic):
    client = login(Client(), acme_basic)
    assert ticked(client.get("/requests/new/?module=products").content.decode()) == set()
    asked = client.get("/requests/new/?module=products&actions=view&actions=export").content.decode()
    assert ticked(asked) == {"export"}


def test_a_right_not_held_is_pre_ticked_as_before(acme, acme_basic):
    client = login(Client(), acme_basic)
    assert ticked(client.get("/requests/new/?module=reports").content.decode()) == {"view"}
