"""Property tests (S16): on randomised tenants, can, explain, visible and holders agree with each other and
with a brute-force reference computed from the rows, expiry and group paths included (AZ-5)."""

from datetime import UTC, datetime, timedelta

import time_machine
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import services as account_services
from accounts.scoping import tenant_scope
from permissions import engine, planner
from permissions.models import Grant, GroupMembership, Module, Resource, Role
from permissions.services import grants, groups, modules, roles
from permissions.versioning import request_versions
from permissions.vocabulary import BITS, Action
from tests.permissions import brute_force

T0 = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
ACTIONS = [Action.VIEW, Action.EXPORT, Action.CHANGE]
MODULE_KEYS = ["products", "reports"]

grant_spec = st.fixed_dictionaries(
    {
        "to_group": st.booleans(),
        "who": st.integers(0, 3),
        "module": st.sampled_from(MODULE_KEYS),
        "resource": st.one_of(st.none(), st.integers(0, 3)),
        "actions": st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=2, unique=True),
        "expires_in": st.one_of(st.none(), st.integers(1, 5)),
        "revoked": st.booleans(),
    }
)
world = st.fixed_dictionaries(
    {
        "roles": st.lists(st.sampled_from(["basic", "advanced", "custom"]), min_size=3, max_size=4),
        "inactive": st.lists(st.booleans(), min_size=4, max_size=4),
        "custom_matrix": st.dictionaries(
            st.sampled_from(MODULE_KEYS), st.lists(st.sampled_from(ACTIONS), max_size=2, unique=True)
        ),
        "memberships": st.lists(st.tuples(st.integers(0, 1), st.integers(0, 3)), max_size=5),
        "resources": st.lists(st.sampled_from(MODULE_KEYS), min_size=1, max_size=4),
        "grants": st.lists(grant_spec, max_size=7),
        "checks_at": st.lists(st.integers(0, 6), min_size=1, max_size=3),
        "mutation": st.sampled_from(["none", "revoke", "remove_member", "change_role", "matrix", "add_member"]),
        "pick": st.integers(0, 20),
    }
)


def build(spec, n):
    tenant = account_services.create_tenant(name=f"Prop {n}", slug=f"prop-{n}")
    with tenant_scope(tenant):
        mods = {m.key: m for m in Module.objects.all()}
        custom = roles.create_role(actor=None, tenant=tenant, name="Custom")
        roles.apply_matrix(custom, roles.normalise_matrix(spec["custom_matrix"]), actor=None)
        by_key = {r.key: r for r in Role.objects.all()}
        users = []
        for i, role_key in enumerate(spec["roles"]):
            user = account_services.create_user(
                tenant=tenant, email=f"u{i}@prop{n}.example", password=None, role=by_key[role_key]
            )
            if spec["inactive"][i]:
                account_services.deactivate_user(user, actor=None)
            users.append(user)
        teams = [groups.create_group(actor=None, tenant=tenant, name=f"G{i}") for i in range(2)]
        for group_index, user_index in spec["memberships"]:
            if user_index < len(users):
                groups.add_member(teams[group_index], users[user_index], actor=None)
        resources = [
            modules.create_resource(actor=None, module=mods[key], title=f"R{i}")
            for i, key in enumerate(spec["resources"])
        ]
        for g in spec["grants"]:
            module = mods[g["module"]]
            candidates = [r for r in resources if r.module_id == module.pk]
            resource = candidates[g["resource"] % len(candidates)] if g["resource"] is not None and candidates else None
            subject = {"group": teams[g["who"] % 2]} if g["to_group"] else {"user": users[g["who"] % len(users)]}
            expires = T0 + timedelta(seconds=g["expires_in"]) if g["expires_in"] else None
            made = grants.grant(
                actor=None,
                module=module,
                resource=resource,
                actions=g["actions"],
                reason="p",
                expires_at=expires,
                **subject,
            )
            if g["revoked"]:
                grants.revoke(made, actor=None, reason="p")
    return tenant, users, list(mods.values()), resources


def reference(tenant, now):
    """Brute force from the rows: {(user id, action, ("m"|"r", id)): bool}."""
    allowed = brute_force.rule(tenant, now)
    with tenant_scope(tenant):
        users = list(get_user_model().objects.all())
        modules_ = list(Module.objects.filter(key__in=MODULE_KEYS))
        resources = list(Resource.objects.all())

    answers = {}
    for user in users:
        for action in ACTIONS:
            bit = BITS[action]
            for m in modules_:
                answers[(user.pk, action, ("m", m.pk))] = allowed(user, bit, m.pk, None)
            for r in resources:
                answers[(user.pk, action, ("r", r.pk))] = allowed(user, bit, r.module_id, r.pk)
    return users, modules_, resources, answers


_counter = [0]


def mutate(tenant, kind, pick):
    """One random change through the services (as the system)."""
    with tenant_scope(tenant):
        users = list(get_user_model().objects.order_by("id"))
        if kind == "revoke":
            live = list(Grant.objects.filter(revoked_at__isnull=True).order_by("id"))
            if live:
                grants.revoke(live[pick % len(live)], actor=None, reason="p")
        elif kind == "remove_member":
            members = list(GroupMembership.objects.select_related("group", "user").order_by("id"))
            if members:
                m = members[pick % len(members)]
                groups.remove_member(m.group, m.user, actor=None)
        elif kind == "add_member":
            from permissions.models import Group

            group = Group.objects.order_by("pk")[pick % 2]
            user = users[pick % len(users)]
            if not GroupMembership.objects.filter(group=group, user=user).exists():
                groups.add_member(group, user, actor=None)
        elif kind == "change_role":
            user = users[pick % len(users)]
            role = Role.objects.order_by("id")[pick % Role.objects.count()]
            if role.key != "administrator":
                roles.apply_role_change(user, role, actor=None)
        elif kind == "matrix":
            custom = Role.objects.get(key="custom")
            roles.apply_matrix(custom, {MODULE_KEYS[pick % 2]: BITS[ACTIONS[pick % 3]]}, actor=None)


def check_all(tenant, now):
    """can, explain, visible (both plans, with and without a module filter) and holders against the reference."""
    with time_machine.travel(now, tick=False):
        users, modules_, resources, answers = reference(tenant, now)
        targets = {("m", m.pk): m for m in modules_} | {("r", r.pk): r for r in resources}
        for user in users:
            for action in ACTIONS:
                with tenant_scope(tenant):
                    seen = set(engine.visible(user, action, Resource.objects.all()).values_list("pk", flat=True))
                    planner.DENSE_AT = 0  # the other plan must give the same rows
                    try:
                        dense = set(engine.visible(user, action, Resource.objects.all()).values_list("pk", flat=True))
                    finally:
                        planner.DENSE_AT = 2_000
                    assert dense == seen, ("dense plan", user, action)
                    for module in modules_:
                        in_module = Resource.objects.filter(module=module)
                        got = set(engine.visible(user, action, in_module).values_list("pk", flat=True))
                        assert got == seen & {r.pk for r in resources if r.module_id == module.pk}
                for key, target in targets.items():
                    expected = answers[(user.pk, action, key)]
                    assert engine.can(user, action, target) is expected, (user, action, key, now)
                    explanation = engine.explain(user, action, target)
                    assert explanation.allowed is expected and bool(explanation.paths) is expected
                    if key[0] == "r":
                        assert (target.pk in seen) is expected, ("visible", user, action, key)
        for action in ACTIONS:
            for key, target in targets.items():
                who = {h.user.pk for h in engine.holders(action, target)}
                assert who == {u.pk for u in users if answers[(u.pk, action, key)]}, ("holders", action, key)
        # The batch loader (a page of requesters, one query) gives every user the same answers, and no
        # check after it asks the database again.
        engine.clear_process_cache()
        with tenant_scope(tenant), request_versions():  # one request: the version row is read once
            engine.prefetch_many(users, resources)
            with CaptureQueriesContext(connection) as captured:
                for user in users:
                    for action in ACTIONS:
                        for key, target in targets.items():
                            expected = answers[(user.pk, action, key)]
                            assert engine.can(user, action, target) is expected, ("batch", user, action, key)
            assert not captured.captured_queries, captured.captured_queries


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(spec=world)
def test_s16_can_explain_visible_and_holders_agree_with_brute_force(db, spec):
    _counter[0] += 1
    engine.clear_process_cache()
    with transaction.atomic():
        with time_machine.travel(T0, tick=False):
            tenant, *_ = build(spec, _counter[0])
        # Checks at increasing instants in one process: cached sets must not outlive an expiry.
        offsets = sorted(spec["checks_at"])
        for offset in offsets:
            check_all(tenant, T0 + timedelta(seconds=offset))
        # A change through a service, then the same process (warm cache) must see it at once.
        now = T0 + timedelta(seconds=offsets[-1])
        with time_machine.travel(now, tick=False):
            mutate(tenant, spec["mutation"], spec["pick"])
        check_all(tenant, now)
        transaction.set_rollback(True)
