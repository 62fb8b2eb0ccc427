"""schemathesis against /api/schema/ with all its checks (FC-2): generated requests — valid ones and,
in the coverage phase, invalid ones — find no 5xx, no response outside the schema (every 4xx is
documented, as problem+json), no accepted invalid input and no refused valid input; then a short stateful
run chains operations (create, read, change) through the links schemathesis infers. Bounded so the whole
file stays around two minutes; the 10-minute run against a server is described in docs/api.md."""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, settings

from tests.api.conftest import issue

schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture
def token(acme_admin, acme_basic):
    """A key of the administrator. The WSGI calls run inside the test's transaction, so (as Django's
    own test client does) the end of a request must not close the database connection."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    _key, token = issue(acme_admin, rate_per_minute=1_000_000)
    yield token
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_schema_holds_under_generated_requests(case, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})  # every check schemathesis has


def test_api_holds_under_a_short_stateful_run(token):
    machine = schema.as_state_machine()

    class Machine(machine):
        def get_call_kwargs(self, case):
            return {"headers": {"Authorization": f"Bearer {token}"}}

    run = settings(
        max_examples=6,
        stateful_step_count=6,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )(Machine.TestCase)
    run("runTest").runTest()
