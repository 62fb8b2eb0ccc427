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
        assert Resource.objects.count() == 36
        # Grants from approved demo access requests (accessrequests.demo) come on top of these four.
        assert Group.objects.count() == 2 and Grant.objects.filter(provenance="manual").count() == 4
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
