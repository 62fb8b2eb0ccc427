"""Objects of a given tenant for isolation tests: (id, a text of it that must not leak)."""

from accounts.scoping import tenant_scope
from tests.factories import UserFactory, builtin_role


def make(tenant, kind):
    from api import keys
    from audit.checkpoints import make_checkpoint
    from permissions.models import Module
    from permissions.services import grants, groups, modules

    if kind in ("campaign", "review_item"):
        from tests.reviews.helpers import foreign_review

        return foreign_review(tenant, "campaign" if kind == "campaign" else "item")
    if kind == "access_request":
        from accessrequests.services import submit

        requester = UserFactory(tenant=tenant)
        with tenant_scope(tenant):
            reports = Module.objects.get(key="reports")
            made = submit(actor=requester, module=reports, actions=["view"], reason="Foreign reason", duration_days=7)
        return made.pk, made.reason
    admin = UserFactory(tenant=tenant, role=builtin_role(tenant, "administrator"))
    with tenant_scope(tenant):
        if kind == "group":
            group = groups.create_group(actor=admin, tenant=tenant, name="Foreign Initech")
            return group.pk, group.name
        if kind == "module":
            module = modules.create_module(actor=admin, tenant=tenant, name="Foreign ledgers")
            return module.pk, module.name
        reports = Module.objects.get(key="reports")
        if kind == "resource":
            resource = modules.create_resource(actor=admin, module=reports, title="Foreign Q3 revenue")
            return resource.pk, resource.title
        if kind == "grant":
            subject = UserFactory(tenant=tenant)
            grant = grants.grant(actor=admin, module=reports, actions=["export"], reason="Foreign reason", user=subject)
            return grant.pk, grant.reason
        if kind == "checkpoint":
            checkpoint = make_checkpoint(tenant, force=True)
            return checkpoint.pk, checkpoint.root_hash
        if kind == "organisation":
            from permissions.services.organisations import create_organisation

            org = create_organisation(actor=admin, tenant=tenant, name="Foreign Umbrella Corp")
            return org.pk, org.name
        if kind == "sharing_rule":
            from permissions.services import sharing_rules

            rule = sharing_rules.build_rule(
                tenant=tenant, name="Foreign partner rule", kind="own", module=reports, actions=["view"], reason="r"
            )
            rule = sharing_rules.create_rule(rule, actor=admin)
            return rule.pk, rule.name
        if kind == "sod_rule":
            from permissions.services import sod_rules

            rule = sod_rules.create_rule(
                actor=admin,
                tenant=tenant,
                name="Foreign basic users delete nothing",
                reason="r",
                first_role=builtin_role(tenant, "basic"),  # a role side: other objects' set-up never violates it
                second_module=reports,
                second_actions=["delete"],
            )
            return rule.pk, rule.name
        if kind == "training_requirement":
            from training.services import create_requirement

            made = create_requirement(
                actor=admin, tenant=tenant, lesson="four-eyes", module=reports, actions=["export"]
            )
            return made.pk, "four-eyes"
        if kind == "key":
            issued = keys.create_key(actor=admin, name="Foreign integration", scopes={"reports": ["view"]})
            return issued.key.pk, issued.key.name
    raise ValueError(kind)
