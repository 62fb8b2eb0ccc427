"""The console's break-glass button: offered to a sole administrator on their own pending change, behind a
step-up; refused (and not offered) while a second administrator exists. See docs/console.md."""

import datetime as dt

import time_machine
from django.test import Client

from accounts.scoping import tenant_scope
from permissions.models import PendingChange
from permissions.services import roles as role_services
from tests.conftest import login
from tests.console.conftest import messages_of
from tests.factories import builtin_role


def request_admin_role(acme, requester, subject):
    with tenant_scope(acme):
        return role_services.change_user_role(
            subject, builtin_role(acme, "administrator"), actor=requester, reason="runs the account"
        )


def test_a_sole_administrator_starts_the_cooling_off_after_step_up(acme, acme_admin, acme_customer):
    change = request_admin_role(acme, acme_admin, acme_customer)
    client = login(Client(), acme_admin)
    url = f"/console/approvals/{change.pk}/"
    response = client.get(url)
    assert response.context["buttons"]["break_glass"]
    assert "Apply after the cooling-off period" in response.content.decode()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)
    with time_machine.travel(later):
        response = client.post(url, {"op": "break_glass", "reason": "our other admin left"})
    assert response["Location"].startswith("/accounts/mfa/step-up/")
    change.refresh_from_db()
    assert change.applies_at is None
    response = client.post(url, {"op": "break_glass", "reason": "our other admin left"}, follow=True)
    assert "applies by itself at" in " ".join(messages_of(response))
    change.refresh_from_db()
    assert change.applies_at is not None and change.status == PendingChange.Status.PENDING
    body = client.get(url).content.decode()
    assert 'data-testid="break-glass"' in body and not client.get(url).context["buttons"]["break_glass"]
    assert 'data-testid="applies-at"' in client.get("/console/approvals/").content.decode()
    acme_customer.refresh_from_db()
    assert acme_customer.role.key == "basic"


def test_no_break_glass_while_a_second_administrator_exists(acme, acme_admin, acme_admin2, acme_customer):
    change = request_admin_role(acme, acme_admin, acme_customer)
    client = login(Client(), acme_admin)
    url = f"/console/approvals/{change.pk}/"
    assert not client.get(url).context["buttons"]["break_glass"]
    response = client.post(url, {"op": "break_glass", "reason": "impatient"}, follow=True)
    assert "Another administrator can approve this change" in " ".join(messages_of(response))
    change.refresh_from_db()
    assert change.applies_at is None
