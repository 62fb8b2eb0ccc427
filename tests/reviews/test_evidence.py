"""Evidence and recommendations on a constructed usage history, computed in bulk."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.scoping import tenant_scope
from permissions.models import Resource
from reviews import evidence
from reviews.presenting import reason_text
from tests.factories import UserFactory
from tests.reviews.helpers import age_user, grant_on, make_policy, used

pytestmark = pytest.mark.django_db


def _old(tenant, n):
    people = [UserFactory(tenant=tenant) for _ in range(n)]
    for person in people:
        age_user(person, 300)
    return people


def _collect(tenant, policy):
    with tenant_scope(tenant):
        candidates, _world = evidence.collect(policy, timezone.now())
    return {c.access_key: c for c in candidates}


def test_recommendations_and_their_reasons_on_a_constructed_history(acme, acme_admin):
    people = _old(acme, 10)
    lonely, busy, idle = people[0], people[1], people[2]
    rare = grant_on(acme, lonely, resource_title="Board pack", created_days_ago=150)
    with tenant_scope(acme):
        board_pack = Resource.objects.get(title="Board pack")
    used(acme, lonely, days_ago=120, resource=board_pack)
    common = {p.pk: grant_on(acme, p, "analytics", created_days_ago=150) for p in people[1:]}
    used(acme, busy, "analytics", days_ago=5)
    newcomer = UserFactory(tenant=acme)
    new_grant = grant_on(acme, newcomer, resource_title="Board pack")
    policy = make_policy(acme, fallback=acme_admin, include_roles=False)
    found = _collect(acme, policy)

    revoke = found[f"grant:{rare.pk}"]
    assert revoke.recommendation == "revoke" and revoke.unused and revoke.flagged
    codes = dict(revoke.reasons)
    assert codes["unused"]["days"] == 120 and codes["rare"]["percent"] < 30
    assert revoke.evidence["last_used"] is not None and revoke.evidence["grant_age_days"] == 150
    assert revoke.snapshot["resource"] == "Board pack" and revoke.snapshot["reason"] == "Project work"
    assert "Unused for 120 days." in [reason_text(c, p) for c, p in revoke.reasons]

    keep = found[f"grant:{common[busy.pk].pk}"]
    assert keep.recommendation == "keep" and not keep.flagged
    assert dict(keep.reasons)["used_recently"]["days"] == 5 and dict(keep.reasons)["common"]["percent"] > 70

    # common but never used: unused, yet not rare, so no recommendation either way
    neither = found[f"grant:{common[idle.pk].pk}"]
    assert neither.recommendation == "none" and neither.unused and "never_used" in dict(neither.reasons)

    # a user created inside the window is not flagged as unused
    fresh = found[f"grant:{new_grant.pk}"]
    assert not fresh.unused and "new_user" in dict(fresh.reasons) and fresh.recommendation == "none"


def test_a_deactivated_users_grant_is_recommended_for_revocation(acme, acme_admin):
    from accounts.models import User

    gone = _old(acme, 1)[0]
    grant = grant_on(acme, gone)
    with tenant_scope(acme):
        User.objects.filter(pk=gone.pk).update(is_active=False)
    policy = make_policy(acme, fallback=acme_admin, include_roles=False)
    item = _collect(acme, policy)[f"grant:{grant.pk}"]
    assert item.recommendation == "revoke" and "deactivated" in dict(item.reasons) and item.evidence["deactivated"]


def test_peer_share_for_roles_compares_users_in_the_same_groups(acme, acme_admin):
    from permissions.models import BuiltinRole
    from permissions.services import groups

    team = [UserFactory(tenant=acme, role_key=BuiltinRole.BASIC) for _ in range(4)]
    odd = UserFactory(tenant=acme, role_key=BuiltinRole.ADVANCED)
    with tenant_scope(acme):
        group = groups.create_group(actor=None, tenant=acme, name="Initech")
        for member in [*team, odd]:
            groups.add_member(group, member, actor=None)
    policy = make_policy(acme, fallback=acme_admin, include_grants=False)
    item = _collect(acme, policy)[f"role:{odd.pk}"]
    assert item.evidence["peer_basis"] == "group" and item.evidence["peer_percent"] == 0
    assert "rare" in dict(item.reasons)


def test_evidence_is_read_in_a_constant_number_of_queries(acme, acme_admin):
    policy = make_policy(acme, fallback=acme_admin)

    def count_queries():
        with tenant_scope(acme), CaptureQueriesContext(connection) as queries:
            evidence.collect(policy, timezone.now())
        return len(queries)

    for person in _old(acme, 3):
        grant_on(acme, person)
    small = count_queries()
    for person in _old(acme, 20):
        grant_on(acme, person, "analytics")
        used(acme, person, "analytics", days_ago=3)
    assert count_queries() == small
