"""Who a login becomes: the mapping's first matching role, the organisation mapping, and when the provider's
own MFA may count."""

from __future__ import annotations

import pytest

from accounts.scoping import tenant_scope
from permissions.models import BuiltinRole
from permissions.services.organisations import create_organisation
from sso import provisioning, services
from tests.sso.conftest import make_provider


@pytest.fixture
def corp(acme):
    with tenant_scope(acme):
        yield make_provider(acme, "http://127.0.0.1:9", "portcullis")


def test_the_first_matching_mapping_names_the_role(corp):
    corp = services.set_mappings(
        corp,
        [{"group": "a", "role": BuiltinRole.ADVANCED}, {"group": "b", "role": BuiltinRole.BASIC}],
        actor=None,
    )
    assert provisioning.mapped_role(corp, {"b", "a"}).key == BuiltinRole.ADVANCED
    assert provisioning.mapped_role(corp, {"b"}).key == BuiltinRole.BASIC
    assert provisioning.mapped_role(corp, set()) == corp.default_role


def test_the_groups_claim_may_be_a_list_or_one_string(corp):
    assert provisioning.groups_of(corp, {"groups": ["a", 3, "b"]}) == {"a", "b"}
    assert provisioning.groups_of(corp, {"groups": "a"}) == {"a"}
    assert provisioning.groups_of(corp, {"groups": {"a": 1}}) == set()


def test_an_organisation_mapping_sets_and_clears_the_organisation(corp, acme):
    initech = create_organisation(actor=None, tenant=acme, name="Initech")
    corp = services.set_mappings(corp, [{"group": "initech", "organisation": initech.pk}], actor=None)
    assert provisioning.mapped_organisation(corp, {"initech"}) == (True, initech)
    assert provisioning.mapped_organisation(corp, {"other"}) == (True, None)
    corp = services.set_mappings(corp, [], actor=None)
    assert provisioning.mapped_organisation(corp, {"initech"}) == (False, None)


def test_the_providers_mfa_counts_only_when_the_tenant_says_so(corp):
    assert not provisioning.provider_mfa_satisfied(corp, {"amr": ["pwd", "mfa"]})
    services.update_provider(corp, actor=None, provider_mfa=True)
    corp.refresh_from_db()
    assert provisioning.provider_mfa_satisfied(corp, {"amr": ["pwd", "mfa"]})
    assert provisioning.provider_mfa_satisfied(corp, {"amr": ["hwk"]})
    assert not provisioning.provider_mfa_satisfied(corp, {"amr": ["pwd"]})
    assert not provisioning.provider_mfa_satisfied(corp, {"amr": "mfa"})  # amr is a list (RFC 8176)
    assert not provisioning.provider_mfa_satisfied(corp, {})
    services.update_provider(corp, actor=None, mfa_values="urn:example:loa:3")
    corp.refresh_from_db()
    assert provisioning.provider_mfa_satisfied(corp, {"acr": "urn:example:loa:3"})


def test_a_mapped_organisation_refused_by_separation_of_duties_is_not_joined_and_the_login_goes_on(
    corp, acme, acme_admin, acme_basic
):
    """Joining an organisation passes the gates, here too: its sharing rule would give reports: export to a
    user holding products: change, which a rule forbids; the mapping keeps the user out, the login goes on."""
    from accounts.models import User
    from permissions.models import Module, SharingRule
    from permissions.services import sharing_rules, sod_rules
    from permissions.vocabulary import Action
    from tests.sodkit import give

    reports, products = Module.objects.get(key="reports"), Module.objects.get(key="products")
    sod_rules.create_rule(
        actor=acme_admin,
        tenant=acme,
        name="Export or maintain",
        reason="separate",
        first_module=reports,
        first_actions=["export"],
        second_module=products,
        second_actions=["change"],
    )
    rule = sharing_rules.build_rule(
        tenant=acme,
        name="Members export",
        kind=SharingRule.Kind.OWN,
        module=reports,
        actions=[Action.VIEW, Action.EXPORT],
        reason="customers",
    )
    sharing_rules.create_rule(rule, actor=acme_admin)
    give(acme, acme_basic, products, ["change"])
    initech = create_organisation(actor=None, tenant=acme, name="Initech")
    corp = services.set_mappings(corp, [{"group": "initech", "organisation": initech.pk}], actor=None)
    user = provisioning.apply_mapping(corp, User.objects.get(pk=acme_basic.pk), {"groups": ["initech"]})
    assert user.organisation_id is None and User.objects.get(pk=acme_basic.pk).organisation_id is None
