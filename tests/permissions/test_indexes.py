"""The permission engine's tables carry no index on the tenant alone.

The engine joins a user's memberships to group grants and group object rows. With statistics that have not
caught up (a tenant loaded in bulk, before autovacuum analyses), PostgreSQL once chose the tenant-only index of
group memberships for the inner side of that join: a scan of every membership of the tenant for each of its
group grants (15 s a check for 10,000 group grants and 40,000 memberships). Without tenant-only indexes, every
index the planner can pick for these joins leads with the tenant and a selective column. Modules are left out:
the engine reads all of a tenant's modules, which is what an index on the tenant alone is for.
"""

import pytest
from django.db import connection

from permissions.compiled import _tables


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["rp", "grant", "gm", "rup", "rgp"])
def test_no_index_of_the_engine_s_tables_is_on_the_tenant_alone(name):
    table = _tables()[name]
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    tenant_only = [key for key, found in constraints.items() if found["index"] and found["columns"] == ["tenant_id"]]
    assert constraints and tenant_only == [], f"{table}: {tenant_only}"
