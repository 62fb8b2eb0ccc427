"""Demo organisations (issue 16): per demo tenant two customer companies, each with its members, its
administrator ("organisation: manage"), its own products and reports, and one sharing rule per module
letting members view what their organisation owns (idempotent)."""

from __future__ import annotations

from accounts.models import Organisation, User
from accounts.scoping import tenant_scope
from permissions.models import Grant, Module, Resource, Role, SharingRule
from permissions.services import grants, modules, sharing_rules
from permissions.services import organisations as orgs
from permissions.vocabulary import Action

#: tenant slug → [(organisation, external id, administrator, members)]
ORGANISATIONS = {
    "acme": [("Initech", "INI", "advanced1", range(1, 6)), ("Umbrella", "UMB", "advanced2", range(6, 11))],
    "globex": [("Hooli", "HOO", "advanced1", range(1, 6)), ("Vandelay", "VAN", "advanced2", range(6, 11))],
}
PRODUCTS = ["Service contract", "Spare parts kit", "Custom firmware"]
REPORTS = ["Quarterly review", "Open tickets", "Usage summary"]


def seed(tenant) -> None:
    """Organisations, members, administrators, owned records and the sharing rules of a demo tenant."""
    slug = tenant.slug
    with tenant_scope(tenant):
        Role.objects.filter(key__in=["basic", "advanced"]).update(organisation_assignable=True)
        people = {u.email: u for u in User.objects.all()}
        mods = {m.key: m for m in Module.objects.all()}
        for name, code, admin_name, members in ORGANISATIONS.get(slug, []):
            org = Organisation.objects.filter(name=name).first() or orgs.create_organisation(
                actor=None, tenant=tenant, name=name, external_id=code
            )
            for n in members:
                _join(people.get(f"basic{n}@{slug}.example"), org)
            administrator = people.get(f"{admin_name}@{slug}.example")
            _join(administrator, org)
            _make_administrator(administrator, org)
            for key, titles in (("products", PRODUCTS), ("reports", REPORTS)):
                for n, title in enumerate(titles, 1):
                    _owned(mods[key], org, f"{code}-{key[0].upper()}{n}", f"{name} · {title}")
        for key in ("products", "reports"):
            name = f"Members view their organisation's {key}"
            if not SharingRule.objects.filter(name=name).exists():
                rule = sharing_rules.build_rule(
                    tenant=tenant,
                    name=name,
                    kind=SharingRule.Kind.OWN,
                    module=mods[key],
                    actions=[Action.VIEW],
                    reason="Customers see what their company owns",
                )
                sharing_rules.create_rule(rule, actor=None)


def _join(user, org) -> None:
    if user is not None and user.organisation_id != org.pk:
        orgs.set_user_organisation(user, org, actor=None)


def _make_administrator(user, org) -> None:
    if user is None or Grant.objects.filter(user=user, resource_id=org.resource_id, revoked_at=None).exists():
        return
    grants.grant(
        actor=None,
        user=user,
        module=Module.objects.get(key="groups"),
        resource=Resource.objects.get(pk=org.resource_id),
        actions=[Action.CHANGE],
        reason=f"Administrator of {org.name}",
    )


def _owned(module, org, external_id, title) -> None:
    resource = Resource.objects.filter(module=module, external_id=external_id).first()
    if resource is None:
        resource = modules.create_resource(actor=None, module=module, title=title, external_id=external_id)
    if resource.owner_organisation_id != org.pk:
        orgs.set_resource_organisation(resource, org, actor=None)
