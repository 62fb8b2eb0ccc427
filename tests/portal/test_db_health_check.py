"""The PostgreSQL backend's health check (portal/postgresql): skipped on a connection that the previous
request proved within the last half second, run as Django runs it otherwise, and a connection the server
cut is never used for a check's answer once the window has passed."""

import pytest
from django.db import connection, connections
from django.db.utils import OperationalError

from portal.postgresql import base

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def checks(monkeypatch):
    """The health checks run (each a real ``SELECT 1`` on the server)."""
    made = []
    real = base.DatabaseWrapper.is_usable

    def counted(self):
        made.append(1)
        return real(self)

    monkeypatch.setattr(base.DatabaseWrapper, "is_usable", counted)
    return made


def _request(query: bool = True):
    """What Django does around a request: its boundary calls, and (``query``) one query inside."""
    connection.close_if_unusable_or_obsolete()  # request_started
    if query:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 2")
            assert cursor.fetchone() == (2,)
    connection.close_if_unusable_or_obsolete()  # request_finished


def _age(seconds: float) -> None:
    connection._proven_at -= seconds


def _server_cuts_the_connection() -> None:
    pid = connection.connection.info.backend_pid
    from psycopg import connect

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("prepare_threshold", None)
    with connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_the_engine_is_ours_with_health_checks_on():
    assert isinstance(connections["default"], base.DatabaseWrapper)
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True


def test_a_connection_proven_by_the_previous_request_is_not_checked_again(checks):
    connection.ensure_connection()
    _request()  # a new connection is healthy (Django's own rule); this request proves it
    checks.clear()
    for _ in range(5):
        _request()
    assert checks == []


def test_after_the_window_the_check_runs_as_django_runs_it(checks):
    _request()
    checks.clear()
    _age(base.BYPASS_SECONDS + 0.1)
    _request()
    assert checks == [1]
    checks.clear()
    _request()  # and the checked request proves it again
    assert checks == []


def test_a_request_without_a_query_proves_nothing(checks):
    _request()
    _age(base.BYPASS_SECONDS + 0.1)
    _request(query=False)  # no cursor: nothing proven, and no check needed
    assert checks == []
    _request()
    assert checks == [1]


def test_a_request_that_met_a_database_error_proves_nothing(checks):
    _request()
    proven = connection._proven_at
    connection.close_if_unusable_or_obsolete()  # request_started
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 10")
        with pytest.raises(OperationalError):
            cursor.execute("SELECT pg_sleep(1)")  # cancelled by the server: Django marks errors_occurred
        cursor.execute("RESET statement_timeout")
    checks.clear()
    connection.close_if_unusable_or_obsolete()  # request_finished: Django checks it, as after any error
    assert checks == [1]
    assert connection._proven_at == proven  # the request itself is no proof


def test_a_connection_the_server_cut_is_replaced_by_the_check_once_the_window_passed(checks):
    _request()
    _server_cuts_the_connection()
    _age(base.BYPASS_SECONDS + 0.1)
    _request()  # the check finds it broken, Django opens a new one, the query answers: no error
    assert checks == [1]


def test_within_the_window_a_cut_connection_fails_one_request_and_is_then_replaced(checks):
    _request()
    _server_cuts_the_connection()
    connection.close_if_unusable_or_obsolete()  # request_started, within the window: no check
    with pytest.raises(OperationalError), connection.cursor() as cursor:
        cursor.execute("SELECT 2")
    connection.close_if_unusable_or_obsolete()  # request_finished: the error is seen, the connection closed
    assert connection.connection is None
    _request()  # the next request gets a new connection
