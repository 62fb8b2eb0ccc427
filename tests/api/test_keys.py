"""API keys: stored hashed, shown once, scoped (no escalation), expiring, revocable at once, audited."""

import time
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from accounts.scoping import tenant_scope
from api import keys
from api.models import ApiKey
from audit.models import AuditEvent
from permissions.services.errors import AccessRefused, ErrorCode
from tests.api.conftest import bearer, issue


def test_secret_is_stored_as_a_sha256_only(acme_admin):
    key, token = issue(acme_admin, scopes={"users": ["view"]})
    secret = token.split("_", 3)[3]
    assert len(secret) >= 43  # 32 bytes from secrets, URL-safe
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM api_apikey")
        raw = repr(cursor.fetchall())
    assert secret not in raw and token not in raw
    assert key.prefix in raw


def test_key_creation_and_revocation_are_audited_without_the_secret(acme, acme_admin):
    key, token = issue(acme_admin, scopes={"users": ["view"]})
    with tenant_scope(acme):
        keys.revoke_key(key, actor=acme_admin, reason="rotated")
        events = list(AuditEvent.objects.filter(event_type__startswith="api_key.").order_by("seq"))
    assert [e.event_type for e in events] == ["api_key.created", "api_key.revoked"]
    assert token.split("_", 3)[3] not in "".join(e.canonical for e in events)


def test_az6_a_key_cannot_carry_more_than_its_creator_holds(acme, acme_admin, acme_basic):
    with tenant_scope(acme), pytest.raises(AccessRefused) as refused:
        keys.create_key(actor=acme_basic, name="mine", scopes={"products": ["view"]})
    assert refused.value.code == ErrorCode.NOT_ALLOWED  # settings: change is needed to make keys
    from permissions.services.modules import create_module

    with tenant_scope(acme):
        create_module(actor=acme_admin, tenant=acme, name="Ledgers", actions=["view"])
        with pytest.raises(AccessRefused) as refused:
            keys.create_key(actor=acme_admin, name="too much", scopes={"ledgers": ["view", "delete"]})
    assert refused.value.code == ErrorCode.OUT_OF_SCOPE


def test_az5_revoked_key_is_refused_on_the_next_request(acme, acme_admin):
    key, token = issue(acme_admin, scopes={"users": ["view"]})
    client = bearer(token)
    assert client.get("/api/v1/users").status_code == 200
    with tenant_scope(acme):
        keys.revoke_key(key, actor=acme_admin)
    response = client.get("/api/v1/users")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_expired_key_is_refused(acme_admin):
    _key, token = issue(acme_admin, scopes={"users": ["view"]}, expires_at=timezone.now() + timedelta(hours=1))
    client = bearer(token)
    assert client.get("/api/v1/users").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=1)):
        keys.forget_verified()
        assert client.get("/api/v1/users").status_code == 401


@pytest.mark.parametrize(
    "token",
    ["", "pck_1_abc", "pck_x_0123456789ab_secret", "Basic abc", "pck_1_0123456789ab_" + "A" * 43],
)
def test_malformed_or_unknown_tokens_are_401(db, token):
    response = bearer(token).get("/api/v1/users")
    assert response.status_code == 401


def test_a_token_names_its_tenant_and_cannot_be_moved_to_another(acme_admin, globex):
    """Changing the tenant id of a token finds no key: the prefix is looked up within that tenant only."""
    _key, token = issue(acme_admin, scopes={"users": ["view"]})
    _p, _tenant, prefix, secret = token.split("_", 3)
    forged = f"pck_{globex.pk}_{prefix}_{secret}"
    assert bearer(forged).get("/api/v1/users").status_code == 401


def test_last_used_is_written_at_most_once_a_minute(acme, acme_admin):
    key, token = issue(acme_admin, scopes={"users": ["view"]})
    client = bearer(token)
    client.get("/api/v1/users")
    with tenant_scope(acme):
        first = ApiKey.objects.get(pk=key.pk).last_used_at
    assert first is not None
    client.get("/api/v1/users")
    with tenant_scope(acme):
        assert ApiKey.objects.get(pk=key.pk).last_used_at == first


def test_deactivated_owner_makes_the_key_useless(acme, acme_admin):
    from accounts.services import deactivate_user
    from tests.factories import UserFactory, builtin_role

    owner = UserFactory(tenant=acme, role=builtin_role(acme, "administrator"))
    _key, token = issue(owner, scopes={"users": ["view"]})
    with tenant_scope(acme):
        deactivate_user(owner, actor=acme_admin)
    keys.forget_verified()  # verified keys are remembered for at most a second
    assert bearer(token).get("/api/v1/users").status_code == 401


def test_rate_limit_per_key_answers_429_with_retry_after(acme_admin, minute_start):
    _key, token = issue(acme_admin, scopes={"users": ["view"]}, rate_per_minute=3)
    client = bearer(token)
    statuses = [client.get("/api/v1/users").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/users")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 61
    assert response["Content-Type"] == "application/problem+json"
    # another key of the same tenant has its own budget
    _other, token2 = issue(acme_admin, scopes={"users": ["view"]}, rate_per_minute=3)
    assert bearer(token2).get("/api/v1/users").status_code == 200


def test_generous_limits_are_counted_in_batches_but_still_enforced(acme_admin, minute_start):
    """At 200 a minute a process adds its requests in batches of 10: the 201st request in the window is
    refused all the same (the overshoot is bounded by one batch per process)."""
    from api import throttling

    throttling.forget()
    _key, token = issue(acme_admin, scopes={"users": ["view"]}, rate_per_minute=200)
    client = bearer(token)
    statuses = [client.get("/api/v1/users").status_code for _ in range(212)]
    assert statuses[:200] == [200] * 200
    assert statuses[-1] == 429


def test_redis_counter_is_shared_and_exact_for_small_limits(settings):
    """The Redis path (one INCRBY round trip), when Redis runs here (api's db 7)."""
    import redis

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/7").ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis")
    from django.core.cache import caches

    from api import throttling

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:6379/7"}
    }
    caches._settings = None
    try:
        del caches._connections.default
    except AttributeError:
        pass
    name = f"portcullis:throttle:test:{time.time_ns()}"
    assert [throttling.count_request(name, 3) for _ in range(4)] == [1, 2, 3, 4]


def test_anonymous_limit_ignores_a_forged_forwarded_for(db, settings, minute_start):
    """Anonymous callers are counted by the portal's client address: a forged X-Forwarded-For does not
    give a fresh budget (DRF's own get_ident would trust it)."""
    settings.API_ANONYMOUS_RATE_PER_MINUTE = 2
    from django.test import Client

    statuses = [Client(HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").get("/api/schema/").status_code for n in range(3)]
    assert statuses == [200, 200, 429]


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no credentials at all
        {"HTTP_AUTHORIZATION": "Bearer pck_1_not-a-key"},  # a guessed key
        {"HTTP_AUTHORIZATION": "Bearer"},  # a malformed header
    ],
)
def test_ins7_refused_credentials_count_against_the_anonymous_rate(db, settings, minute_start, headers):
    """INS-7: a request without credentials or with a bad key is answered 401 and counted against its
    address's anonymous rate, so guessing keys is throttled (DRF would check throttles only after a success)."""
    settings.API_ANONYMOUS_RATE_PER_MINUTE = 3
    from django.test import Client

    client = Client(**headers)
    statuses = [client.get("/api/v1/users").status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 429, 429]
    assert client.get("/api/v1/users").headers["Content-Type"] == "application/problem+json"
