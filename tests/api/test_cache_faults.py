"""FC-1: the API without its cache. The key check and the throttle read Redis; when it is down or
refuses writes, requests are answered from the database and each process enforces the limit itself."""

import pytest

from tests.api.conftest import bearer, issue

DEAD_REDIS = {"default": {"BACKEND": "portal.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}


@pytest.fixture(params=["down", "refuse-writes"])
def faulty_cache(request, settings, tmp_path):
    """The portal's cache on a Redis that is down (nothing listens), or on one of the test's own that
    refuses every write."""
    if request.param == "down":
        settings.CACHES = DEAD_REDIS
        yield request.param
        return
    server = request.getfixturevalue("own_redis")
    settings.CACHES = {"default": {"BACKEND": "portal.cache.RedisCache", "LOCATION": server.url}}
    server.refuse_writes()
    yield request.param


def test_the_api_answers_and_limits_without_its_cache(acme_admin, acme_basic, minute_start, faulty_cache):
    _key, token = issue(acme_admin, scopes={"users": ["view"], "grants": ["view"]}, rate_per_minute=3)
    client = bearer(token)
    body = {"subject": acme_basic.pk, "action": "view", "target": "products"}
    check = client.post("/api/v1/check", body, content_type="application/json")
    assert check.status_code == 200, check.content
    assert check.json()["allowed"] is True
    statuses = [client.get("/api/v1/users").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]  # the limit holds, counted in this process
    assert bearer("pck_1_000000000000_wrong").get("/api/v1/users").status_code == 401
