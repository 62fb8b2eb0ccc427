"""The check API answers what the engine answers (S16 style): 10,000 random (user, action, target) of a
generated tenant, single and batch; explain; visible ids; usage recorded; foreign ids 404."""

import random
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.scoping import tenant_scope
from permissions import engine
from permissions.models import Module, Resource, UsageRecord
from permissions.services import grants, groups, modules
from permissions.vocabulary import BITS, Action
from tests.api.conftest import bearer, issue
from tests.factories import UserFactory, builtin_role
from tests.permissions import brute_force

JSON = "application/json"


@pytest.fixture
def world(acme, acme_admin):
    """A generated tenant: 30 users of mixed roles, 3 groups, 40 resources, user and group grants (some
    expiring, some revoked)."""
    rng = random.Random(9)
    users = [
        UserFactory(tenant=acme, role=builtin_role(acme, rng.choice(["basic", "advanced", "basic"]))) for _ in range(30)
    ]
    users[3].is_active = False
    users[3].save(update_fields=["is_active"])
    with tenant_scope(acme):
        mods = {m.key: m for m in Module.objects.filter(key__in=["products", "reports", "analytics"])}
        items = [
            modules.create_resource(actor=None, module=rng.choice(list(mods.values())), title=f"R{n}")
            for n in range(40)
        ]
        teams = [groups.create_group(actor=None, tenant=acme, name=f"Team {n}") for n in range(3)]
        for user in users:
            if rng.random() < 0.5:
                groups.add_member(rng.choice(teams), user, actor=None)
        for _ in range(60):
            item = rng.choice(items)
            subject = {"user": rng.choice(users)} if rng.random() < 0.7 else {"group": rng.choice(teams)}
            made = grants.grant(
                actor=None,
                module=item.module,
                resource=item if rng.random() < 0.8 else None,
                actions=rng.sample(["view", "change", "delete", "export"], 2),
                reason="generated",
                expires_at=timezone.now() + timedelta(days=1) if rng.random() < 0.2 else None,
                **subject,
            )
            if rng.random() < 0.1:
                grants.revoke(made, actor=None, reason="generated")
    return users + [acme_admin], items, list(mods)


def _sample(world, n, seed):
    users, items, module_keys = world
    rng = random.Random(seed)
    actions = [a.value for a in Action]
    checks = []
    for _ in range(n):
        if rng.random() < 0.6:
            item = rng.choice(items)
            target = {"module": item.module.key, "resource": item.pk}
        else:
            target = {"module": rng.choice(module_keys + ["users", "grants"])}
        checks.append({"subject": rng.choice(users).pk, "action": rng.choice(actions), "target": target})
    return checks


def _target_ids(check, items_by_id, module_ids):
    target = check["target"]
    if "resource" in target:
        item = items_by_id[target["resource"]]
        return item.module_id, item.pk
    return module_ids[target["module"]], None


def test_s16_check_api_equals_the_brute_force_reference_on_10000_random_checks(api_acme, acme, world):
    """Every answer of the check API, from cold caches, equals the brute-force reference computed from the rows
    (no engine, no cache); the engine, cold again, answers the same."""
    checks = _sample(world, 10_000, seed=1)
    engine.clear_process_cache()
    cache.clear()  # the shared versions too: nothing the world's set-up compiled is reused
    answers = []
    for start in range(0, len(checks), 100):
        response = api_acme.post("/api/v1/check/batch", {"checks": checks[start : start + 100]}, content_type=JSON)
        assert response.status_code == 200, response.content
        answers += [row["allowed"] for row in response.json()["results"]]
    users_by_id = {u.pk: u for u in world[0]}
    allowed = brute_force.rule(acme, timezone.now())
    with tenant_scope(acme):
        items_by_id = {r.pk: r for r in Resource.objects.all()}
        module_ids = dict(Module.objects.values_list("key", "pk"))
    expected = [
        allowed(users_by_id[c["subject"]], BITS[c["action"]], *_target_ids(c, items_by_id, module_ids)) for c in checks
    ]
    assert answers == expected
    assert 0.05 < sum(expected) / len(expected) < 0.95  # the sample holds plenty of both answers
    engine.clear_process_cache()
    cache.clear()
    with tenant_scope(acme):
        by_engine = [
            engine.can(
                users_by_id[c["subject"]],
                Action(c["action"]),
                items_by_id[c["target"]["resource"]] if "resource" in c["target"] else c["target"]["module"],
            )
            for c in checks
        ]
    assert by_engine == expected


def test_single_checks_equal_batch_answers(api_acme, acme, world):
    checks = _sample(world, 200, seed=2)
    batch = api_acme.post("/api/v1/check/batch", {"checks": checks[:100]}, content_type=JSON).json()["results"]
    singles = [api_acme.post("/api/v1/check", c, content_type=JSON).json()["allowed"] for c in checks[:100]]
    assert singles == [row["allowed"] for row in batch]


def test_explain_lists_the_paths_and_reasons(api_acme, acme, acme_basic):
    answer = api_acme.post(
        "/api/v1/check?explain=true",
        {"subject": acme_basic.pk, "action": "view", "target": "products"},
        content_type=JSON,
    ).json()
    assert answer["allowed"] is True and answer["paths"][0]["kind"] == "role"
    answer = api_acme.post(
        "/api/v1/check?explain=true",
        {"subject": acme_basic.pk, "action": "delete", "target": "products"},
        content_type=JSON,
    ).json()
    assert answer["allowed"] is False and answer["paths"] == [] and answer["reasons"]


def test_check_records_usage_of_allowed_answers(api_acme, acme, acme_basic):
    from permissions.usage import forget_seen

    forget_seen()
    api_acme.post(
        "/api/v1/check", {"subject": acme_basic.pk, "action": "view", "target": "products"}, content_type=JSON
    )
    with tenant_scope(acme):
        assert UsageRecord.objects.filter(user=acme_basic, action="view", module__key="products").exists()


def test_az1_foreign_subject_or_target_is_404(api_acme, acme, globex, acme_basic):
    stranger = UserFactory(tenant=globex)
    response = api_acme.post(
        "/api/v1/check", {"subject": stranger.pk, "action": "view", "target": "products"}, content_type=JSON
    )
    assert response.status_code == 404 and stranger.email not in response.content.decode()
    with tenant_scope(globex):
        foreign = modules.create_resource(actor=None, module=Module.objects.get(key="reports"), title="Theirs")
    response = api_acme.post(
        "/api/v1/check",
        {"subject": acme_basic.pk, "action": "view", "target": {"module": "reports", "resource": foreign.pk}},
        content_type=JSON,
    )
    assert response.status_code == 404
    batch = api_acme.post(
        "/api/v1/check/batch",
        {"checks": [{"subject": stranger.pk, "action": "view", "target": "products"}]},
        content_type=JSON,
    ).json()
    assert batch["results"] == [{"allowed": False, "error": "not_found"}]
    assert api_acme.get(f"/api/v1/users/{stranger.pk}/visible?module=reports").status_code == 404


def test_batch_limits_and_field_errors(api_acme, acme_basic):
    one = {"subject": acme_basic.pk, "action": "view", "target": "products"}
    assert api_acme.post("/api/v1/check/batch", {"checks": [one] * 101}, content_type=JSON).status_code == 400
    response = api_acme.post("/api/v1/check/batch", {"checks": [one, {**one, "action": "fly"}]}, content_type=JSON)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "checks[1].action"


def test_check_needs_grants_view_in_the_key(acme, acme_admin, acme_basic):
    _key, token = issue(acme_admin, scopes={"users": ["view"]})
    response = bearer(token).post(
        "/api/v1/check", {"subject": acme_basic.pk, "action": "view", "target": "products"}, content_type=JSON
    )
    assert response.status_code == 403


def test_az5_check_sees_a_revocation_on_the_next_request(api_acme, acme, acme_admin, acme_basic):
    with tenant_scope(acme):
        made = grants.grant(
            actor=acme_admin, module=Module.objects.get(key="reports"), actions=["export"], reason="r", user=acme_basic
        )
    body = {"subject": acme_basic.pk, "action": "export", "target": "reports"}
    assert api_acme.post("/api/v1/check", body, content_type=JSON).json() == {"allowed": True}
    with tenant_scope(acme):
        grants.revoke(made, actor=acme_admin, reason="done")
    assert api_acme.post("/api/v1/check", body, content_type=JSON).json() == {"allowed": False}


def test_visible_ids_equal_engine_visible_and_paginate(api_acme, acme, world):
    users, items, _keys = world
    subject = users[0]
    with tenant_scope(acme):
        expected = list(
            engine.visible(subject, Action.VIEW, Resource.objects.filter(module__key="reports"))
            .order_by("id")
            .values_list("id", flat=True)
        )
    got, url = [], f"/api/v1/users/{subject.pk}/visible?module=reports&action=view&limit=3"
    while url:
        body = api_acme.get(url).json()
        got += body["results"]
        url = body["next"]
    assert got == expected


def _allowed(client, subject, action="view", target="products"):
    response = client.post("/api/v1/check", {"subject": subject, "action": action, "target": target}, content_type=JSON)
    return response.json().get("allowed") if response.status_code == 200 else response.status_code


def test_a_deactivated_subject_is_refused_on_the_next_check(api_acme, acme, acme_admin, acme_basic):
    """Subjects are remembered per authorization version; deactivating bumps it: refused at once."""
    from accounts.services import deactivate_user

    assert _allowed(api_acme, acme_basic.pk) is True
    with tenant_scope(acme):
        deactivate_user(acme_basic, actor=acme_admin)
    assert _allowed(api_acme, acme_basic.pk) is False


def test_a_remembered_subject_costs_no_query_until_the_version_changes(api_acme, acme_basic):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    assert _allowed(api_acme, acme_basic.pk) is True
    with CaptureQueriesContext(connection) as captured:
        assert _allowed(api_acme, acme_basic.pk) is True
    assert not any(User._meta.db_table in q["sql"] for q in captured.captured_queries)
    user = User.objects.dangerously_all_tenants().get(pk=acme_basic.pk)
    user.full_name = "Renamed"  # not a matter of authorization: nothing is forgotten
    user.last_login = timezone.now()
    user.save(update_fields=["full_name", "last_login"])
    with CaptureQueriesContext(connection) as captured:
        assert _allowed(api_acme, acme_basic.pk) is True
    assert not any(User._meta.db_table in q["sql"] for q in captured.captured_queries)


def test_every_way_of_changing_a_subjects_role_or_activity_is_seen_at_once(api_acme, acme, acme_admin):
    """A role change by the service, and (for code that bypasses save()) a queryset update, a bulk update
    and a deletion: each bumps the tenant's version, so no remembered subject outlives it."""
    from accounts.models import User
    from permissions.services.roles import apply_role_change

    advanced = UserFactory(tenant=acme, role=builtin_role(acme, "advanced"))
    assert _allowed(api_acme, advanced.pk, "export", "reports") is True
    with tenant_scope(acme):
        apply_role_change(advanced, builtin_role(acme, "basic"), actor=None)
    assert _allowed(api_acme, advanced.pk, "export", "reports") is False

    with tenant_scope(acme):
        User.objects.filter(pk=advanced.pk).update(role=builtin_role(acme, "advanced"))
    assert _allowed(api_acme, advanced.pk, "export", "reports") is True

    with tenant_scope(acme):
        row = User.objects.get(pk=advanced.pk)
        row.is_active = False
        User.objects.bulk_update([row], ["is_active"])
    assert _allowed(api_acme, advanced.pk, "export", "reports") is False

    with tenant_scope(acme):
        User.objects.filter(pk=advanced.pk).update(is_active=True)
    assert _allowed(api_acme, advanced.pk, "export", "reports") is True
    with tenant_scope(acme):
        User.objects.filter(pk=advanced.pk).delete()
    assert _allowed(api_acme, advanced.pk, "export", "reports") == 404


def test_ids_beyond_the_database_range_are_refused_not_crashing(api_acme, acme_basic):
    """Found by schemathesis: an id of 25 digits overflowed the database driver (a 500)."""
    body = {"subject": 10**25, "action": "view", "target": "products"}
    assert api_acme.post("/api/v1/check", body, content_type=JSON).status_code == 400
    target = {"module": "reports", "resource": 10**25}
    body = {"subject": acme_basic.pk, "action": "view", "target": target}
    assert api_acme.post("/api/v1/check", body, content_type=JSON).status_code == 400
    assert api_acme.get(f"/api/v1/users/{10**25}").status_code == 404
    assert api_acme.get(f"/api/v1/users/{10**25}/visible?module=reports").status_code == 404
    assert api_acme.get(f"/api/v1/grants?user={10**25}").status_code == 400  # refused, not silently ignored


def test_only_changes_that_matter_bump_the_version(acme, acme_basic):
    """A new user or a renamed one leaves every process's remembered sets alone; a deactivation does not."""
    from accounts.models import User
    from permissions.versioning import current_version

    start = current_version(acme.pk)
    UserFactory(tenant=acme)
    with tenant_scope(acme):
        user = User.objects.get(pk=acme_basic.pk)
        user.full_name = "Renamed"
        user.save()
        assert current_version(acme.pk) == start
        user.is_active = False
        user.save()
    assert current_version(acme.pk) != start


@pytest.mark.parametrize(
    "target",
    [{"module": {"a": 1}, "resource": 1}, {"module": ["reports"], "resource": 1}, {"module": None, "resource": 1}],
)
def test_a_batch_with_a_malformed_target_is_a_400_not_a_500(api_acme, acme_basic, target):
    response = api_acme.post(
        "/api/v1/check/batch",
        {"checks": [{"subject": acme_basic.pk, "action": "view", "target": target}]},
        content_type=JSON,
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")


def test_the_check_api_answers_sharing_rules_from_the_targets_it_loaded(
    api_acme, acme, acme_admin, django_assert_max_num_queries
):
    """A resource named by the check API is loaded with its owner organisation and attributes, so a sharing
    rule (own records; a criterion on an attribute) is answered like the engine does, without reading the
    row again per check."""
    from permissions.models import SharingRule
    from permissions.services import organisations as orgs
    from permissions.services import sharing_rules as rules
    from tests.permissions.conftest import make_resource

    with tenant_scope(acme):
        initech = orgs.create_organisation(actor=acme_admin, tenant=acme, name="Initech")
        umbrella = orgs.create_organisation(actor=acme_admin, tenant=acme, name="Umbrella")
    peter = UserFactory(tenant=acme, role=builtin_role(acme, "basic"))
    with tenant_scope(acme):
        orgs.set_user_organisation(peter, initech, actor=acme_admin)
    own = make_resource(acme, "reports", "Initech · TPS", region="west")
    other = make_resource(acme, "reports", "Umbrella · Antidote", region="west")
    eastern = make_resource(acme, "reports", "Unowned east", region="east")
    with tenant_scope(acme):
        orgs.set_resource_organisation(own, initech, actor=acme_admin)
        orgs.set_resource_organisation(other, umbrella, actor=acme_admin)
        reports = Module.objects.get(key="reports")
        for kind, extra in (
            (SharingRule.Kind.OWN, {}),
            (
                SharingRule.Kind.CRITERIA,
                {"organisation": initech, "attribute_key": "region", "attribute_value": "east"},
            ),
        ):
            rules.create_rule(
                rules.build_rule(
                    tenant=acme, name=f"rule {kind}", kind=kind, module=reports, actions=["view"], reason="t", **extra
                ),
                actor=acme_admin,
            )

    def ask(resource):
        body = {"subject": peter.pk, "action": "view", "target": {"module": "reports", "resource": resource.pk}}
        return api_acme.post("/api/v1/check", body, content_type=JSON).json()["allowed"]

    assert [ask(own), ask(other), ask(eastern)] == [True, False, True]
    with django_assert_max_num_queries(3):  # warm: the version row of each request, no resource read again
        assert [ask(own), ask(other), ask(eastern)] == [True, False, True]
