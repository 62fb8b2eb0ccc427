"""Issue 19 item 5, human labels: attribute display names per module, Chinese names of custom roles and modules,
stored English texts read in the reader's language, audit targets by name with a link, notices and pending
changes named today in the reader's language."""

from __future__ import annotations

import json

import pytest
from django.utils import translation

from accessrequests import services as request_services
from accessrequests.models import Notice
from accessrequests.notify import notice_text
from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from audit.targets import attach_targets
from console.forms.modules import ModuleSettingsForm
from permissions.attributes import attribute_name, names_text, parse_names, words_of
from permissions.change_summaries import attach_summaries
from permissions.models import BuiltinRole, Module, Resource, Role
from permissions.services import grants, modules, roles
from permissions.services.errors import AccessRefused
from permissions.vocabulary import Action
from portal.stored_text import readable
from tests.factories import UserFactory, builtin_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_acme(acme):
    with tenant_scope(acme):
        yield acme


@pytest.fixture
def contracts(in_acme, acme_admin):
    module = modules.create_module(actor=acme_admin, tenant=in_acme, key="contracts", name="Contracts", name_zh="合同")
    names = {"annual_value": {"en": "Annual value", "zh-hans": "年度金额"}}
    return modules.update_module(module, actor=acme_admin, attribute_names=names)


def test_seeded_attributes_have_translated_names_and_others_read_as_words(in_acme):
    products = Module.objects.get(key="products")
    with translation.override("en"):
        assert attribute_name(products, "list_price") == "List price"
        assert attribute_name(products, "colour_code") == "Colour code"
    with translation.override("zh-hans"):
        assert attribute_name(products, "list_price") == "标价"
    assert words_of("CUSTOMER_EMAILS") == "Customer emails"


def test_a_tenant_names_its_modules_attributes_in_both_languages(contracts, acme_admin):
    with translation.override("en"):
        assert attribute_name(contracts, "annual_value") == "Annual value"
        assert str(contracts.display_name) == "Contracts"
    with translation.override("zh-hans"):
        assert attribute_name(contracts, "annual_value") == "年度金额"
        assert str(contracts.display_name) == "合同"
    event = AuditEvent.objects.filter(target_type="permissions.module", target_id=str(contracts.pk)).last()
    assert event.after["attribute_names"]["annual_value"]["zh-hans"] == "年度金额"


def test_the_names_are_typed_one_per_line_and_a_bad_line_is_refused(contracts):
    text = "annual_value = Annual value | 年度金额\nrenewal = Renewal"
    assert parse_names(text) == {
        "annual_value": {"en": "Annual value", "zh-hans": "年度金额"},
        "renewal": {"en": "Renewal"},
    }
    assert parse_names(names_text(parse_names(text))) == parse_names(text)
    form = ModuleSettingsForm({"name": "Contracts", "attribute_names": "no equals sign"}, module=contracts)
    assert not form.is_valid() and "attribute_names" in form.errors


def test_a_built_in_module_keeps_the_products_names(in_acme, acme_admin):
    products = Module.objects.get(key="products")
    with pytest.raises(AccessRefused):
        modules.update_module(products, actor=acme_admin, name_zh="产品们")
    assert Module.objects.get(key="products").name_zh == ""


def test_a_custom_role_shows_its_chinese_name_in_chinese_and_a_built_in_one_is_translated(in_acme, acme_admin):
    role = roles.create_role(actor=acme_admin, tenant=in_acme, name="Help desk", name_zh="服务台")
    with translation.override("zh-hans"):
        assert str(role.display_name) == "服务台"
        assert str(builtin_role(in_acme, BuiltinRole.ADMINISTRATOR).display_name) == "管理员"
    with translation.override("en"):
        assert str(role.display_name) == "Help desk"
    roles.rename_role(role, actor=acme_admin, name="Service desk", name_zh="服务中心")
    role.refresh_from_db()
    assert (role.name, role.name_zh) == ("Service desk", "服务中心")
    event = AuditEvent.objects.filter(event_type="role.renamed").last()
    assert event.before == {"name": "Help desk", "name_zh": "服务台"}


def test_texts_the_product_stored_in_english_read_in_the_readers_language():
    stored = "Access review «Q4» (campaign 2, item 7): revoke by user #3: not needed"
    with translation.override("zh-hans"):
        text = readable(stored)
        assert "Q4" in text and "not needed" in text and "revoke" not in text and "Access review" not in text
        assert readable("Grant #18 revoked.") != "Grant #18 revoked." and "18" in readable("Grant #18 revoked.")
        assert "Basic user" not in readable("Role changed to Basic user.")
    with translation.override("en"):
        assert readable(stored) == stored.replace("revoke by", "Revoke by")  # the decision by its name
    assert readable("Typed by a person") == "Typed by a person"


def test_audit_targets_are_named_today_with_a_link(in_acme, acme_admin):
    customer = UserFactory(tenant=in_acme, email="c@acme.example")
    reports = Module.objects.get(key="reports")
    grant = grants.grant(actor=acme_admin, module=reports, user=customer, actions=[Action.VIEW], reason="Q3")
    event = AuditEvent.objects.filter(target_type="permissions.grant", target_id=str(grant.pk)).last()
    orphan = AuditEvent(target_type="reviews.reviewitem", target_id="999999")  # an item deleted since
    orphan.canonical = json.dumps({"target": {"type": "reviews.reviewitem", "id": "999999", "label": "2:grant:7"}})
    orphan.set_personal({})
    with translation.override("zh-hans"):
        [named, gone] = attach_targets([event, orphan])
    assert "报表" in named.target_name and named.target_url == f"/console/users/{customer.pk}/"
    assert gone.target_url == "" and "2:grant:7" not in gone.target_name and gone.target_name


def test_a_request_notice_names_the_resource_only_for_a_reader_who_may_see_it(in_acme, acme_admin):
    customer = UserFactory(tenant=in_acme, email="c@acme.example")
    reports = Module.objects.get(key="reports")
    report = modules.create_resource(actor=acme_admin, module=reports, title="Q3 revenue")
    request = request_services.submit(
        actor=customer, module=reports, resource=report, actions=[Action.VIEW], reason="Planning", duration_days=7
    )
    request_services.deny(request, actor=acme_admin, reason="No")
    notice = Notice.objects.get(user=customer, kind=Notice.Kind.DENIED)
    with translation.override("zh-hans"):
        hidden = notice_text(notice.kind, notice.params, customer)
        assert "Q3 revenue" not in hidden and "报表" in hidden and "Reports" not in hidden
    grants.grant(actor=acme_admin, module=reports, resource=report, user=customer, actions=[Action.VIEW], reason="ok")
    assert "Q3 revenue" in notice_text(notice.kind, notice.params, customer)
    assert Resource.objects.filter(pk=report.pk).exists()


def test_a_role_change_notice_names_the_roles_in_the_readers_language(in_acme, acme_admin):
    customer = UserFactory(tenant=in_acme, email="c@acme.example", role_key=BuiltinRole.ADVANCED)
    roles.change_user_role(customer, builtin_role(in_acme, BuiltinRole.BASIC), actor=acme_admin, reason="Moved")
    notice = Notice.objects.get(user=customer, kind=Notice.Kind.ACCESS_REDUCED)
    with translation.override("zh-hans"):
        text = notice_text(notice.kind, notice.params, customer)
    assert "Advanced user" not in text and "Basic user" not in text and "高级用户" in text, text


def test_a_pending_change_reads_in_the_readers_language(in_acme, acme_admin):
    role = roles.create_role(actor=acme_admin, tenant=in_acme, name="Help desk", name_zh="服务台")
    change = roles.set_role_matrix(role, {"users": [Action.VIEW]}, actor=acme_admin, reason="Support")
    customer = UserFactory(tenant=in_acme, email="c@acme.example")
    pending = grants.grant(
        actor=acme_admin, module=Module.objects.get(key="users"), user=customer, actions=[Action.VIEW], reason="x"
    )
    with translation.override("zh-hans"):
        [matrix, grant] = attach_summaries([change, pending])
    assert matrix.readable_summary.startswith("服务台") and "Users" not in matrix.readable_summary
    assert "users:" not in grant.readable_summary and "view" not in grant.readable_summary
    assert grant.readable_summary.endswith("c@acme.example")
    assert Role.objects.filter(name_zh="服务台").exists()
