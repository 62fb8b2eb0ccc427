"""Issue 19, item 7: a guide per persona in both languages, the header's help link chosen by the page, and the
console tour's steps (one per area of the menu) on the home page only."""

import re
from html import unescape

import pytest
from django.test import Client

from tests.conftest import login
from tests.reviews.helpers import make_reviewer

pytestmark = pytest.mark.django_db
GUIDES = {
    "administrator": ("Administrator's guide", "管理员指南"),
    "reviewer": ("Reviewer's guide", "审查人指南"),
    "customer": ("Customer's guide", "客户指南"),
}


def _help(html: str) -> tuple[str, str]:
    """(href, text) of the header's help link."""
    match = re.search(r'<a class="help-link" href="([^"]+)"[^>]*>.*?<span class="help-text">([^<]+)</span>', html)
    assert match, "no help link on the page"
    return match[1], match[2]


@pytest.fixture
def reviewer(acme):
    return make_reviewer(acme)


@pytest.mark.parametrize("persona", list(GUIDES))
def test_each_guide_reads_in_english_and_in_chinese(acme, acme_basic, persona):
    client = login(Client(), acme_basic)
    english = unescape(client.get(f"/help/{persona}/").content.decode())
    assert f"<h1>{GUIDES[persona][0]}</h1>" in english
    client.post("/accounts/language/", {"language": "zh-hans"})
    chinese = client.get(f"/help/{persona}/").content.decode()
    assert f"<h1>{GUIDES[persona][1]}</h1>" in chinese


def test_the_guides_are_for_people_signed_in(acme):
    for url in ["/help/", "/help/administrator/", "/help/reviewer/", "/help/customer/"]:
        response = Client().get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_the_index_puts_the_readers_own_guide_first(acme, acme_admin, acme_basic, reviewer):
    def first(user):
        page = login(Client(), user).get("/help/").content.decode()
        return re.search(r'data-testid="guide-(administrator|reviewer|customer)"', page)[1]

    assert first(acme_admin) == "administrator"
    assert first(reviewer) == "reviewer"
    assert first(acme_basic) == "customer"


def test_the_help_link_names_the_guide_of_the_page(acme, acme_admin, acme_basic, reviewer):
    admin, customer, rita = login(Client(), acme_admin), login(Client(), acme_basic), login(Client(), reviewer)
    assert _help(rita.get("/reviews/mine/").content.decode()) == ("/help/reviewer/#reviews", "How do reviews work?")
    assert _help(rita.get("/reviews/delegations/").content.decode())[0] == "/help/reviewer/#reviews"
    assert _help(admin.get("/reviews/").content.decode()) == ("/help/administrator/#reviews", "How do reviews work?")
    assert _help(admin.get("/console/users/").content.decode())[0] == "/help/administrator/#console"
    assert _help(admin.get("/audit/").content.decode())[0] == "/help/administrator/#audit"
    assert _help(customer.get("/my-access/").content.decode())[0] == "/help/customer/#access"
    assert _help(customer.get("/requests/").content.decode())[0] == "/help/customer/#requests"
    assert _help(customer.get("/help/customer/").content.decode()) == ("/help/", "All guides")
    # the home page: the reader's own guide
    assert _help(admin.get("/").content.decode())[0] == "/help/administrator/#start"
    assert _help(rita.get("/").content.decode())[0] == "/help/reviewer/#start"
    assert _help(customer.get("/").content.decode())[0] == "/help/customer/#start"


def test_the_reviewer_guide_has_the_part_the_review_screens_link_to(acme, reviewer):
    page = login(Client(), reviewer).get("/help/reviewer/").content.decode()
    for anchor in ["reviews", "workspace", "evidence", "bulk", "keyboard", "away"]:
        assert f'<section id="{anchor}"' in page, anchor


def test_no_help_link_before_sign_in(acme):
    assert 'class="help-link"' not in Client().get("/accounts/login/").content.decode()


def test_the_tour_has_a_step_per_area_of_the_menu_on_the_home_page_only(acme, acme_admin, acme_basic):
    admin = login(Client(), acme_admin)
    home = admin.get("/").content.decode()
    assert 'data-testid="tour"' in home and "guides/tour.js" in home
    for area in ["workspace", "account", "administration", "governance"]:
        assert f'data-tour-target="nav-group-{area}"' in home, area
    assert 'data-tour-target="help-link"' in home
    assert 'data-testid="tour"' not in admin.get("/console/users/").content.decode()
    customer_home = login(Client(), acme_basic).get("/").content.decode()
    assert 'data-tour-target="nav-group-administration"' not in customer_home
    assert 'data-tour-target="nav-group-workspace"' in customer_home


def test_a_user_without_a_tenant_sees_no_help_link():
    """Platform operators have no tenant: their home is the platform admin, no guide of a tenant's screens."""
    from guides.links import help_link

    class Operator:
        is_authenticated = True
        tenant_id = None

    class Request:
        user = Operator()
        resolver_match = None

    assert help_link(Request()) is None
