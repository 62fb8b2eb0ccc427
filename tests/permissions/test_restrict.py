"""The one read door: ``Model.objects.restrict(user, action)`` (NetBox's RestrictedQuerySet) is the engine's
visible() on the tenant-scoped manager, refuses to run without a scope, and restricts prefetches too."""

import pytest

from accounts.scoping import ScopeError, tenant_scope
from permissions import engine
from permissions.models import Module, Resource
from permissions.querysets import restricted_prefetch
from permissions.services import grants
from permissions.vocabulary import Action
from tests.permissions.conftest import make_resource

A = Action


@pytest.fixture
def shared(acme, acme_admin, acme_customer, report, other_report, reports):
    with tenant_scope(acme):
        grants.grant(actor=None, module=reports, resource=report, user=acme_customer, actions=[A.VIEW], reason="x")
    return report


def test_restrict_is_visible_on_the_scoped_manager(in_acme, acme_admin, acme_customer, shared, other_report):
    assert list(Resource.objects.restrict(acme_customer, A.VIEW)) == [shared]
    assert list(Resource.objects.restrict(acme_customer, A.EXPORT)) == []
    everything = set(Resource.objects.values_list("pk", flat=True))
    assert set(Resource.objects.restrict(acme_admin, A.VIEW).values_list("pk", flat=True)) == everything
    # it composes: the caller's filters and ordering stay
    titled = Resource.objects.filter(title__startswith="Q4").order_by("-id").restrict(acme_admin, A.VIEW)
    assert list(titled) == [other_report]
    assert list(engine.visible(acme_customer, A.VIEW, Resource.objects.all())) == [shared]


def test_restrict_never_crosses_tenants(acme, globex, acme_admin, globex_report):
    with tenant_scope(acme):
        assert globex_report.pk not in set(Resource.objects.restrict(acme_admin, A.VIEW).values_list("pk", flat=True))
    with tenant_scope(globex):  # the scope is globex's, the reader acme's: nothing
        assert list(Resource.objects.restrict(acme_admin, A.VIEW)) == []


def test_restrict_needs_a_tenant_scope(acme_admin, report):
    with pytest.raises(ScopeError):
        Resource.objects.restrict(acme_admin, A.VIEW)


def test_a_restricted_prefetch_holds_only_what_the_reader_may_view(in_acme, acme_customer, shared, other_report):
    modules = Module.objects.filter(key="reports").prefetch_related(
        restricted_prefetch("resources", Resource.objects.all(), acme_customer, A.VIEW)
    )
    [reports] = list(modules)
    assert list(reports.resources.all()) == [shared]


def test_modules_are_restricted_too(in_acme, acme_customer, acme_admin):
    make_resource(in_acme, "products", "X-200")
    assert "products" in set(Module.objects.restrict(acme_customer, A.VIEW).values_list("key", flat=True))
    assert "audit" not in set(Module.objects.restrict(acme_customer, A.VIEW).values_list("key", flat=True))
    assert "audit" in set(Module.objects.restrict(acme_admin, A.VIEW).values_list("key", flat=True))


def test_views_read_resources_only_through_the_read_door():
    """No view module looks resources up around the engine: each ``Resource.objects`` of a view goes through
    ``restrict`` or ``get_visible_or_404`` (which restricts), but for the two documented exceptions."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    views = [*root.glob("console/views/*.py"), *root.glob("api/views/*.py"), root / "workspace/views.py"]
    views += [root / "accessrequests/views.py", root / "reviews/views.py", root / "permissions/views.py"]
    # Naming a resource to ask access to it (no title shown) and the integrations' bulk upsert (a write
    # checked by module scope) look a resource up by id on purpose.
    allowed = {
        ("accessrequests/views.py", "resource = Resource.objects.filter(pk=resource_id, module=module).first()"),
        ("api/views/catalogue.py", "for r in Resource.objects.filter(module=module, external_id__in="),
    }
    found = []
    for path in views:
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            if "Resource.objects" not in line or re.search(r"restrict\(|get_visible_or_404\(|objects\.none\(\)", line):
                continue
            if any(path.as_posix().endswith(name) and text in line for name, text in allowed):
                continue
            if "get_visible_or_404(" in "".join(lines[number - 1 : number + 3]):
                continue  # the queryset handed to get_visible_or_404 (which restricts) on the next lines
            found.append(f"{path.relative_to(root)}:{number + 1}: {line.strip()}")
    assert not found, "resources looked up around the read door:\n" + "\n".join(found)
