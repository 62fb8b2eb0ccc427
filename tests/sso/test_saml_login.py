"""SAML 2.0 sign-in against a real identity provider (pysaml2's IdP in its own process, signing with xmlsec1):
provisioning with the mapped role, each refusal with its page and its audit event, replay, the browser that
started the sign-in, tenant isolation, the portal's metadata."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from accounts.models import User
from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from permissions.models import BuiltinRole
from sso import saml, services
from sso.models import ExternalIdentity, SamlAssertion, SamlRequest
from tests.factories import UserFactory


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def start(client: Client, tenant: str = "acme") -> str:
    response = client.get(f"/sso/{tenant}/corp/start/")
    assert response.status_code == 302, response.content[:300]
    return response["Location"]


def answer_of(client: Client, idp, login: str, *, tenant: str = "acme", fault: str = "", mfa: bool = False):
    """Start at the portal, sign in at the IdP: (the ACS URL, the fields the IdP's page posts there)."""
    location = start(client, tenant)
    idp.fault(fault)
    return idp.authorize(location, login, mfa=mfa)


def post_answer(client: Client, acs: str, fields: dict):
    """Post the answer to the ACS; when it is accepted, follow on to the finish as the browser would."""
    response = client.post(path_of(acs), fields)
    if response.status_code == 303:
        return client.get(response["Location"])
    return response


def saml_login(client: Client, idp, login: str, **kwargs):
    acs, fields = answer_of(client, idp, login, **kwargs)
    return post_answer(client, acs, fields)


def logged_in_user(client: Client):
    response = client.get("/accounts/security/history/")
    return response.wsgi_request.user if response.status_code == 200 else None


def events(tenant, event_type) -> list:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(event_type=event_type).order_by("seq"))


def test_the_portal_metadata_names_its_entity_id_and_its_post_acs(acme_saml):
    document = Client().get("/sso/acme/corp/saml/metadata/").content.decode()
    assert 'entityID="http://testserver/sso/acme/corp/saml/metadata/"' in document
    assert 'Location="http://testserver/sso/acme/corp/saml/acs/"' in document
    assert "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" in document
    assert 'WantAssertionsSigned="true"' in document


def test_the_request_goes_to_the_idp_and_writes_nothing_but_the_session(acme, acme_saml, saml_idp):
    client = Client()
    location = start(client)
    assert location.startswith(f"{saml_idp.base}/sso/redirect?") and "SAMLRequest" in parse_qs(urlsplit(location).query)
    [request_id] = client.session[saml.PENDING]
    assert saml.issued_at(acme_saml, request_id) is not None
    assert saml.issued_at(acme_saml, request_id.replace("-", "-0", 1)) is None
    with tenant_scope(acme):
        assert not SamlRequest.objects.exists()


def test_a_first_login_provisions_the_mapped_role(acme, acme_saml, saml_idp):
    with tenant_scope(acme):
        services.set_mappings(acme_saml, [{"group": "auditors", "role": BuiltinRole.ADVANCED}], actor=None)
    client = Client()
    response = saml_login(client, saml_idp, "bob")
    assert response.status_code == 302 and response["Location"] == "/", response.content[:500]
    with tenant_scope(acme):
        bob = User.objects.get(email="bob@acme-corp.test")
        assert bob.role.key == BuiltinRole.ADVANCED and bob.full_name == "Bob" and not bob.has_usable_password()
        assert ExternalIdentity.objects.get(user=bob).subject == "bob"
        assert SamlAssertion.objects.filter(provider=acme_saml).count() == 1
    assert logged_in_user(client) == bob
    assert [event.after["factor"] for event in events(acme, EventType.LOGIN_SUCCEEDED)] == ["saml:corp"]
    assert "Single sign-on (SAML: corp)" in client.get("/accounts/security/history/").content.decode()


def test_a_changed_mapping_changes_the_role_at_the_next_login_audited(acme, acme_saml, saml_idp):
    saml_login(Client(), saml_idp, "bob")
    with tenant_scope(acme):
        services.set_mappings(acme_saml, [{"group": "auditors", "role": BuiltinRole.ADVANCED}], actor=None)
    saml_login(Client(), saml_idp, "bob")
    changed = events(acme, EventType.USER_ROLE_CHANGED)
    assert [(e.before, e.after, e.reason) for e in changed] == [
        ({"role": BuiltinRole.BASIC}, {"role": BuiltinRole.ADVANCED}, "single sign-on mapping of saml:corp")
    ]


def test_a_response_signed_instead_of_the_assertion_is_accepted(acme, acme_saml, saml_idp):
    client = Client()
    response = saml_login(client, saml_idp, "alice", fault="sign-response")
    assert response.status_code == 302
    assert logged_in_user(client).email == "alice@acme-corp.test"


def test_the_providers_mfa_counts_when_the_tenant_says_so(acme, acme_saml, saml_idp):
    with tenant_scope(acme):
        services.update_provider(acme_saml, actor=None, provider_mfa=True)
    saml_login(Client(), saml_idp, "alice", mfa=True)
    saml_login(Client(), saml_idp, "bob")
    factors = [event.after["factor"] for event in events(acme, EventType.LOGIN_SUCCEEDED)]
    assert factors == ["saml:corp+mfa", "saml:corp"]


@pytest.mark.parametrize(
    ("fault", "reason", "words"),
    [
        ("tamper", "signature", "signature is not valid"),
        ("unsigned", "unsigned", "accepts only signed assertions"),
        ("audience", "audience", "issued for another application"),
        ("expired", "expired", "has expired"),
    ],
)
def test_a_spoiled_answer_is_refused_with_a_page_and_audited(acme, acme_saml, saml_idp, fault, reason, words):
    client = Client()
    response = saml_login(client, saml_idp, "alice", fault=fault)
    assert response.status_code == 403
    assert words in response.content.decode()
    assert logged_in_user(client) is None
    with tenant_scope(acme):
        assert not User.objects.filter(email="alice@acme-corp.test").exists()
        assert not User.objects.filter(email__startswith="administrators").exists()
    refused = events(acme, EventType.SSO_LOGIN_REFUSED)
    assert [event.after for event in refused] == [{"method": "saml:corp", "reason": reason}]


def test_the_tampered_answer_would_have_given_another_role(acme, acme_saml, saml_idp):
    """The tamper test changes a group the mapping reads: a portal that skipped the signature would grant it."""
    with tenant_scope(acme):
        services.set_mappings(acme_saml, [{"group": "administrators", "role": BuiltinRole.ADVANCED}], actor=None)
        assert not User.objects.filter(role__key=BuiltinRole.ADVANCED).exists()
    assert saml_login(Client(), saml_idp, "alice", fault="tamper").status_code == 403
    with tenant_scope(acme):
        assert not User.objects.filter(role__key=BuiltinRole.ADVANCED).exists()


def test_a_replayed_answer_is_refused(acme, acme_saml, saml_idp):
    first = Client()
    acs, fields = answer_of(first, saml_idp, "alice")
    assert post_answer(first, acs, fields).status_code == 302
    again = Client()
    response = again.post(path_of(acs), fields)
    assert response.status_code == 403 and "already used" in response.content.decode()
    assert logged_in_user(again) is None
    assert [event.after["reason"] for event in events(acme, EventType.SSO_LOGIN_REFUSED)] == ["replay"]


def test_an_assertion_id_is_accepted_once(acme, acme_saml, saml_idp):
    """A signed assertion carrying the id of one already accepted (under a new request) is refused."""
    assert saml_login(Client(), saml_idp, "alice").status_code == 302
    client = Client()
    response = saml_login(client, saml_idp, "alice", fault="replay-id")
    assert response.status_code == 403 and "already used" in response.content.decode()
    assert logged_in_user(client) is None
    assert [event.after["reason"] for event in events(acme, EventType.SSO_LOGIN_REFUSED)] == ["replay"]


def test_an_answer_is_taken_only_by_the_browser_that_started_the_sign_in(acme, acme_saml, saml_idp):
    """Login CSRF: the attacker's own answer posted from the victim's browser signs nobody in there."""
    acs, fields = answer_of(Client(), saml_idp, "alice")  # the attacker's sign-in
    victim = Client()
    response = post_answer(victim, acs, fields)
    assert response.status_code == 403 and "started in this browser" in response.content.decode()
    assert logged_in_user(victim) is None


def test_an_answer_to_no_request_of_ours_is_refused_and_not_recorded(acme, acme_saml, saml_idp):
    client = Client()
    for body in ({"SAMLResponse": "not base64 at all"}, {"SAMLResponse": ""}, {}):
        response = client.post("/sso/acme/corp/saml/acs/", body)
        assert response.status_code == 403 and "incomplete or malformed" in response.content.decode()
    acs, fields = answer_of(Client(), saml_idp, "alice")
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    request_id = re.search(r'InResponseTo="([^"]+)"', xml).group(1)
    forged = request_id[:-8] + "00000000"  # an id the portal did not make
    fields["SAMLResponse"] = base64.b64encode(xml.replace(request_id, forged).encode()).decode()
    response = client.post(path_of(acs), fields)
    assert response.status_code == 403 and "does not belong to a sign-in" in response.content.decode()
    assert events(acme, EventType.SSO_LOGIN_REFUSED) == []


def test_an_assertion_for_another_tenant_signs_nobody_in_here(acme, globex, acme_saml, globex_saml, saml_idp):
    client = Client()
    acs, fields = answer_of(client, saml_idp, "alice", tenant="globex")
    assert acs == "http://testserver/sso/globex/corp/saml/acs/"
    response = post_answer(client, "http://testserver/sso/acme/corp/saml/acs/", fields)
    assert response.status_code == 403
    assert logged_in_user(client) is None
    with tenant_scope(acme):
        assert not User.objects.filter(email="alice@acme-corp.test").exists()
    # The same answer, where it belongs, is good (and nothing of acme's took part).
    assert post_answer(client, acs, fields).status_code == 302
    with tenant_scope(globex):
        assert User.objects.get(email="alice@acme-corp.test").tenant_id == globex.pk
    with tenant_scope(acme):
        assert not User.objects.filter(email="alice@acme-corp.test").exists()


def test_a_session_of_another_tenant_cannot_start_or_answer_here(acme, globex, acme_saml, saml_idp):
    client = Client()
    client.force_login(UserFactory(tenant=globex))
    assert client.get("/sso/acme/corp/start/").status_code == 404
    assert client.post("/sso/acme/corp/saml/acs/", {"SAMLResponse": "x"}).status_code == 404


def test_an_oidc_provider_has_no_saml_endpoints(acme, acme_saml):
    with tenant_scope(acme):
        acme_saml.protocol = "oidc"
        acme_saml.save(update_fields=["protocol"])
    assert Client().get("/sso/acme/corp/saml/metadata/").status_code == 404
    assert Client().post("/sso/acme/corp/saml/acs/", {}).status_code == 404


def test_an_inactive_users_sign_in_is_refused(acme, acme_saml, saml_idp):
    saml_login(Client(), saml_idp, "alice")
    with tenant_scope(acme):
        User.objects.filter(email="alice@acme-corp.test").update(is_active=False)
    client = Client()
    response = saml_login(client, saml_idp, "alice")
    assert response.status_code == 403 and logged_in_user(client) is None
