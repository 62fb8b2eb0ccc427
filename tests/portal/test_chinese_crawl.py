"""Issue 19, "human labels everywhere": every page of every persona, in Chinese, shows no English word of the
built-in vocabulary and no raw key.

The demo tenant (`make run`'s data: modules, roles, resources, groups, grants, access requests, reviews with
applied decisions, organisations, audit events) plus a revoked grant (a notice), a custom role and module with a
Chinese name. Each persona (an administrator, a reviewer, a customer) signs in, switches to Chinese, and every
page of the URL walk (tests/urlwalk.py, the one tests/e2e/test_every_screen.py uses) that answers with HTML is
read as a person reads it: text, titles, labels, placeholders, options. Found:

- a word of the built-in vocabulary in English: an action, a module, a role, a state or any other choice of a
  model field (their English labels, and the stored values of states and decisions, e.g. "pending", "keep");
- a raw key: snake_case or UPPER_CASE identifiers (attribute keys, module keys), `2:grant:7`-like targets and
  model labels (`permissions.grant`);
- the repr of a Python dict or object (tests/portal/test_no_internals.py's patterns), now for every persona.

Allowed, each for a reason (``ALLOWED``): the tenant's own data (names, titles, reasons and attribute values
people typed; the demo types them in English), e-mail addresses and URLs, text inside <code>/<pre> (API field
names, keys, commands), and words the Chinese catalogue itself keeps in English (technical terms such as SCIM).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.test import Client
from django.utils import translation

from accounts.models import Tenant, User
from accounts.scoping import dangerously_unscoped, tenant_scope
from tests.conftest import login
from tests.portal.test_no_internals import INTERNALS
from tests.urlwalk import every_url

pytestmark = pytest.mark.django_db

PERSONAS = {
    "administrator": "admin@acme.example",
    "reviewer": "reviewer@acme.example",
    "customer": "basic1@acme.example",
}
MINIMUM_PAGES = {"administrator": 60, "reviewer": 10, "customer": 8}
NOT_SCREENS = {"accounts:invitation", "accounts:password_reset_confirm", "favicon"}
PROJECT_APPS = {
    "accounts", "permissions", "console", "reviews", "audit", "vault", "workspace", "accessrequests", "api",
    "webhooks", "appeals", "dormancy", "intelligence", "training", "sso", "portal",
}  # fmt: skip
STATE_FIELDS = {"state", "status", "decision", "final_decision", "recommendation", "apply_result", "kind", "result"}
# Read by people: text, and these attributes (a class or an href is not read).
READ_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt"}
# Not read as the product's words: code (API field names, keys, commands, the audit's signed record) and the
# text of a field being edited (what the person typed, e.g. a resource's "key = value" attribute lines).
SKIPPED_ELEMENTS = {"script", "style", "code", "pre", "template", "textarea"}

# The tenant's own data: typed by people (the demo types them in English), shown as typed. (model, fields)
OWN_DATA = {
    "accounts.Tenant": ["name", "slug"],
    "accounts.User": ["full_name", "email"],
    "accounts.Organisation": ["name"],
    "permissions.Resource": ["title", "description", "external_id"],
    "permissions.Group": ["name"],
    "permissions.Role": ["name", "description"],
    "permissions.Module": ["name"],
    "permissions.Grant": ["reason"],
    "permissions.SharingRule": ["name", "reason", "attribute_value"],
    "permissions.SodRule": ["name", "reason"],
    "accessrequests.AccessRequest": ["reason", "decision_reason"],
    "reviews.ReviewPolicy": ["name"],
    "reviews.ReviewCampaign": ["name"],
    "reviews.ReviewItem": ["justification"],
    "appeals.Case": ["subject"],
    "webhooks.Subscription": ["name"],
    "sso.IdentityProvider": ["name", "groups_claim"],
    "api.ApiKey": ["name"],
    "accounts.Passkey": ["name"],
    "accounts.TotpDevice": ["name"],
}
WORDS_KEPT_IN_CHINESE = "words the zh_Hans catalogue translates as themselves (technical terms: SCIM, API, TOTP)"
RAW_KEYS = [
    ("a snake_case key", re.compile(r"(?<![\w.@/#-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w@/-])")),
    ("an UPPER_CASE key", re.compile(r"(?<![\w.@/#-])[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+(?![\w@/-])")),
    ("an x:y:z target", re.compile(r"(?<![\w:])\d+:[a-z_]+:\d+(?![\w:])")),
]
E_MAILS_AND_URLS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|https?://\S+|/[\w./?=&%-]*")


class ReadText(HTMLParser):
    """The text of a page as a person reads it, one chunk per text node or read attribute."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED_ELEMENTS:
            self.skipping += 1
        for name, value in attrs:
            shown_value = tag == "input" and name == "value" and dict(attrs).get("type") in ("submit", "button")
            if value and (name in READ_ATTRIBUTES or shown_value):
                self.chunks.append(value)

    def handle_endtag(self, tag):
        if tag in SKIPPED_ELEMENTS and self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.chunks.append(data.strip())


def project_models():
    return [model for model in apps.get_models() if model._meta.app_label in PROJECT_APPS]


def vocabulary() -> set[str]:
    """The built-in vocabulary in English: every choice label of a model field (actions, modules, roles, states,
    kinds …), and the stored values of states and decisions ("pending", "keep")."""
    from permissions.models import BuiltinRole
    from permissions.vocabulary import Action, BusinessModule, SystemModule

    words: set[str] = set()
    with translation.override("en"):
        for enum in (Action, SystemModule, BusinessModule, BuiltinRole):
            words |= {str(label) for label in enum.labels}
        for model in project_models():
            for field in model._meta.get_fields():
                for value, label in getattr(field, "flatchoices", None) or ():
                    words.add(str(label))
                    if field.name in STATE_FIELDS and isinstance(value, str) and value.isalpha():
                        words.add(value)
    with translation.override("zh-hans"):  # WORDS_KEPT_IN_CHINESE
        kept = {word for word in words if word in translation.gettext(word)}
    return {word for word in words - kept if re.search(r"[A-Za-z]{2}", word)}


def own_data(tenant) -> list[str]:
    """OWN_DATA's values in the tenant (and attribute values), longest first (so a longer one is cut first)."""
    texts: set[str] = set()
    with tenant_scope(tenant):
        for label, fields in OWN_DATA.items():
            model = apps.get_model(label)
            manager = model.objects if hasattr(model, "tenant") else model._default_manager
            rows = manager.filter(pk=tenant.pk) if label == "accounts.Tenant" else manager.all()
            for row in rows.values_list(*fields):
                texts |= {str(value).strip() for value in row if value}
        from permissions.models import Resource

        for attributes in Resource.objects.values_list("attributes", flat=True):
            texts |= {str(value) for value in (attributes or {}).values()}
    return sorted((text for text in texts if len(text) >= 2), key=len, reverse=True)


def model_labels() -> set[str]:
    return {model._meta.label_lower for model in apps.get_models()}


def findings_of(html: str, words_pattern, data: list[str], labels: set[str]) -> list[str]:
    """What one Chinese page shows that it should not: (kind: text) lines."""
    reader = ReadText()
    reader.feed(html)
    found = []
    for chunk in reader.chunks:
        text = E_MAILS_AND_URLS.sub(" ", chunk)
        for datum in data:
            if datum in text:
                text = text.replace(datum, " ")
        for match in words_pattern.finditer(text):
            found.append(f"English word {match[0]!r} in “{chunk[:100]}”")
        for what, pattern in RAW_KEYS:
            for match in pattern.finditer(text):
                found.append(f"{what} {match[0]!r} in “{chunk[:100]}”")
        for word in re.findall(r"(?<![\w.])[a-z]+\.[a-z]+(?![\w.])", text):
            if word in labels:
                found.append(f"a model label {word!r} in “{chunk[:100]}”")
    for what, pattern in INTERNALS:
        match = pattern.search(re.sub(r"<script\b.*?</script>", "", html, flags=re.S))
        if match:
            found.append(f"{what}: …{match[0]}…")
    return found


@pytest.fixture
def demo_acme(db):
    """The demo tenant as `make run` seeds it, plus: a revoked grant (a notice for its holders), changes waiting
    for a second administrator (a role's matrix, a console grant), a custom role and a custom module with their
    Chinese names, the module's attributes named, and a resource of it."""
    from accounts import demo
    from permissions.models import Grant, Module
    from permissions.services import grants, modules, roles
    from permissions.vocabulary import Action

    demo.seed()
    with dangerously_unscoped():
        tenant = Tenant.objects.get(slug="acme")
    with tenant_scope(tenant):
        admin = User.objects.get(email="admin@acme.example")
        group_grant = Grant.objects.filter(group__name="Initech", revoked_at=None).first()
        grants.revoke(group_grant, actor=admin, reason="Contract ended")
        role = roles.create_role(actor=admin, tenant=tenant, name="Help desk", name_zh="服务台")
        roles.set_role_matrix(role, {"users": [Action.VIEW]}, actor=admin, reason="Support")
        users = Module.objects.get(key="users")
        grants.grant(actor=admin, module=users, user=User.objects.get(email="basic3@acme.example"),
                     actions=[Action.VIEW], reason="Helps onboard colleagues")  # fmt: skip
        contracts = modules.create_module(
            actor=admin, tenant=tenant, key="contracts", name="Contracts", name_zh="合同",
            sensitive_attributes=["annual_value"],
        )  # fmt: skip
        names = {"annual_value": {"en": "Annual value", "zh-hans": "年度金额"}, "renewal_date": {"zh-hans": "续约日期"}}
        modules.update_module(contracts, actor=admin, attribute_names=names)
        modules.create_resource(actor=admin, module=contracts, title="Initech framework agreement",
                                attributes={"annual_value": 120000, "renewal_date": "2027-03-31"})  # fmt: skip
    return tenant


def module_pages(tenant) -> list[tuple[str, str]]:
    """Every module's pages with a resource of it (the walk fills one module key): the workspace's list and
    detail, the console's list and detail."""
    from django.urls import reverse

    from permissions.models import Module, Resource

    urls = []
    with tenant_scope(tenant):
        for module in Module.objects.exclude(kind="system"):
            urls.append(("workspace:list", reverse("workspace:list", kwargs={"module_key": module.key})))
            urls.append(("console:module", reverse("console:module", kwargs={"module_id": module.pk})))
            resource = Resource.objects.filter(module=module).order_by("pk").first()
            if resource is not None:
                kwargs = {"module_key": module.key, "resource_id": resource.pk}
                urls.append(("workspace:detail", reverse("workspace:detail", kwargs=kwargs)))
                urls.append(("console:resource", reverse("console:resource", kwargs={"resource_id": resource.pk})))
    return urls


def crawl(tenant, email: str) -> tuple[int, list[str]]:
    """Sign in as the persona, switch to Chinese, read every HTML page of the walk: (pages read, findings)."""
    with dangerously_unscoped():
        user = User.objects.get(email=email)
    client = login(Client(), user, password="portcullis-demo")
    client.post("/accounts/language/", {"language": "zh-hans", "next": "/"})
    words = vocabulary()
    words_pattern = re.compile(
        r"(?<![A-Za-z])(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")(?![A-Za-z])",
        re.IGNORECASE,
    )
    urls = every_url(tenant) + module_pages(tenant)
    data, labels = own_data(tenant), model_labels()  # after the walk, which makes objects of its own
    pages, found = 0, []
    for name, url in urls:
        if name in NOT_SCREENS or name.startswith(("accounts:log", "accounts:set_language")):
            continue
        response = client.get(url)
        if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
            continue
        pages += 1
        found += [f"{url}: {line}" for line in findings_of(response.content.decode(), words_pattern, data, labels)]
    return pages, found


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_every_page_of_every_persona_reads_in_chinese(demo_acme, persona):
    pages, found = crawl(demo_acme, PERSONAS[persona])
    assert pages >= MINIMUM_PAGES[persona], f"{persona} read only {pages} pages"
    unique = list(dict.fromkeys(found))
    assert not unique, f"{persona}: {len(unique)} findings on {pages} pages:\n" + "\n".join(unique)


def test_the_crawl_sees_what_it_looks_for():
    """The reader is able to fail: English vocabulary, raw keys and targets, and internals are found; the
    tenant's own data, e-mail addresses and code are not."""
    words = vocabulary()
    assert {"View", "Products", "Administrator", "Basic user"} <= words
    pattern = re.compile(r"(?<![A-Za-z])(?:" + "|".join(map(re.escape, words)) + r")(?![A-Za-z])", re.I)
    html = (
        "<h1>您对 Products 的访问权限</h1><p title='角色 Administrator'>x</p><th>CUSTOMER_EMAILS</th>"
        "<td>list_price</td><td>2:grant:7</td><td>permissions.grant</td><p>{'a': 1}</p><p>状态：pending</p>"
        "<p>Quarterly View</p><p>a_b@acme.example</p><code>list_price</code>"
    )
    found = findings_of(html, pattern, ["Quarterly View"], model_labels())
    shown = "\n".join(found)
    for expected in ("Products", "Administrator", "CUSTOMER_EMAILS", "'list_price'", "2:grant:7", "permissions.grant",
                     "a Python dict", "pending"):  # fmt: skip
        assert expected in shown, shown
    assert "Quarterly" not in shown and "a_b@" not in shown, shown
    assert len([line for line in found if "list_price" in line]) == 1, shown
