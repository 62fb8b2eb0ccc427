"""Asserting that a page costs the same number of queries whatever its length."""

from django.db import connection
from django.test.utils import CaptureQueriesContext


def queries_of(client, url: str) -> int:
    """How many queries one GET of ``url`` makes (after a warm-up request), with the permission engine's
    compiled sets forgotten first, as after any permission change: a page that asks the engine about each
    of its rows' people would otherwise hide a query per person behind the warm-up."""
    from permissions import engine

    client.get(url)
    engine.clear_process_cache()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(captured.captured_queries)


def assert_constant_queries(client, url: str, grow) -> None:
    """GET ``url``, call ``grow()`` to add many rows, GET again: the query count must not change."""
    before = queries_of(client, url)
    grow()
    after = queries_of(client, url)
    assert after == before, f"{url}: {before} queries before, {after} after adding rows"
