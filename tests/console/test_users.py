"""Users: search and filters with constant queries, the effective matrix and its reasons (each agreeing
with engine.explain), role changes (step-up, second administrator), deactivation ends sessions (SES-5),
invitations, and the refusals (AZ-2, AZ-4, AZ-6)."""

import datetime as dt

import time_machine
from django.core import mail
from django.test import Client

from accounts import services
from accounts.auth_models import UserSession
from accounts.models import User
from accounts.scoping import tenant_scope
from console.matrix import effective_matrix, resource_access
from permissions import engine
from permissions.models import PendingChange
from permissions.services import grants as grant_services
from permissions.services import groups as group_services
from permissions.vocabulary import Action
from tests.conftest import login
from tests.console.conftest import messages_of, module
from tests.factories import UserFactory, builtin_role
from tests.querycount import assert_constant_queries


def user(email):
    return User.objects.dangerously_all_tenants().get(email=email)


def test_users_list_searches_and_filters(admin_client_acme, acme, acme_customer, customer_company):
    UserFactory(tenant=acme, email="zed@acme.example", full_name="Zed Zero", role_key="advanced")
    invited = services.invite_user(
        tenant=acme, email="new@acme.example", role=builtin_role(acme), actor=user("admin@acme.example")
    )
    gone = UserFactory(tenant=acme, email="gone@acme.example")
    services.deactivate_user(gone, actor=user("admin@acme.example"))

    def emails(query):
        response = admin_client_acme.get(f"/console/users/?{query}")
        return {row["user"].email for row in response.context["rows"]}

    assert emails("q=zero") == {"zed@acme.example"}
    assert emails("q=CUSTOMER@") == {"customer@acme.example"}
    assert emails(f"role={builtin_role(acme, 'advanced').pk}") == {"zed@acme.example"}
    assert emails(f"group={customer_company.pk}") == {"customer@acme.example"}
    assert emails("status=invited") == {invited.email}
    assert emails("status=inactive") == {"gone@acme.example"}
    assert "gone@acme.example" not in emails("status=active")


def test_az2_a_role_of_another_tenant_in_the_filter_is_ignored(admin_client_acme, globex, acme_customer):
    response = admin_client_acme.get(f"/console/users/?role={builtin_role(globex).pk}")
    assert response.status_code == 200 and response.context["form"].errors  # not a choice of this tenant


def test_users_list_has_a_constant_number_of_queries(admin_client_acme, acme, customer_company):
    def grow():
        for n in range(30):
            member = UserFactory(tenant=acme, email=f"grow{n}@acme.example")
            with tenant_scope(acme):
                group_services.add_member(customer_company, member, actor=None)

    assert_constant_queries(admin_client_acme, "/console/users/", grow)


def test_user_detail_explains_every_cell_like_the_engine(
    admin_client_acme, acme, acme_customer, customer_company, report
):
    with tenant_scope(acme):
        grant_services.grant(
            actor=None, module=module(acme, "reports"), group=customer_company, actions=[Action.VIEW], reason="QBR"
        )
        soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=7)
        grant_services.grant(
            actor=None,
            module=module(acme, "analytics"),
            user=acme_customer,
            actions=[Action.VIEW],
            reason="pilot",
            expires_at=soon,
        )
        grant_services.grant(
            actor=None,
            module=module(acme, "reports"),
            resource=report,
            user=acme_customer,
            actions=[Action.EXPORT],
            reason="board pack",
            expires_at=soon,
        )
        grant_services.grant(
            actor=None,
            module=module(acme, "reports"),
            resource=report,
            group=customer_company,
            actions=[Action.CHANGE],
            reason="corrections",
        )
        for row in effective_matrix(acme_customer):
            for cell in row.cells:
                expected = engine.explain(acme_customer, cell.action, row.module)
                assert cell.allowed == expected.allowed, (row.module.key, cell.action)
                assert [p.text for p in cell.paths] == [p.text for p in expected.paths]
        paths = resource_access(acme_customer)
    assert [(p.kind, p.action, p.expires_at is not None) for p in paths] == [
        ("user_resource_grant", Action.EXPORT, True),
        ("group_resource_grant", Action.CHANGE, False),
    ]
    body = admin_client_acme.get(f"/console/users/{acme_customer.pk}/").content.decode()
    assert "Role Basic user → Products: View" in body
    assert "via group Initech → Reports: View" in body
    assert "→ Analytics: View, by the system (expires" in body
    assert "→ Q3 revenue: Export, by the system (expires" in body
    assert "via group Initech → Q3 revenue: Change, by the system" in body


def test_why_page_shows_the_paths_and_the_refusals(admin_client_acme, acme, acme_customer, report):
    with tenant_scope(acme):
        grant_services.grant(
            actor=None,
            module=module(acme, "reports"),
            resource=report,
            user=acme_customer,
            actions=[Action.VIEW],
            reason="QBR",
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=3),
        )
    body = admin_client_acme.get(f"/console/users/{acme_customer.pk}/why/{report.pk}/").content.decode()
    assert "→ Q3 revenue: View, by the system (expires" in body
    assert "No role, group or grant gives this action." in body  # e.g. Export


def test_making_someone_administrator_needs_step_up_then_a_second_administrator(admin_client_acme, acme, acme_customer):
    administrator = builtin_role(acme, "administrator")
    url = f"/console/users/{acme_customer.pk}/role/"
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)
    with time_machine.travel(later):  # the login's MFA step is no longer recent
        response = admin_client_acme.post(url, {"role": administrator.pk, "reason": "runs the account"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/step-up/")
    assert response["Location"].endswith("role%2F%3Fresume%3D1")  # back to the form, filled in (test_step_up)
    assert user(acme_customer.email).role.key == "basic"
    response = admin_client_acme.post(url, {"role": administrator.pk, "reason": "runs the account"}, follow=True)
    assert "waits for a second administrator" in " ".join(messages_of(response))
    assert user(acme_customer.email).role.key == "basic"
    with tenant_scope(acme):
        assert PendingChange.objects.filter(status="pending", payload__user=acme_customer.pk).count() == 1


def test_a_plain_role_change_applies_at_once(admin_client_acme, acme, acme_customer):
    advanced = builtin_role(acme, "advanced")
    admin_client_acme.post(f"/console/users/{acme_customer.pk}/role/", {"role": advanced.pk, "reason": "grew"})
    assert user(acme_customer.email).role_id == advanced.pk


def test_az6_nobody_changes_their_own_role(admin_client_acme, acme, acme_admin):
    response = admin_client_acme.post(
        f"/console/users/{acme_admin.pk}/role/", {"role": builtin_role(acme).pk, "reason": "x"}, follow=True
    )
    assert "Nobody can change their own role" in " ".join(messages_of(response))
    assert user(acme_admin.email).role.key == "administrator"


def test_az2_a_role_of_another_tenant_in_the_post_is_refused(admin_client_acme, globex, acme_customer):
    response = admin_client_acme.post(
        f"/console/users/{acme_customer.pk}/role/", {"role": builtin_role(globex, "advanced").pk, "reason": "x"}
    )
    assert response.status_code == 200 and "role" in response.context["form"].errors
    assert user(acme_customer.email).role.key == "basic"


def test_ses5_deactivating_ends_every_session_and_reactivating_lets_them_back(
    admin_client_acme, acme, acme_customer, django_capture_on_commit_callbacks
):
    customer_client = login(Client(), acme_customer)
    assert customer_client.get("/").status_code == 200
    with tenant_scope(acme):
        assert UserSession.objects.filter(user=acme_customer).exists()
    url = f"/console/users/{acme_customer.pk}/status/"
    with django_capture_on_commit_callbacks(execute=True):
        admin_client_acme.post(url, {"reason": "left the company"})
    assert not user(acme_customer.email).is_active
    with tenant_scope(acme):
        assert not UserSession.objects.filter(user=acme_customer).exists()
    assert customer_client.get("/").status_code == 302  # sent to log in
    admin_client_acme.post(url, {"reason": "came back"})
    assert user(acme_customer.email).is_active


def test_nobody_deactivates_themselves(admin_client_acme, acme_admin):
    assert admin_client_acme.post(f"/console/users/{acme_admin.pk}/status/", {"reason": "x"}).status_code == 403
    assert user(acme_admin.email).is_active


def test_invite_creates_an_inactive_account_and_mails_the_link(
    admin_client_acme, acme, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_acme.post(
            "/console/users/invite/",
            {"email": "Invitee@acme.example", "full_name": "Ina Invitee", "role": builtin_role(acme).pk},
        )
    assert response.status_code == 302
    invitee = user("invitee@acme.example")
    assert not invitee.is_active and not invitee.has_usable_password() and invitee.tenant_id == acme.pk
    assert len(mail.outbox) == 1 and "/accounts/invitation/" in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        admin_client_acme.post(f"/console/users/{invitee.pk}/invitation/")
    assert len(mail.outbox) == 2


def test_az4_invite_ignores_fields_a_client_must_not_set(admin_client_acme, acme, globex):
    admin_client_acme.post(
        "/console/users/invite/",
        {
            "email": "sneaky@acme.example",
            "role": builtin_role(acme).pk,
            "tenant": globex.pk,
            "is_staff": "on",
            "is_superuser": "on",
            "is_active": "on",
        },
    )
    sneaky = user("sneaky@acme.example")
    assert sneaky.tenant_id == acme.pk and not sneaky.is_staff and not sneaky.is_superuser and not sneaky.is_active


def test_az6_invite_offers_no_role_with_console_rights(admin_client_acme, acme):
    administrator = builtin_role(acme, "administrator")
    response = admin_client_acme.post(
        "/console/users/invite/", {"email": "boss@acme.example", "role": administrator.pk}
    )
    assert response.status_code == 200 and "role" in response.context["form"].errors
    assert not User.objects.dangerously_all_tenants().filter(email="boss@acme.example").exists()


def test_ins7_an_email_of_another_tenant_is_invited_like_a_fresh_one(admin_client_acme, acme, globex_admin):
    """E-mails are unique per tenant: another tenant's address answers exactly as an unknown one (no "taken",
    no 500), and the other tenant's account is untouched."""
    basic = builtin_role(acme).pk
    fresh = admin_client_acme.post("/console/users/invite/", {"email": "fresh@acme.example", "role": basic})
    other = admin_client_acme.post(
        "/console/users/invite/", {"email": globex_admin.email, "role": builtin_role(acme).pk}
    )
    assert fresh.status_code == other.status_code == 302
    with tenant_scope(acme):
        invited = User.objects.get(email=globex_admin.email)
    assert invited.pk != globex_admin.pk and not invited.is_active
    globex_admin.refresh_from_db()
    assert globex_admin.is_active and globex_admin.tenant_id != acme.pk
    # An address of this tenant is refused, in this tenant only.
    again = admin_client_acme.post("/console/users/invite/", {"email": "fresh@acme.example", "role": basic})
    assert again.status_code == 200 and "email" in again.context["form"].errors
