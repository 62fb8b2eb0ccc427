"""The appeals screens through the real login: a customer opens a case from a notice's link and reads the
answer; an approver answers from the queue and grants from the case; other customers, other tenants and people
who handle nothing get 404 or 403, and GETs never change anything."""

import pytest
from django.test import Client

from accessrequests.models import Notice
from appeals import services
from appeals.models import Case
from permissions.services import grants
from permissions.vocabulary import Action
from tests.conftest import login


@pytest.fixture
def customer_client(customer):
    return login(Client(), customer)


def _open(customer, **values):
    base = {"kind": Case.Kind.MISSING, "subject": "Cannot see Q3", "body": "The Q3 report is missing."}
    return services.open_case(actor=customer, **{**base, **values})


def test_from_the_revocation_notice_to_a_case(in_acme, acme_admin, customer, reports, customer_client):
    grant = grants.grant(actor=acme_admin, module=reports, user=customer, actions=[Action.VIEW], reason="Q3")
    grants.revoke(grant, actor=acme_admin, reason="Project over")
    page = customer_client.get("/my-access/")
    assert "was revoked" in page.content.decode() and f"grant={grant.pk}" in page.content.decode()
    url = f"/appeals/new/?kind=revocation&grant={grant.pk}"
    form = customer_client.get(url).content.decode()
    assert f"grant #{grant.pk}" in form and "/requests/new/?module=reports" in form  # ask again, prefilled
    response = customer_client.post(url, {"kind": "revocation", "subject": "I still run Q3", "body": "Please."})
    case = Case.objects.get(customer=customer)
    assert response["Location"] == f"/appeals/{case.pk}/"
    assert (case.kind, case.grant_id, case.module_id) == ("revocation", grant.pk, reports.pk)
    assert "I still run Q3" in customer_client.get("/appeals/").content.decode()


def test_a_foreign_grant_in_the_link_is_ignored(
    in_acme, acme_admin, customer, other_customer, reports, customer_client
):
    theirs = grants.grant(actor=acme_admin, module=reports, user=other_customer, actions=[Action.VIEW], reason="x")
    body = customer_client.get(f"/appeals/new/?grant={theirs.pk}").content.decode()
    assert f"grant #{theirs.pk}" not in body and 'data-testid="case-about"' not in body
    customer_client.post(f"/appeals/new/?grant={theirs.pk}", {"kind": "missing", "subject": "s", "body": "b"})
    assert Case.objects.get(customer=customer).grant_id is None


def test_the_approver_answers_and_grants_from_the_queue(in_acme, acme_admin, customer, reports, mailoutbox):
    case = _open(customer, module=reports)
    admin = login(Client(), acme_admin)
    queue = admin.get("/appeals/queue/").content.decode()
    assert "Cannot see Q3" in queue and "customer@acme.example" in queue
    assert admin.get(f"/appeals/{case.pk}/reply/").status_code == 302  # a GET only shows the case
    assert case.messages.count() == 1
    admin.post(f"/appeals/{case.pk}/reply/", {"body": "Which quarter?"})
    case.refresh_from_db()
    assert case.state == Case.State.ANSWERED
    page = admin.get(f"/appeals/{case.pk}/").content.decode()
    assert 'data-testid="grant-form"' in page and "Which quarter?" in page
    admin.post(f"/appeals/{case.pk}/grant/", {"actions": ["view"], "days": "14", "body": ""})
    case.refresh_from_db()
    assert case.outcome == Case.Outcome.GRANTED and case.result_grant.user_id == customer.pk
    assert Notice.objects.filter(user=customer, kind=Notice.Kind.CASE_UPDATE).count() == 2


def test_other_customers_and_other_tenants_get_404(in_acme, customer, other_customer, client_globex):
    case = _open(customer)
    other = login(Client(), other_customer)
    for url in (f"/appeals/{case.pk}/", f"/appeals/{case.pk}/reply/"):
        assert other.get(url).status_code == 404
        assert client_globex.get(url).status_code == 404
    other.post(f"/appeals/{case.pk}/reply/", {"body": "hijack"})
    client_globex.post(f"/appeals/{case.pk}/close/", {"confirmed": "yes"})
    case.refresh_from_db()
    assert case.messages.count() == 1 and case.state == Case.State.OPEN


def test_a_customer_has_no_queue_and_cannot_resolve_their_own_case(in_acme, customer, customer_client, reports):
    case = _open(customer, module=reports)
    assert customer_client.get("/appeals/queue/").status_code == 403
    page = customer_client.get(f"/appeals/{case.pk}/").content.decode()
    assert 'data-testid="grant-form"' not in page and 'data-testid="resolve-form"' not in page
    customer_client.post(f"/appeals/{case.pk}/grant/", {"actions": ["view"], "days": "14"})
    customer_client.post(f"/appeals/{case.pk}/resolve/", {"outcome": "upheld", "body": "fine"})
    case.refresh_from_db()
    assert case.state == Case.State.OPEN and case.result_grant_id is None


def test_the_module_owner_sees_only_the_cases_of_their_module(in_acme, customer, reports_owner, reports, products):
    mine, theirs = _open(customer, module=reports, subject="About reports"), _open(customer, module=products)
    owner = login(Client(), reports_owner)
    queue = owner.get("/appeals/queue/").content.decode()
    assert "About reports" in queue and f"/appeals/{theirs.pk}/" not in queue
    assert owner.get(f"/appeals/{mine.pk}/").status_code == 200
    assert owner.get(f"/appeals/{theirs.pk}/").status_code == 404
