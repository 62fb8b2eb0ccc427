"""Helpers of the separation-of-duties suites: a Payments module, the classic rule, grants set up by the system."""

from accounts.scoping import tenant_scope
from permissions.services import grants as grant_services
from permissions.services import modules as module_services
from permissions.services import sod_rules


def make_payments(tenant):
    """A custom module whose actions are view, create and approve."""
    with tenant_scope(tenant):
        return module_services.create_module(
            actor=None, tenant=tenant, name="Payments", key="payments", actions=["view", "create", "approve"]
        )


def no_self_approval_rule(tenant, admin, payments):
    """Payments: approve with payments: create, never an exception."""
    with tenant_scope(tenant):
        return sod_rules.create_rule(
            actor=admin,
            tenant=tenant,
            name="No self-approved payments",
            reason="whoever creates a payment must not approve it",
            severity="critical",
            first_module=payments,
            first_actions=["approve"],
            second_module=payments,
            second_actions=["create"],
        )


def give(tenant, user, module, actions, group=None):
    """A grant made by the system (no four-eyes), for setting the scene."""
    with tenant_scope(tenant):
        return grant_services.grant(actor=None, module=module, actions=actions, reason="setup", user=user, group=group)
