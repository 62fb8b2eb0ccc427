"""Sharing rules in the one engine: can, explain, visible (restrict) and holders honour own-records,
partner and criteria rules; organisation status, hierarchy and expiry; audited services and denials."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from permissions import engine
from permissions.models import BuiltinRole, Resource, Role, SharingRule
from permissions.services import organisations as orgs
from permissions.services import sharing_rules as rules
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.services.preview import preview_rule
from tests.factories import UserFactory
from tests.permissions.conftest import make_resource, module


@pytest.fixture
def world(acme, acme_admin):
    """Initech (with a subsidiary, Initech East) and Umbrella; a member of each; records of each."""
    with tenant_scope(acme):
        initech = orgs.create_organisation(actor=acme_admin, tenant=acme, name="Initech", external_id="INI")
        east = orgs.create_organisation(actor=acme_admin, tenant=acme, name="Initech East", parent=initech)
        umbrella = orgs.create_organisation(actor=acme_admin, tenant=acme, name="Umbrella")
    people = {}
    for name, org in [("peter", initech), ("sam", east), ("alice", umbrella), ("nobody", None)]:
        user = UserFactory(tenant=acme, email=f"{name}@acme.example", role_key=BuiltinRole.BASIC)
        if org:
            with tenant_scope(acme):
                orgs.set_user_organisation(user, org, actor=acme_admin)
            user.refresh_from_db()
        people[name] = user
    records = {}
    for title, org, region in [
        ("Initech · TPS", initech, "east"),
        ("Initech East · Stapler", east, "west"),
        ("Umbrella · Antidote", umbrella, "east"),
        ("Unowned", None, "east"),
    ]:
        resource = make_resource(acme, "reports", title, region=region)
        if org:
            with tenant_scope(acme):
                orgs.set_resource_organisation(resource, org, actor=acme_admin)
            resource.refresh_from_db()
        records[title] = resource
    return {"initech": initech, "east": east, "umbrella": umbrella, "people": people, "records": records}


def add_rule(acme, admin, **kwargs):
    with tenant_scope(acme):
        kwargs.setdefault("module", module(acme, "reports"))
        kwargs.setdefault("actions", ["view"])
        kwargs.setdefault("reason", "customers see their own reports")
        return rules.create_rule(rules.build_rule(tenant=acme, **kwargs), actor=admin)


def visible_titles(acme, user, action="view"):
    with tenant_scope(acme):
        return set(Resource.objects.restrict(user, action).values_list("title", flat=True))


def test_own_records_rule_gives_members_their_organisations_records_only(acme, acme_admin, world):
    peter, alice, nobody = (world["people"][n] for n in ("peter", "alice", "nobody"))
    records = world["records"]
    assert not engine.can(peter, "view", records["Initech · TPS"])
    add_rule(acme, acme_admin, name="Own reports", kind=SharingRule.Kind.OWN)
    assert engine.can(peter, "view", records["Initech · TPS"])
    assert not engine.can(peter, "view", records["Initech East · Stapler"])  # children not included
    assert not engine.can(peter, "view", records["Umbrella · Antidote"])
    assert not engine.can(peter, "change", records["Initech · TPS"])  # only the rule's actions
    assert not engine.can(peter, "view", "reports")  # a rule never gives the whole module
    assert visible_titles(acme, peter) == {"Initech · TPS"}
    assert visible_titles(acme, alice) == {"Umbrella · Antidote"}
    assert visible_titles(acme, nobody) == set()
    explanation = engine.explain(peter, "view", records["Initech · TPS"])
    assert explanation.allowed and "because you work for Initech" in explanation.paths[0].text
    assert "Own reports" in explanation.paths[0].text
    with tenant_scope(acme):
        who = {h.user.email for h in engine.holders("view", records["Initech · TPS"])}
    assert "peter@acme.example" in who and "alice@acme.example" not in who and "sam@acme.example" not in who


def test_include_children_reaches_subsidiaries_records_not_parents(acme, acme_admin, world):
    peter, sam = world["people"]["peter"], world["people"]["sam"]
    add_rule(acme, acme_admin, name="Own and below", kind=SharingRule.Kind.OWN, include_children=True)
    assert visible_titles(acme, peter) == {"Initech · TPS", "Initech East · Stapler"}
    assert visible_titles(acme, sam) == {"Initech East · Stapler"}
    with tenant_scope(acme):
        who = {h.user.email for h in engine.holders("view", world["records"]["Initech East · Stapler"])}
    assert {"peter@acme.example", "sam@acme.example"} <= who


def test_suspended_organisation_members_lose_rule_access_at_once(acme, acme_admin, world):
    peter = world["people"]["peter"]
    add_rule(acme, acme_admin, name="Own reports", kind=SharingRule.Kind.OWN)
    record = world["records"]["Initech · TPS"]
    assert engine.can(peter, "view", record)  # warm the process cache
    with tenant_scope(acme):
        orgs.set_organisation_status(world["initech"], actor=acme_admin, status="suspended", reason="unpaid")
    assert not engine.can(peter, "view", record)
    assert visible_titles(acme, peter) == set()
    with tenant_scope(acme):
        assert "peter@acme.example" not in {h.user.email for h in engine.holders("view", record)}


def test_partner_rule(acme, acme_admin, world):
    alice, peter = world["people"]["alice"], world["people"]["peter"]
    add_rule(
        acme,
        acme_admin,
        name="Umbrella audits Initech",
        kind=SharingRule.Kind.PARTNER,
        organisation=world["umbrella"],
        target_organisation=world["initech"],
    )
    assert visible_titles(acme, alice) == {"Initech · TPS"}
    assert visible_titles(acme, peter) == set()  # one way only
    assert (
        "because you work for Umbrella"
        in engine.explain(alice, "view", world["records"]["Initech · TPS"]).paths[0].text
    )


def test_criteria_rule_by_role_and_by_organisation(acme, acme_admin, world):
    with tenant_scope(acme):
        basic = Role.objects.get(key=BuiltinRole.BASIC)
    add_rule(
        acme,
        acme_admin,
        name="East for basics",
        kind="criteria",
        role=basic,
        attribute_key="region",
        attribute_value="east",
    )
    nobody = world["people"]["nobody"]
    assert visible_titles(acme, nobody) == {"Initech · TPS", "Umbrella · Antidote", "Unowned"}
    assert engine.can(nobody, "view", world["records"]["Unowned"])
    assert not engine.can(nobody, "view", world["records"]["Initech East · Stapler"])
    add_rule(
        acme,
        acme_admin,
        name="West for Umbrella",
        kind="criteria",
        organisation=world["umbrella"],
        attribute_key="region",
        attribute_value="west",
        actions=["export"],
    )
    assert visible_titles(acme, world["people"]["alice"], "export") == {"Initech East · Stapler"}
    assert visible_titles(acme, nobody, "export") == set()


def test_rule_expiry_is_honoured_by_a_warm_cache(acme, acme_admin, world):
    peter, record = world["people"]["peter"], world["records"]["Initech · TPS"]
    now = timezone.now()
    add_rule(acme, acme_admin, name="Briefly", kind="own", expires_at=now + timedelta(hours=1))
    assert engine.can(peter, "view", record)
    with time_machine.travel(now + timedelta(hours=2)):
        assert not engine.can(peter, "view", record)
        assert visible_titles(acme, peter) == set()
        assert not engine.explain(peter, "view", record).allowed


def test_deleting_a_rule_removes_access_and_is_audited(acme, acme_admin, world):
    peter, record = world["people"]["peter"], world["records"]["Initech · TPS"]
    rule = add_rule(acme, acme_admin, name="Own reports", kind="own")
    assert engine.can(peter, "view", record)
    with tenant_scope(acme):
        impact = preview_rule(rule, deleting=True)
        assert peter in impact.lost and world["people"]["alice"] in impact.lost
        rules.delete_rule(rule, actor=acme_admin, reason="contract ended")
        types = list(AuditEvent.objects.filter(tenant=acme).values_list("event_type", flat=True))
    assert not engine.can(peter, "view", record)
    assert "sharing_rule.created" in types and "sharing_rule.deleted" in types


def test_preview_names_who_gains(acme, acme_admin, world):
    with tenant_scope(acme):
        rule = rules.build_rule(
            tenant=acme, name="Own", kind="own", module=module(acme, "reports"), actions=["view"], reason="r"
        )
        impact = preview_rule(rule)
    gained = {u.email: [str(c) for c in changes] for u, changes in impact.gained.items()}
    assert set(gained) == {"peter@acme.example", "sam@acme.example", "alice@acme.example"}
    assert "1 record" in gained["peter@acme.example"][0]
    assert not impact.lost


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"kind": "own", "attribute_key": "region"}, ErrorCode.INVALID),
        ({"kind": "partner"}, ErrorCode.INVALID),
        ({"kind": "criteria", "attribute_key": "revenue", "attribute_value": "1"}, ErrorCode.INVALID),  # sensitive
        ({"kind": "criteria", "attribute_key": "region__contains", "attribute_value": "e"}, ErrorCode.INVALID),
        ({"kind": "own", "actions": ["approve"]}, ErrorCode.INVALID),
        ({"kind": "own", "reason": ""}, ErrorCode.INVALID),
        ({"kind": "own", "expires_at": "past"}, ErrorCode.INVALID),
        ({"kind": "own", "module": "users"}, ErrorCode.INVALID),
    ],
)
def test_bad_rules_are_refused_and_nothing_saved(acme, acme_admin, world, kwargs, code):
    kwargs = dict(kwargs)
    if kwargs.get("kind") == "criteria":
        kwargs["organisation"] = world["initech"]
    if kwargs.get("expires_at") == "past":
        kwargs["expires_at"] = timezone.now() - timedelta(minutes=1)
    if kwargs.get("module") == "users":
        kwargs["module"] = module(acme, "users")
    with pytest.raises(AccessRefused) as refused:
        add_rule(acme, acme_admin, name="Bad", **kwargs)
    assert refused.value.code == code
    with tenant_scope(acme):
        assert not SharingRule.objects.exists()


def test_only_holders_of_grants_create_may_add_rules(acme, world):
    advanced = UserFactory(tenant=acme, email="adv@acme.example", role_key=BuiltinRole.ADVANCED)
    with pytest.raises(AccessRefused) as refused:
        add_rule(acme, advanced, name="Mine", kind="own")
    assert refused.value.code == ErrorCode.NOT_ALLOWED


def test_rules_of_another_tenant_give_nothing(acme, globex, acme_admin, globex_admin, world):
    with tenant_scope(globex):
        with pytest.raises(AccessRefused) as refused:
            rules.build_rule(
                tenant=globex,
                name="x",
                kind="partner",
                module=module(globex, "reports"),
                actions=["view"],
                reason="r",
                organisation=world["initech"],
                target_organisation=world["umbrella"],
            )
    assert refused.value.code == ErrorCode.CROSS_TENANT
    add_rule(globex, globex_admin, name="Globex own", kind="own", module=module(globex, "reports"))
    assert visible_titles(acme, world["people"]["peter"]) == set()
