"""The 403 page: in the portal's layout, in the reader's language, naming what the page needs and
offering to ask for it (the request form prefilled)."""

from django.test import Client

from tests.conftest import login


def test_a_refused_console_page_says_what_it_needs_and_links_to_a_prefilled_request(acme_basic):
    client = login(Client(), acme_basic)
    response = client.get("/console/users/")
    body = response.content.decode()
    assert response.status_code == 403
    assert "You do not have access to this page" in body
    assert "It needs “View” on Users." in body
    assert 'href="/requests/new/?module=users&amp;actions=view"' in body
    form = client.get("/requests/new/?module=users&actions=view")
    assert form.status_code == 200 and 'value="view"' in form.content.decode()


def test_the_403_page_is_translated(acme_basic):
    client = login(Client(), acme_basic)
    client.cookies["portcullis_language"] = "zh-hans"
    body = client.get("/console/users/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "You do not have access to this page" not in body
    assert "申请访问" in body
