"""Every list costs the same number of queries whatever its length (cursor pages, prefetches)."""

import pytest

from accounts.scoping import tenant_scope
from permissions.models import Module
from permissions.services import groups, modules
from tests.factories import UserFactory
from tests.querycount import assert_constant_queries


def _grow(acme, acme_admin):
    def grow():
        with tenant_scope(acme):
            team = groups.create_group(actor=None, tenant=acme, name=f"Team {UserFactory._meta.model.objects.count()}")
            reports = Module.objects.get(key="reports")
            for n in range(4):
                user = UserFactory(tenant=acme)
                groups.add_member(team, user, actor=None)
                modules.create_resource(actor=None, module=reports, title=f"R{n}", attributes={"revenue": n})

    return grow


@pytest.mark.parametrize(
    "url", ["/api/v1/users", "/api/v1/roles", "/api/v1/groups", "/api/v1/resources", "/api/v1/audit-events"]
)
def test_lists_have_constant_queries(api_acme, acme, acme_admin, url):
    with tenant_scope(acme):  # one row of each kind first: an empty page skips its prefetches
        groups.add_member(groups.create_group(actor=None, tenant=acme, name="First"), acme_admin, actor=None)
        modules.create_resource(actor=None, module=Module.objects.get(key="reports"), title="First")
    assert_constant_queries(api_acme, url, _grow(acme, acme_admin))
