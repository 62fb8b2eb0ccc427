"""Objects of access intelligence in a given tenant, for the isolation walk (tests/test_tenant_isolation.py)."""

from django.utils import timezone

from accounts.scoping import tenant_scope
from intelligence.models import Alert, RightsizingProposal, RoleProposal
from permissions.models import Module
from tests.factories import UserFactory


def foreign_intelligence(tenant, kind):
    """(id, a text that must not leak) of a right-sizing proposal, a mined role proposal or an alert."""
    user = UserFactory(tenant=tenant, email=f"intelligence-{kind}@{tenant.slug}.example")
    with tenant_scope(tenant):
        module = Module.objects.get(key="reports")
        if kind == "proposal":
            row = RightsizingProposal.objects.create(
                tenant=tenant, user=user, module=module, action="delete", kind="remove", confidence=0.9
            )
        elif kind == "role_proposal":
            row = RoleProposal.objects.create(
                tenant=tenant, key=f"k-{tenant.slug}", rights={"reports": 1}, members=[user.pk]
            )
        else:
            row = Alert.objects.create(
                tenant=tenant, user=user, module=module, action="export", kind="burst", window=timezone.now()
            )
    return row.pk, user.email
