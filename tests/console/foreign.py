"""Objects of another tenant for the AZ-1 walker (tests/test_tenant_isolation.py)."""

from accounts.scoping import tenant_scope
from permissions.models import BuiltinRole, Module
from permissions.services import grants, groups, modules, roles
from permissions.vocabulary import Action
from tests.factories import UserFactory, builtin_role


def foreign_object(tenant, kind):
    """(id, a text that must not appear in the response) of a new ``kind`` object of ``tenant``."""
    with tenant_scope(tenant):
        if kind == "module":
            module = modules.create_module(actor=None, tenant=tenant, name="Foreign ledgers", key="foreign-ledgers")
            return module.pk, module.name
        if kind == "group":
            group = groups.create_group(actor=None, tenant=tenant, name="Foreign Holdings")
            return group.pk, group.name
        reports = Module.objects.get(key="reports")
        resource = modules.create_resource(actor=None, module=reports, title="Foreign balance sheet")
        if kind == "resource":
            return resource.pk, resource.title
        customer = UserFactory(tenant=tenant, email=f"customer-{kind}@{tenant.slug}.example")
        if kind == "grant":
            grant = grants.grant(
                actor=None, module=reports, resource=resource, user=customer, actions=[Action.VIEW], reason="secret"
            )
            return grant.pk, customer.email
    admin = UserFactory(tenant=tenant, email=f"admin-{kind}@{tenant.slug}.example", role_key=BuiltinRole.ADMINISTRATOR)
    with tenant_scope(tenant):
        change = roles.change_user_role(customer, builtin_role(tenant, BuiltinRole.ADMINISTRATOR), actor=admin)
    return change.pk, customer.email
