"""The SAML 2.0 Web Browser SSO profile as a service provider (pysaml2, xmlsec1): AuthnRequest by HTTP-Redirect,
the answer by HTTP-POST to the provider's assertion consumer service (ACS).

``begin`` sends a request whose id is signed by the portal (an HMAC over tenant, provider, a nonce and the
time: the only answers accepted are to requests we sent, within ``REQUEST_SECONDS``; this GET writes nothing to
the database) and remembers it in the browser's session. ``receive`` (the ACS, a cross-site POST that carries no
session cookie under SameSite=Lax) checks the answer: it names a request we made for this provider (else it is
refused before any further work and not audited: anyone can POST), then pysaml2 checks the signature (of the
response or of the assertion, by a key of the provider's metadata only), Destination, Recipient, InResponseTo of
the response and of the subject confirmation, NotBefore / NotOnOrAfter within ``CLOCK_SKEW_SECONDS``, the
audience; then here: an AudienceRestriction naming us must be present, the issuer is the provider's, the request
is answered once (``SamlRequest``, written when its answer passed) and the assertion id is accepted once
(``SamlAssertion``, kept until the assertion expires). The checked claims wait on the request row; ``take`` hands
them to the browser whose session started that request (a same-site GET after the ACS's redirect), once.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import logging
import re
import secrets
import time
from datetime import UTC, datetime, timedelta

from defusedxml import ElementTree
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, SAMLError
from saml2.client import Saml2Client
from saml2.response import StatusError, UnsolicitedResponse
from saml2.saml import NAMEID_FORMAT_TRANSIENT
from saml2.sigver import SigverError
from saml2.time_util import str_to_time
from saml2.validate import ResponseLifetimeExceed, ToEarly

from sso import saml_metadata
from sso.models import SamlAssertion, SamlRequest
from sso.refusals import Refusal, SsoRefused

log = logging.getLogger(__name__)

PENDING = "portcullis_saml_pending"
REQUEST_SECONDS = 10 * 60
MAX_PENDING = 5
MAX_RESPONSE_BYTES = 500_000
CLOCK_SKEW_SECONDS = saml_metadata.CLOCK_SKEW_SECONDS
SAMLP = "{urn:oasis:names:tc:SAML:2.0:protocol}"
#: Attributes whose values are authentication methods (Entra ID), read as the OpenID Connect ``amr``.
AMR_ATTRIBUTES = ("http://schemas.microsoft.com/claims/authnmethodsreferences", "amr")


def _client(request, provider) -> Saml2Client:
    return Saml2Client(config=saml_metadata.sp_config(request.build_absolute_uri, provider))


_REQUEST_ID = re.compile(r"^id-([0-9a-f]{32})-([0-9]{10})-([0-9a-f]{64})$")


def _mac(provider, nonce: str, issued: str) -> str:
    value = f"{provider.tenant_id}:{provider.pk}:{provider.uid}:{nonce}:{issued}"
    return salted_hmac("portcullis.sso.saml.request", value, algorithm="sha256").hexdigest()


def new_request_id(provider) -> str:
    """A request id only this portal can make, for this provider, carrying when it was made (an xs:ID)."""
    nonce, issued = secrets.token_hex(16), str(int(time.time()))
    return f"id-{nonce}-{issued}-{_mac(provider, nonce, issued)}"


def issued_at(provider, request_id: str) -> int | None:
    """When the portal made ``request_id`` for ``provider``; None when it did not make it."""
    match = _REQUEST_ID.match(request_id or "")
    if match is None or not constant_time_compare(match[3], _mac(provider, match[1], match[2])):
        return None
    return int(match[2])


def begin(request, provider, *, next_url: str, purpose: str = "login", fresh: bool = False) -> str:
    """The identity provider's single sign-on URL carrying a new AuthnRequest; the request is recorded and the
    browser's session remembers it. ``fresh``: the person must sign in again there (``ForceAuthn``: the step-up)."""
    try:
        request_id, info = _client(request, provider).prepare_for_authenticate(
            entityid=provider.saml_entity_id,
            binding=BINDING_HTTP_REDIRECT,
            message_id=new_request_id(provider),
            **({"force_authn": "true"} if fresh else {}),
        )
    except saml_metadata.MetadataError:
        raise
    except Exception:
        raise saml_metadata.MetadataError(
            _("The identity provider's metadata is not valid SAML 2.0 metadata.")
        ) from None
    pending = {
        key: entry
        for key, entry in request.session.get(PENDING, {}).items()
        if time.time() - entry["at"] < REQUEST_SECONDS
    }
    for key in sorted(pending, key=lambda k: pending[k]["at"])[: max(0, len(pending) - MAX_PENDING + 1)]:
        del pending[key]
    pending[request_id] = {
        "tenant": provider.tenant_id,
        "provider": provider.pk,
        "next": next_url,
        "purpose": purpose,
        "at": time.time(),
    }
    request.session[PENDING] = pending
    return dict(info["headers"])["Location"]


def _decode(saml_response: str) -> bytes:
    if not saml_response or len(saml_response) > MAX_RESPONSE_BYTES:
        raise SsoRefused(Refusal.TOKEN)
    try:
        return base64.b64decode(saml_response, validate=False)
    except (binascii.Error, ValueError):
        raise SsoRefused(Refusal.TOKEN) from None


def answered_request_id(saml_response: str) -> str:
    """The InResponseTo of an answer, read before any other check (defusedxml); "" when it names none."""
    try:
        root = ElementTree.fromstring(_decode(saml_response))
    except Exception:  # defusedxml refuses entities and DTDs; anything unreadable is malformed
        raise SsoRefused(Refusal.TOKEN) from None
    if root.tag != f"{SAMLP}Response":
        raise SsoRefused(Refusal.TOKEN)
    return root.get("InResponseTo", "")


def _verified(request, provider, saml_response: str, request_id: str):
    """pysaml2's checks of an answer to ``request_id`` (an open request of ours); each failure named as a refusal."""
    client = _client(request, provider)
    outstanding = {request_id: ""}  # pysaml2's "outstanding queries": the one request this answer names
    try:
        response = client.parse_authn_request_response(saml_response, BINDING_HTTP_POST, outstanding)
    except UnsolicitedResponse:
        raise SsoRefused(Refusal.STATE) from None
    except StatusError:
        raise SsoRefused(Refusal.PROVIDER_ERROR) from None
    except (ResponseLifetimeExceed, ToEarly):
        raise SsoRefused(Refusal.EXPIRED) from None
    except SigverError as error:
        unsigned = "Neither the response nor the assertions are signed" in str(error)
        raise SsoRefused(Refusal.UNSIGNED if unsigned else Refusal.SIGNATURE) from None
    except SAMLError as error:
        log.info("saml answer refused: %s", error)
        raise SsoRefused(Refusal.TOKEN) from None
    except Exception as error:  # pysaml2 raises bare exceptions for conditions (audience, times)
        text = str(error)
        if "AudienceRestrictions" in text:
            raise SsoRefused(Refusal.AUDIENCE) from None
        if "Signature" in text or "signature" in text:
            raise SsoRefused(Refusal.SIGNATURE) from None
        log.info("saml answer refused: %s: %s", type(error).__name__, text)
        raise SsoRefused(Refusal.TOKEN) from None
    if response is None or response.assertion is None:
        raise SsoRefused(Refusal.TOKEN)
    return response


def _audience_named(assertion, entity_id: str) -> bool:
    conditions = assertion.conditions
    if conditions is None or not conditions.audience_restriction:
        return False
    return all(
        any((audience.text or "").strip() == entity_id for audience in restriction.audience)
        for restriction in conditions.audience_restriction
    )


def _expiry(assertion):
    """When the assertion stops being acceptable (the latest NotOnOrAfter it names), plus the clock skew."""
    times = []
    if assertion.conditions is not None and assertion.conditions.not_on_or_after:
        times.append(assertion.conditions.not_on_or_after)
    for confirmation in assertion.subject.subject_confirmation if assertion.subject else []:
        data = confirmation.subject_confirmation_data
        if data is not None and data.not_on_or_after:
            times.append(data.not_on_or_after)
    if not times:
        raise SsoRefused(Refusal.TOKEN)  # an assertion valid for ever is not accepted
    latest = max(calendar.timegm(str_to_time(value)) for value in times)
    return datetime.fromtimestamp(latest + CLOCK_SKEW_SECONDS, tz=UTC)


def _attributes(assertion) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for statement in assertion.attribute_statement:
        for attribute in statement.attribute:
            values = [value.text.strip() for value in attribute.attribute_value if value.text and value.text.strip()]
            for name in {attribute.name, attribute.friendly_name} - {None, ""}:
                found.setdefault(name, []).extend(values)
    return found


def claims_of(provider, assertion) -> dict:
    """The assertion in the words the provisioning reads (those of OpenID Connect): ``sub`` the NameID, the
    e-mail, name and groups attributes the provider names, ``acr`` the authentication context class."""
    name_id = assertion.subject.name_id if assertion.subject else None
    if name_id is None or not (name_id.text or "").strip() or name_id.format == NAMEID_FORMAT_TRANSIENT:
        raise SsoRefused(Refusal.TOKEN)  # a transient NameID names nobody from one login to the next
    attributes = _attributes(assertion)

    def first(name: str) -> str:
        values = attributes.get(name) or []
        return values[0] if values else ""

    email = first(provider.email_attribute) or (
        name_id.text.strip() if name_id.format == "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" else ""
    )
    claims = {
        "sub": name_id.text.strip(),
        # The tenant's own directory asserts the address: as verified as its accounts are.
        "email": email,
        "email_verified": bool(email),
        "name": first(provider.name_attribute),
        provider.groups_claim: attributes.get(provider.groups_claim, []),
    }
    amr = [value for name in AMR_ATTRIBUTES for value in attributes.get(name, [])]
    if amr:
        claims["amr"] = amr
    for statement in assertion.authn_statement:
        context = statement.authn_context
        if context is not None and context.authn_context_class_ref is not None:
            claims["acr"] = (context.authn_context_class_ref.text or "").strip()
        if statement.authn_instant:  # when the person signed in at the provider (the step-up's freshness)
            claims["auth_time"] = calendar.timegm(str_to_time(statement.authn_instant))
    return claims


def _remember_assertion(provider, assertion) -> None:
    """Accept the assertion's id once: kept until the assertion expires (expired ones are dropped here)."""
    if not assertion.id:
        raise SsoRefused(Refusal.TOKEN)
    now = timezone.now()
    SamlAssertion.objects.filter(provider=provider, expires_at__lt=now).delete()
    try:
        with transaction.atomic():
            SamlAssertion.objects.create(
                tenant=provider.tenant,
                provider=provider,
                assertion_id=assertion.id[:200],
                expires_at=_expiry(assertion),
            )
    except IntegrityError:
        raise SsoRefused(Refusal.REPLAY) from None


@transaction.atomic
def receive(request, provider, saml_response: str) -> SamlRequest:
    """Check the answer posted to the ACS (inside the provider's tenant scope); its request row, answered, with
    the claims. Raises SsoRefused: ``Refusal.STATE`` when it answers no open request of this provider."""
    try:
        request_id = answered_request_id(saml_response)
    except SsoRefused as refused:
        raise SsoRefused(refused.reason, noise=True) from None
    issued = issued_at(provider, request_id)
    if issued is None:
        raise SsoRefused(Refusal.STATE)
    if SamlRequest.objects.filter(provider=provider, request_id=request_id).exists():
        raise SsoRefused(Refusal.REPLAY)  # only who saw the answer knows the request's id: recorded
    if not -CLOCK_SKEW_SECONDS <= time.time() - issued < REQUEST_SECONDS:
        raise SsoRefused(Refusal.STALE)
    response = _verified(request, provider, saml_response, request_id)
    assertion = response.assertion
    if response.in_response_to != request_id:
        raise SsoRefused(Refusal.STATE)
    if not _audience_named(assertion, saml_metadata.sp_entity_id(request.build_absolute_uri, provider)):
        raise SsoRefused(Refusal.AUDIENCE)
    if assertion.issuer is None or (assertion.issuer.text or "").strip() != provider.saml_entity_id:
        raise SsoRefused(Refusal.ISSUER)
    claims = claims_of(provider, assertion)
    now = timezone.now()
    SamlRequest.objects.filter(provider=provider, answered_at__lt=now - timedelta(days=1)).delete()
    try:
        with transaction.atomic():  # the request is answered once (the same answer posted twice at once)
            answered = SamlRequest.objects.create(
                tenant=provider.tenant,
                provider=provider,
                request_id=request_id,
                created_at=datetime.fromtimestamp(issued, tz=UTC),
                answered_at=now,
                claims=claims,
            )
    except IntegrityError:
        raise SsoRefused(Refusal.REPLAY) from None
    _remember_assertion(provider, assertion)
    return answered


def take(request, provider, request_id: str) -> tuple[dict, dict]:
    """(the session's entry of this sign-in, its checked claims), once, in the browser that started it."""
    pending = request.session.get(PENDING, {})
    entry = pending.pop(request_id, None) if request_id else None
    request.session[PENDING] = pending
    if entry is None or entry["tenant"] != provider.tenant_id or entry["provider"] != provider.pk:
        raise SsoRefused(Refusal.STATE)
    with transaction.atomic():
        row = (
            SamlRequest.objects.select_for_update()
            .filter(provider=provider, request_id=request_id, answered_at__isnull=False, finished_at__isnull=True)
            .first()
        )
        if row is None:
            raise SsoRefused(Refusal.STATE)
        if timezone.now() - row.created_at >= timedelta(seconds=REQUEST_SECONDS):
            raise SsoRefused(Refusal.STALE)
        row.finished_at = timezone.now()
        claims, row.claims = row.claims, None  # the claims are not kept once used
        row.save(update_fields=["finished_at", "claims"])
    return entry, claims
