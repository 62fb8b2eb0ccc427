"""AZ-1: an id of another tenant in any URL answers 404 with no data, for every URL pattern.

The test walks the URL resolver. Each URL keyword (``user_id``, ``role_id`` …) must be named in
FOREIGN_IDS with a way to make an object of *another* tenant; a new pattern whose keyword is not
there fails ``test_every_url_keyword_is_covered`` until its isolation is tested too.
"""

from collections.abc import Callable

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import UserFactory, builtin_role

# keyword → (make an object in the given tenant, return (id, a text of it that must not leak))
FOREIGN_IDS: dict[str, Callable] = {
    "user_id": lambda tenant: (lambda u: (u.pk, u.email))(UserFactory(tenant=tenant)),
    "role_id": lambda tenant: (lambda r: (r.pk, r.key))(builtin_role(tenant)),
    "event_id": lambda tenant: _foreign_event(tenant),
    "device_id": lambda tenant: _foreign_device(tenant),
    "token": lambda tenant: _foreign_link_token(tenant),
    "module_key": lambda tenant: _foreign_module(tenant),
    "resource_id": lambda tenant: _foreign_resource(tenant),
    "request_id": lambda tenant: _foreign_access_request(tenant),
    "policy_id": lambda tenant: _foreign_review(tenant, "policy"),
    "campaign_id": lambda tenant: _foreign_review(tenant, "campaign"),
    "item_id": lambda tenant: _foreign_review(tenant, "item"),
    "group_id": lambda tenant: _foreign_console_object(tenant, "group"),
    "module_id": lambda tenant: _foreign_console_object(tenant, "module"),
    "grant_id": lambda tenant: _foreign_console_object(tenant, "grant"),
    "change_id": lambda tenant: _foreign_console_object(tenant, "change"),
    "checkpoint_id": lambda tenant: _foreign_api_object(tenant, "checkpoint"),
    "key_id": lambda tenant: _foreign_api_object(tenant, "key"),
}


def _foreign_console_object(tenant, kind):
    """A group, custom module, resource, grant or pending change of ``tenant`` (its name must not leak)."""
    from tests.console.foreign import foreign_object

    return foreign_object(tenant, kind)


def _foreign_module(tenant):
    """A custom module only the other tenant has (its key and name must not leak)."""
    from accounts.scoping import tenant_scope
    from permissions.services.modules import create_module

    with tenant_scope(tenant):
        module = create_module(actor=None, tenant=tenant, name="Globex skunkworks", key="skunkworks")
    return module.key, module.name


def _foreign_resource(tenant):
    """A report of the other tenant (its title must not leak)."""
    from accounts.scoping import tenant_scope
    from permissions.models import Module
    from permissions.services.modules import create_resource

    with tenant_scope(tenant):
        report = create_resource(actor=None, module=Module.objects.get(key="reports"), title="Globex merger plan")
    return report.pk, report.title


def _foreign_access_request(tenant):
    """An access request of the other tenant (its reason must not leak)."""
    from accessrequests.services import submit
    from accounts.scoping import tenant_scope
    from permissions.models import Module

    user = UserFactory(tenant=tenant)
    with tenant_scope(tenant):
        request = submit(
            actor=user,
            module=Module.objects.get(key="reports"),
            actions=["view"],
            reason="Globex confidential reason",
            duration_days=14,
        )
    return request.pk, request.reason


def _foreign_review(tenant, what):
    """A review policy, its open campaign or one of its items in ``tenant`` (the reviewed e-mail must not leak)."""
    from tests.reviews.helpers import foreign_review

    return foreign_review(tenant, what)


def _foreign_api_object(tenant, kind):
    from tests.api.foreign import make

    return make(tenant, kind)


def _foreign_event(tenant):
    """The audit event recording a new user of ``tenant`` (its e-mail must not leak)."""
    from accounts.scoping import tenant_scope
    from audit.models import AuditEvent

    user = UserFactory(tenant=tenant)
    with tenant_scope(tenant):
        event = AuditEvent.objects.get(event_type="user.created", target_id=str(user.pk))
    return event.pk, user.email


def _foreign_device(tenant):
    from tests.accounts.mfa_helpers import give_device

    device = give_device(UserFactory(tenant=tenant), name="Foreign phone")
    return device.pk, device.name


def _foreign_link_token(tenant):
    from accounts.auth_models import EmailToken
    from accounts.auth_services import issue_token

    user = UserFactory(tenant=tenant)
    return issue_token(user, EmailToken.Purpose.INVITATION), user.email


# Django's admin is for platform operators only; tenant users are sent to its login page (tested apart).
# SCIM answers only SCIM keys (a session gets 401): its foreign ids are tested with keys in tests/api/.
EXCLUDED_PREFIXES = ("platform-admin/", "scim/v2/")


def walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    """(route, view name with its namespaces, keywords) of every URL pattern."""
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry, route, inner)
        elif isinstance(entry, URLPattern):
            keywords = list(entry.pattern.regex.groupindex)
            yield route, f"{namespace}{entry.name}" if entry.name else None, keywords


def patterns_with_ids():
    for route, name, keywords in walk(get_resolver()):
        if keywords and not route.startswith(EXCLUDED_PREFIXES):
            yield route, name, keywords


def test_every_url_keyword_is_covered():
    missing = {(route, kw) for route, _e, kws in patterns_with_ids() for kw in kws if kw not in FOREIGN_IDS}
    assert not missing, f"add these URL keywords to FOREIGN_IDS: {sorted(missing)}"


def _cases():
    return [pytest.param(route, name, kws, id=route) for route, name, kws in patterns_with_ids()]


@pytest.mark.parametrize(("route", "name", "keywords"), _cases() or [pytest.param(None, None, None, id="none-yet")])
def test_az1_foreign_ids_answer_404(admin_client_acme, globex, route, name, keywords):
    if route is None:
        pytest.skip("no URL takes an id yet")
    from django.urls import reverse

    kwargs, secrets = {}, []
    for keyword in keywords:
        object_id, text = FOREIGN_IDS[keyword](globex)
        kwargs[keyword] = object_id
        secrets.append(str(text))
    assert name, f"URL pattern {route} needs a name"
    url = reverse(name, kwargs=kwargs)
    response = admin_client_acme.get(url)
    assert response.status_code == 404, f"{url} answered {response.status_code}"
    body = response.content.decode()
    for text in secrets:
        assert text not in body
