"""AZ-1: an id of another tenant in any URL answers 404 with no data, for every URL pattern.

The test walks the URL resolver. Each URL keyword (``user_id``, ``role_id`` …) must be named in
FOREIGN_IDS with a way to make an object of *another* tenant; a new pattern whose keyword is not
there fails ``test_every_url_keyword_is_covered`` until its isolation is tested too.

A pattern with several ids (``m/<module_key>/<resource_id>/``) is tried with all of them foreign, and then
with each one foreign alone while the others are the tenant's own valid values (OWN_IDS): otherwise the
first lookup (the module) answers 404 and the check of the second id (the resource) is never reached.
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
    "passkey_id": lambda tenant: _foreign_passkey(tenant),
    "token": lambda tenant: _foreign_link_token(tenant),
    "module_key": lambda tenant: _foreign_module(tenant),
    "resource_id": lambda tenant: _foreign_resource(tenant),
    "request_id": lambda tenant: _foreign_access_request(tenant),
    "policy_id": lambda tenant: _foreign_review(tenant, "policy"),
    "campaign_id": lambda tenant: _foreign_review(tenant, "campaign"),
    "item_id": lambda tenant: _foreign_review(tenant, "item"),
    "delegation_id": lambda tenant: _foreign_review(tenant, "delegation"),
    "group_id": lambda tenant: _foreign_console_object(tenant, "group"),
    "module_id": lambda tenant: _foreign_console_object(tenant, "module"),
    "grant_id": lambda tenant: _foreign_console_object(tenant, "grant"),
    "change_id": lambda tenant: _foreign_console_object(tenant, "change"),
    "checkpoint_id": lambda tenant: _foreign_api_object(tenant, "checkpoint"),
    "key_id": lambda tenant: _foreign_api_object(tenant, "key"),
    "subscription_id": lambda tenant: _webhook(tenant, "subscription"),
    "delivery_id": lambda tenant: _webhook(tenant, "delivery"),
    "organisation_id": lambda tenant: _foreign_api_object(tenant, "organisation"),
    "rule_id": lambda tenant: _foreign_api_object(tenant, "sharing_rule"),
    "case_id": lambda tenant: _foreign_case(tenant),
    "proposal_id": lambda tenant: _foreign_intelligence(tenant, "proposal"),
    "role_proposal_id": lambda tenant: _foreign_intelligence(tenant, "role_proposal"),
    "alert_id": lambda tenant: _foreign_intelligence(tenant, "alert"),
    "sod_rule_id": lambda tenant: _foreign_api_object(tenant, "sod_rule"),
    "requirement_id": lambda tenant: _foreign_api_object(tenant, "training_requirement"),
    # Lessons are code, the same in every tenant: the nearest thing to "another tenant's" is a key none has.
    "lesson_key": lambda tenant: ("no-such-lesson", "Foreign lesson"),
    # Pickers too (people, groups, resources …): a name no picker has.
    "name": lambda tenant: ("no-such-picker", "Foreign picker"),
    "provider_id": lambda tenant: _sso_provider(tenant, "id"),
    "provider_slug": lambda tenant: _sso_provider(tenant, "slug"),
    "tenant_slug": lambda tenant: _sso_provider(tenant, "tenant"),
}


# keyword → a valid value of the tenant's own, where FOREIGN_IDS' object would not fit the other ids of a
# pattern: FOREIGN_IDS' resource is a report, so the own module of ``m/<module_key>/<resource_id>/`` is reports.
# A review's policy, campaign and item come from one review (its subject's e-mail can be made only once).
OWN_IDS: dict[str, Callable] = {
    "module_key": lambda tenant: ("reports", "reports"),
    "lesson_key": lambda tenant: ("protect-account", ""),
    "name": lambda tenant: ("people", ""),
    "policy_id": lambda tenant: _own_review(tenant, "policy"),
    "campaign_id": lambda tenant: _own_review(tenant, "campaign"),
    "item_id": lambda tenant: _own_review(tenant, "item"),
}


def own_value(keyword: str, tenant):
    """(a valid id of ``tenant``'s own for ``keyword``, its text): OWN_IDS, else FOREIGN_IDS' maker in ``tenant``."""
    return OWN_IDS.get(keyword, FOREIGN_IDS[keyword])(tenant)


def _own_review(tenant, what):
    """The policy, open campaign or item of the tenant's review (made on first use)."""
    from accounts.scoping import tenant_scope
    from reviews.models import ReviewItem

    with tenant_scope(tenant):
        item = ReviewItem.objects.filter(user__email=f"secret-subject@{tenant.slug}.example").first()
        if item is None:
            return _foreign_review(tenant, what)
        ids = {"policy": item.campaign.policy_id, "campaign": item.campaign_id, "item": item.pk}
    return ids[what], ""


def own_kwargs(keywords, tenant, made: dict | None = None) -> dict:
    """URL kwargs with a valid object of ``tenant``'s own for every keyword; ``made`` (keyword → id) keeps
    the objects already made, for a caller that fills many patterns (one name cannot be made twice)."""
    made = {} if made is None else made
    for keyword in keywords:
        if keyword not in made:
            made[keyword] = own_value(keyword, tenant)[0]
    return {keyword: made[keyword] for keyword in keywords}


def _foreign_console_object(tenant, kind):
    """A group, custom module, resource, grant or pending change of ``tenant`` (its name must not leak)."""
    from tests.console.foreign import foreign_object

    return foreign_object(tenant, kind)


def _foreign_intelligence(tenant, kind):
    """A right-sizing proposal, mined role proposal or alert of ``tenant`` (its subject must not leak)."""
    from tests.intelligence.foreign import foreign_intelligence

    return foreign_intelligence(tenant, kind)


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


def _foreign_case(tenant):
    """An appeal of a customer of ``tenant`` (its subject must not leak)."""
    from accounts.scoping import tenant_scope
    from appeals.services import open_case

    user = UserFactory(tenant=tenant)
    with tenant_scope(tenant):
        case = open_case(actor=user, kind="missing", subject="Globex confidential appeal", body="Secret details")
    return case.pk, case.subject


def _foreign_review(tenant, what):
    """A review policy, its open campaign or one of its items in ``tenant`` (the reviewed e-mail must not leak)."""
    from tests.reviews.helpers import foreign_review

    return foreign_review(tenant, what)


def _webhook(tenant, kind):
    """A webhook subscription of ``tenant``, or a delivery of that same subscription (its name must not leak)."""
    from tests.webhooks.foreign import hook

    return hook(tenant, kind)


def _sso_provider(tenant, kind):
    from tests.sso.foreign import provider

    return provider(tenant, kind)


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


def _foreign_passkey(tenant):
    from tests.accounts.passkey_helpers import give_passkey

    passkey, _authenticator = give_passkey(UserFactory(tenant=tenant), name="Foreign security key")
    return passkey.pk, passkey.name


def _foreign_link_token(tenant):
    from accounts.auth_models import EmailToken
    from accounts.auth_services import issue_token

    user = UserFactory(tenant=tenant)
    return issue_token(user, EmailToken.Purpose.INVITATION), user.email


# Django's admin is for platform operators only; tenant users are sent to its login page (tested apart).
# SCIM answers only SCIM keys (a session gets 403): its own walk, with keys, is tests/api/test_scim_isolation.py.
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
    """Every pattern with all its ids foreign; a pattern with several ids also with each id foreign alone."""
    cases = []
    for route, name, keywords in patterns_with_ids():
        cases.append(pytest.param(route, name, keywords, tuple(keywords), id=route))
        if len(keywords) > 1:
            for keyword in keywords:
                cases.append(pytest.param(route, name, keywords, (keyword,), id=f"{route}[only {keyword}]"))
    return cases


#: The fewest cases the AZ-1 walk may have (73 today): fewer means the resolver walk lost patterns, and a walk
#: that finds nothing would otherwise pass (an empty parametrization is a skip, not a failure).
MINIMUM_CASES = 60


def test_the_az1_walk_covers_the_patterns_with_ids():
    assert len(_cases()) >= MINIMUM_CASES, f"the AZ-1 walk has {len(_cases())} cases, fewer than {MINIMUM_CASES}"


@pytest.mark.parametrize(("route", "name", "keywords", "foreign"), _cases())
def test_az1_foreign_ids_answer_404(admin_client_acme, acme, globex, route, name, keywords, foreign):
    """AZ-1: the ids named in ``foreign`` are the other tenant's; the rest are the tenant's own valid ids."""
    from django.urls import reverse

    assert name, f"URL pattern {route} needs a name"
    kwargs = own_kwargs([kw for kw in keywords if kw not in foreign], acme)
    if kwargs:
        # The control: with the foreign id replaced by an own one the view answers (200, 302, 405 …), not
        # 404, so the 404 below is the answer to the foreign id and not to an own id that did not fit.
        own_url = reverse(name, kwargs={**kwargs, **own_kwargs(foreign, acme)})
        control = admin_client_acme.get(own_url)
        assert control.status_code != 404, f"{own_url} (own ids only) answered 404"
    secrets = []
    for keyword in foreign:
        object_id, text = FOREIGN_IDS[keyword](globex)
        kwargs[keyword] = object_id
        secrets.append(str(text))
    url = reverse(name, kwargs=kwargs)
    response = admin_client_acme.get(url)
    assert response.status_code == 404, f"{url} answered {response.status_code}"
    body = response.content.decode()
    for text in secrets:
        assert text not in body
