"""Property test of issue 13 (INS-1, INS-2): for random tenants, users and rights, no sequence of service
calls by a non-administrator changes a user holding rights the actor lacks, and no sequence leaves the
tenant without an active administrator.

"Changes" is what an insider could do *to* someone: their role, activity, name, MFA factors, and any
right they lose (through their role's matrix, their grants, their groups' grants or their memberships).
Rights *given* to someone stay bounded by the giver's own rights (AZ-6), not by rank, and are allowed."""

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import services as account_services
from accounts.mfa import services as mfa_services
from accounts.mfa.models import TotpDevice
from accounts.models import User
from accounts.scoping import tenant_scope
from api.services import update_user
from permissions import engine
from permissions.models import Grant, Group, Module, PendingChange, Role
from permissions.services import changes, grants, groups, roles
from permissions.services.errors import AccessRefused
from permissions.services.hierarchy import has_active_administrator, is_administrator, lacking, rights_of
from permissions.vocabulary import SYSTEM_ACTIONS, mask_of

MODULES = ["users", "roles", "groups", "grants", "audit", "products", "reports"]
USERS = 5


def applicable(key: str) -> list[str]:
    if key in SYSTEM_ACTIONS:
        return [a.value for a in SYSTEM_ACTIONS[key]]
    return ["view", "create", "change", "delete", "export"]


rights = st.sampled_from(MODULES).flatmap(
    lambda key: st.tuples(st.just(key), st.lists(st.sampled_from(applicable(key)), min_size=1, max_size=3, unique=True))
)
step = st.fixed_dictionaries(
    {
        "actor": st.one_of(st.none(), st.integers(0, USERS - 1)),
        "op": st.sampled_from(
            [
                "change_role",
                "deactivate",
                "reactivate",
                "rename",
                "reset_mfa",
                "remove_member",
                "add_member",
                "revoke",
                "grant",
                "matrix",
                "approve",
            ]
        ),
        "target": st.integers(0, USERS - 1),
        "pick": st.integers(0, 50),
        "rights": rights,
    }
)
world = st.fixed_dictionaries(
    {
        "roles": st.lists(st.sampled_from(["basic", "advanced", "administrator", "custom"]), min_size=4, max_size=4),
        "custom": st.lists(rights, max_size=4),
        "direct": st.lists(st.tuples(st.integers(0, USERS - 1), rights), max_size=5),
        "group_grants": st.lists(st.tuples(st.integers(0, 1), rights), max_size=4),
        "members": st.lists(st.tuples(st.integers(0, 1), st.integers(0, USERS - 1)), max_size=5),
        "inactive": st.lists(st.booleans(), min_size=USERS, max_size=USERS),
        "steps": st.lists(step, min_size=1, max_size=8),
    }
)
_counter = [0]


def build(spec):
    _counter[0] += 1
    tenant = account_services.create_tenant(name=f"Rank {_counter[0]}", slug=f"rank-{_counter[0]}")
    with tenant_scope(tenant):
        mods = {m.key: m for m in Module.objects.all()}
        custom = roles.create_role(actor=None, tenant=tenant, name="Custom")
        matrix = {}
        for key, actions in spec["custom"]:
            matrix[key] = matrix.get(key, 0) | mask_of(actions)
        roles.apply_matrix(custom, matrix, actor=None)
        by_key = {r.key: r for r in Role.objects.all()}
        # user 0 is always an active Administrator: the tenant starts with one
        keys = ["administrator", *spec["roles"]]
        users = [
            account_services.create_user(
                tenant=tenant,
                email=f"u{i}@rank{_counter[0]}.example",
                password=None,
                role=by_key[key],
                is_active=i == 0 or not spec["inactive"][i],
            )
            for i, key in enumerate(keys[:USERS])
        ]
        teams = [groups.create_group(actor=None, tenant=tenant, name=f"G{i}") for i in range(2)]
        for who, (key, actions) in spec["direct"]:
            grants.grant(actor=None, module=mods[key], actions=actions, reason="w", user=users[who])
        for team, (key, actions) in spec["group_grants"]:
            grants.grant(actor=None, module=mods[key], actions=actions, reason="w", group=teams[team])
        for team, who in spec["members"]:
            groups.add_member(teams[team], users[who], actor=None)
        for user in users:
            mfa_services.add_device_with_key(user, b"k" * 20, name="phone")
    return tenant, [u.pk for u in users], mods


def state(user_id):
    user = User.objects.get(pk=user_id)
    devices = TotpDevice.objects.filter(user_id=user_id).count()
    return (user.role_id, user.is_active, user.full_name, devices), rights_of(user)


def lost(before, after) -> bool:
    """Some right of ``before`` is not in ``after``."""
    return bool(lacking(after, before))


def call(spec, tenant, ids, mods):
    """One service call as the step says; a refusal is a valid outcome."""
    actor = User.objects.get(pk=ids[spec["actor"]]) if spec["actor"] is not None else None
    target = User.objects.select_related("role").get(pk=ids[spec["target"]])
    pick, op = spec["pick"], spec["op"]
    key, actions = spec["rights"]
    role_list = list(Role.objects.order_by("pk"))
    teams = list(Group.objects.order_by("pk"))
    try:
        if op == "change_role":
            roles.change_user_role(target, role_list[pick % len(role_list)], actor=actor)
        elif op == "deactivate":
            account_services.deactivate_user(target, actor=actor)
        elif op == "reactivate":
            account_services.reactivate_user(target, actor=actor)
        elif op == "rename" and actor is not None:
            update_user(target, actor=actor, full_name=f"renamed {pick}")
        elif op == "reset_mfa" and actor is not None:
            mfa_services.reset_mfa(target, actor=actor)
        elif op == "remove_member":
            groups.remove_member(teams[pick % 2], target, actor=actor)
        elif op == "add_member":
            groups.add_member(teams[pick % 2], target, actor=actor)
        elif op == "revoke":
            live = list(Grant.objects.filter(revoked_at__isnull=True).order_by("pk"))
            if live:
                grants.revoke(live[pick % len(live)], actor=actor, reason="p")
        elif op == "grant":
            grants.grant(actor=actor, module=mods[key], actions=actions, reason="p", user=target)
        elif op == "matrix":
            custom = Role.objects.get(key="custom")
            roles.set_role_matrix(custom, {key: actions} if pick % 3 else {}, actor=actor)
        elif op == "approve" and actor is not None:
            pending = list(PendingChange.objects.filter(status=PendingChange.Status.PENDING).order_by("pk"))
            if pending:
                changes.approve_change(pending[pick % len(pending)], actor=actor)
    except (AccessRefused, mfa_services.MfaError, ValueError):
        pass


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(spec=world)
def test_ins1_ins2_no_insider_changes_a_stronger_user_and_an_administrator_always_remains(db, spec):
    engine.clear_process_cache()
    with transaction.atomic():
        tenant, ids, mods = build(spec)
        with tenant_scope(tenant):
            assert has_active_administrator(tenant.pk)
            for each in spec["steps"]:
                engine.clear_process_cache()
                actor = User.objects.get(pk=ids[each["actor"]]) if each["actor"] is not None else None
                privileged = actor is None or is_administrator(actor)
                actor_rights = rights_of(actor) if actor is not None else None
                before = {pk: state(pk) for pk in ids}
                call(each, tenant, ids, mods)
                engine.clear_process_cache()
                assert has_active_administrator(tenant.pk), each
                if privileged:
                    continue
                for pk in ids:
                    fields, held = before[pk]
                    if pk == actor.pk or not lacking(actor_rights, held):
                        continue  # not stronger than the actor
                    now_fields, now_held = state(pk)
                    assert now_fields == fields, (each, pk, fields, now_fields)
                    assert not lost(held, now_held), (each, pk, [str(r) for r in lacking(now_held, held)])
        transaction.set_rollback(True)


def test_the_property_sees_a_demotion(db):
    """The property's own check can fail: a stronger user's role change is seen as a change."""
    spec = {"roles": ["administrator"] * 4, "custom": [], "direct": [], "group_grants": [], "members": []}
    spec |= {"inactive": [False] * USERS, "steps": []}
    with transaction.atomic():
        tenant, ids, _ = build(spec)
        with tenant_scope(tenant):
            fields, held = state(ids[1])
            roles.apply_role_change(User.objects.get(pk=ids[1]), Role.objects.get(key="basic"), actor=None)
            now_fields, now_held = state(ids[1])
            assert now_fields != fields and lost(held, now_held)
        transaction.set_rollback(True)
