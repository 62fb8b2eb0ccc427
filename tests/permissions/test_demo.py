"""The demo seed fills permissions once and explains what it gives."""

from accounts import demo
from accounts.scoping import tenant_scope
from permissions import engine
from permissions.engine import PathKind
from permissions.models import Grant, Group, Resource
from permissions.vocabulary import Action


def test_demo_seed_is_idempotent_and_explainable(db):
    acme, _globex = demo.seed()
    demo.seed()
    with tenant_scope(acme):
        # 36 demo records, 12 owned by the demo organisations, and the organisations' own 2 rows.
        assert Resource.objects.filter(owner_organisation=None, organisation=None).count() == 36
        assert Resource.objects.exclude(owner_organisation=None).count() == 12
        # The permissions demo's own grants: approved demo access requests (provenance "request") and the
        # reviews demo's system-made grants (no granter) come on top of these four.
        assert Group.objects.count() == 2
        assert Grant.objects.filter(provenance="manual").exclude(granted_by=None).count() == 4
        basic1 = acme.users.get(email="basic1@acme.example")
        report = Resource.objects.get(external_id="R-003")
        revenue = Resource.objects.get(external_id="R-001")
        [path] = engine.explain(basic1, Action.VIEW, report).paths
        assert path.kind == PathKind.GROUP_RESOURCE_GRANT and path.group_name == "Initech"
        assert not engine.can(basic1, Action.VIEW, revenue)
        basic7 = acme.users.get(email="basic7@acme.example")
        assert engine.can(basic7, Action.EXPORT, "products") and engine.module_actions(basic7, "products") == [
            Action.VIEW,
            Action.EXPORT,
        ]


def test_demo_organisations_see_their_own_records_and_administer_their_people(db):
    from accounts.models import Organisation
    from permissions.services import delegated

    acme, globex = demo.seed()
    with tenant_scope(acme):
        initech, umbrella = Organisation.objects.get(name="Initech"), Organisation.objects.get(name="Umbrella")
        basic1 = acme.users.get(email="basic1@acme.example")
        titles = set(
            Resource.objects.restrict(basic1, Action.VIEW).filter(module__key="reports").values_list("title", flat=True)
        )
        assert {t for t in titles if "·" in t} == {
            "Initech · Quarterly review",
            "Initech · Open tickets",
            "Initech · Usage summary",
        }
        explanation = engine.explain(basic1, Action.VIEW, Resource.objects.get(external_id="INI-R1"))
        assert "because you work for Initech" in explanation.paths[0].text
        assert not engine.can(basic1, Action.VIEW, Resource.objects.get(external_id="UMB-R1"))
        advanced1 = acme.users.get(email="advanced1@acme.example")
        advanced2 = acme.users.get(email="advanced2@acme.example")
        assert list(delegated.managed_organisations(advanced1)) == [initech]
        assert list(delegated.managed_organisations(advanced2)) == [umbrella]
        assert initech.members.count() == 6 and umbrella.members.count() == 6
    with tenant_scope(globex):
        assert set(Organisation.objects.values_list("name", flat=True)) == {"Hooli", "Vandelay"}
