"""FC-1: the portal's cache (portal.cache.RedisCache) treats every Redis fault as a miss, and sessions
(cached_db) outlive Redis: no one is logged out when it is down, flushed or restarted."""

import logging

import pytest
from django.test import Client

from portal.cache import RedisCache
from tests.conftest import login
from tests.factories import UserFactory


def test_a_redis_that_is_down_is_a_miss_and_asked_again_only_after_a_pause(caplog):
    cache = RedisCache("redis://127.0.0.1:1/0", {})
    with caplog.at_level(logging.WARNING, logger="portal.cache"):
        assert cache.get("k", "default") == "default"
        assert cache.set("k", 1) is False
        assert cache.add("k", 1) is False
        assert cache.get_many(["k"]) == {}
        with pytest.raises(ValueError, match="not found"):
            cache.incr("k")
    assert not cache.breaker.available()  # the next calls do not even try, for RETRY_SECONDS
    assert [r.message for r in caplog.records].count(
        "cache fault, answering from the database for 1.0s: ConnectionError"
    ) == 1


def test_a_redis_that_refuses_writes_still_answers_reads(own_redis):
    cache = RedisCache(own_redis.url, {})
    assert cache.set("kept", "v") is not False
    own_redis.refuse_writes()
    assert cache.set("new", "v") is False
    assert cache.get("new") is None
    cache.breaker.down_until = 0  # (the refused write paused the cache; ask again now)
    assert cache.get("kept") == "v"


@pytest.mark.parametrize("fault", ["down", "flush", "older-snapshot"])
def test_no_one_is_logged_out_when_redis_fails(acme, own_redis, settings, fault):
    settings.CACHES = {"default": {"BACKEND": "portal.cache.RedisCache", "LOCATION": own_redis.url}}
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    if fault == "older-snapshot":
        own_redis.client().save()  # before anyone logged in
    user = UserFactory(tenant=acme)
    client = login(Client(), user)
    assert client.get("/").status_code == 200
    if fault == "down":
        own_redis.stop()
    elif fault == "flush":
        own_redis.client().flushall()
    else:
        own_redis.stop()
        own_redis.start()
        assert own_redis.client().dbsize() == 0  # the session is not in Redis any more
    page = client.get("/")
    assert page.status_code == 200
    assert user.email in page.content.decode() or user.display_name in page.content.decode()


def test_a_session_that_ended_does_not_come_back_with_an_older_snapshot(acme, own_redis, settings):
    """Redis restarts from a snapshot taken while a session was live; the session ended since. Its copy
    is back in Redis, but the session registry (in the database) refuses it."""
    settings.CACHES = {"default": {"BACKEND": "portal.cache.RedisCache", "LOCATION": own_redis.url}}
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    user = UserFactory(tenant=acme)
    client = login(Client(), user)
    assert client.get("/").status_code == 200
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    own_redis.client().save()  # the live session is in the snapshot
    client.post("/accounts/logout/")
    own_redis.stop()
    own_redis.start()
    assert own_redis.client().dbsize() > 0  # its copy is back
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = cookie
    response = replay.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
