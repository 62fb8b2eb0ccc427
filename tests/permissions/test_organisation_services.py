"""Organisation services: each change audited in its transaction and seen by the engine at once; bad
input, cycles, depth, other tenants' objects and missing rights refused with nothing changed."""

import pytest

from accounts.organisations import MAX_DEPTH, Organisation
from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from permissions.models import BuiltinRole
from permissions.services import organisations as orgs
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.versioning import stored_version
from tests.factories import UserFactory
from tests.permissions.conftest import make_resource


def events(tenant):
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(tenant=tenant).order_by("seq").values_list("event_type", flat=True))


def test_create_rename_suspend_reparent_are_audited_and_bump_the_version(acme, acme_admin):
    with tenant_scope(acme):
        before = stored_version(acme.pk)
        initech = orgs.create_organisation(actor=acme_admin, tenant=acme, name="Initech", external_id="INI-1")
        parent = orgs.create_organisation(actor=acme_admin, tenant=acme, name="Holding")
        orgs.rename_organisation(initech, actor=acme_admin, name="Initech Ltd")
        orgs.set_organisation_status(initech, actor=acme_admin, status="suspended", reason="unpaid")
        orgs.reparent_organisation(initech, actor=acme_admin, parent=parent)
        initech.refresh_from_db()
        assert stored_version(acme.pk) > before
    assert (initech.name, initech.status, initech.parent_id) == ("Initech Ltd", "suspended", parent.pk)
    assert events(acme)[-5:] == [
        "organisation.created",
        "organisation.created",
        "organisation.renamed",
        "organisation.status_changed",
        "organisation.reparented",
    ]


def test_names_and_external_ids_are_unique_per_tenant_only(acme, globex, acme_admin, globex_admin):
    with tenant_scope(acme):
        orgs.create_organisation(actor=acme_admin, tenant=acme, name="Initech", external_id="X")
        for kwargs in ({"name": "Initech"}, {"name": "Other", "external_id": "X"}, {"name": "  "}):
            with pytest.raises(AccessRefused) as refused:
                orgs.create_organisation(actor=acme_admin, tenant=acme, **kwargs)
            assert refused.value.code == ErrorCode.INVALID
    with tenant_scope(globex):
        orgs.create_organisation(actor=globex_admin, tenant=globex, name="Initech", external_id="X")


def test_no_cycles_and_bounded_depth(acme, acme_admin):
    with tenant_scope(acme):
        chain = [orgs.create_organisation(actor=acme_admin, tenant=acme, name="L0")]
        for depth in range(1, MAX_DEPTH):
            chain.append(orgs.create_organisation(actor=acme_admin, tenant=acme, name=f"L{depth}", parent=chain[-1]))
        with pytest.raises(AccessRefused):  # one level too deep
            orgs.create_organisation(actor=acme_admin, tenant=acme, name="Too deep", parent=chain[-1])
        with pytest.raises(AccessRefused):  # under its own descendant
            orgs.reparent_organisation(chain[1], actor=acme_admin, parent=chain[3])
        with pytest.raises(AccessRefused):  # under itself
            orgs.reparent_organisation(chain[1], actor=acme_admin, parent=chain[1])
        side = orgs.create_organisation(actor=acme_admin, tenant=acme, name="Side")
        with pytest.raises(AccessRefused):  # the whole 5-level tree under another root makes 6
            orgs.reparent_organisation(chain[0], actor=acme_admin, parent=side)
        assert Organisation.objects.get(pk=chain[0].pk).parent_id is None
        orgs.reparent_organisation(chain[1], actor=acme_admin, parent=side)  # 4 levels under a root: 5
        assert Organisation.objects.get(pk=chain[1].pk).parent_id == side.pk


def test_rights_are_required(acme, acme_admin):
    basic = UserFactory(tenant=acme, email="b@acme.example", role_key=BuiltinRole.BASIC)
    with tenant_scope(acme):
        org = orgs.create_organisation(actor=acme_admin, tenant=acme, name="Initech")
        resource = make_resource(acme, "reports", "R")
        for call in (
            lambda: orgs.create_organisation(actor=basic, tenant=acme, name="Mine"),
            lambda: orgs.rename_organisation(org, actor=basic, name="Mine"),
            lambda: orgs.set_organisation_status(org, actor=basic, status="suspended"),
            lambda: orgs.set_user_organisation(basic, org, actor=basic),
            lambda: orgs.set_resource_organisation(resource, org, actor=basic),
        ):
            with pytest.raises(AccessRefused) as refused:
                call()
            assert refused.value.code == ErrorCode.NOT_ALLOWED
    assert "organisation.renamed" not in events(acme)


def test_other_tenants_objects_are_refused(acme, globex, acme_admin, globex_admin):
    with tenant_scope(globex):
        foreign = orgs.create_organisation(actor=globex_admin, tenant=globex, name="Globex Corp")
    user = UserFactory(tenant=acme, email="b@acme.example", role_key=BuiltinRole.BASIC)
    resource = make_resource(acme, "reports", "R")
    with tenant_scope(acme):
        own = orgs.create_organisation(actor=acme_admin, tenant=acme, name="Initech")
        for call in (
            lambda: orgs.set_user_organisation(user, foreign, actor=acme_admin),
            lambda: orgs.set_resource_organisation(resource, foreign, actor=acme_admin),
            lambda: orgs.reparent_organisation(own, actor=acme_admin, parent=foreign),
            lambda: orgs.rename_organisation(foreign, actor=acme_admin, name="Mine"),
        ):
            with pytest.raises(AccessRefused) as refused:
                call()
            assert refused.value.code == ErrorCode.CROSS_TENANT


def test_user_and_resource_organisation_are_audited(acme, acme_admin):
    user = UserFactory(tenant=acme, email="b@acme.example", role_key=BuiltinRole.BASIC)
    resource = make_resource(acme, "reports", "R")
    with tenant_scope(acme):
        org = orgs.create_organisation(actor=acme_admin, tenant=acme, name="Initech")
        orgs.set_user_organisation(user, org, actor=acme_admin)
        orgs.set_resource_organisation(resource, org, actor=acme_admin)
        orgs.set_user_organisation(user, org, actor=acme_admin)  # no change: no event
    user.refresh_from_db()
    resource.refresh_from_db()
    assert user.organisation_id == org.pk and resource.owner_organisation_id == org.pk
    assert events(acme)[-2:] == ["user.organisation_changed", "resource.organisation_changed"]


def test_an_organisation_in_use_cannot_be_outranked_into(acme, acme_admin):
    """Putting someone in an organisation changes what they see: the actor must outrank them."""
    limited = UserFactory(tenant=acme, email="users-admin@acme.example", role_key=BuiltinRole.ADVANCED)
    from permissions.services import grants

    with tenant_scope(acme):
        from permissions.models import Module

        grants.grant(actor=None, user=limited, module=Module.objects.get(key="users"), actions=["change"], reason="r")
        org = orgs.create_organisation(actor=acme_admin, tenant=acme, name="Initech")
        with pytest.raises(AccessRefused) as refused:
            orgs.set_user_organisation(acme_admin, org, actor=limited)
    assert refused.value.code == ErrorCode.OUTRANKED
