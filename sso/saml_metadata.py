"""SAML 2.0 metadata: the identity provider's (pasted, or read from its URL over https to a public address), checked
when a provider is saved, and the portal's own service-provider metadata of a tenant's provider (per tenant and
provider: its entity id is the URL it is served at)."""

from __future__ import annotations

import shutil

import requests
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor

from sso import endpoints

MAX_METADATA_BYTES = 1_000_000
#: How far the clocks of the identity provider and the portal may differ (NotBefore, NotOnOrAfter, IssueInstant).
CLOCK_SKEW_SECONDS = 60


class MetadataError(Exception):
    """The identity provider's metadata cannot be used; the message says why."""


def sp_entity_id(build_uri, provider) -> str:
    """The portal's entity id for ``provider``: the absolute URL of its SP metadata (``build_uri`` is
    ``request.build_absolute_uri``). It names the tenant and the provider, so an assertion made for one
    tenant's portal is never for another's (audience)."""
    kwargs = {"tenant_slug": provider.tenant.slug, "provider_slug": provider.slug}
    return build_uri(reverse("sso:saml_metadata", kwargs=kwargs))


def acs_url(build_uri, provider) -> str:
    kwargs = {"tenant_slug": provider.tenant.slug, "provider_slug": provider.slug}
    return build_uri(reverse("sso:saml_acs", kwargs=kwargs))


def xmlsec_binary() -> str:
    found = shutil.which("xmlsec1")
    if found is None:
        raise MetadataError(_("The xmlsec1 program is not installed on the server."))
    return found


def _config(entity_id: str, acs: str, metadata: str) -> SPConfig:
    """pysaml2's service-provider configuration: answers by HTTP-POST to ``acs`` only, signed assertions or a
    signed response required, no unsolicited answers, keys of the identity provider's metadata only."""
    config = SPConfig()
    config.load(
        {
            "entityid": entity_id,
            "xmlsec_binary": xmlsec_binary(),
            "metadata": {"inline": [metadata]} if metadata else {},
            "accepted_time_diff": CLOCK_SKEW_SECONDS,
            "allow_unknown_attributes": True,
            "service": {
                "sp": {
                    "endpoints": {"assertion_consumer_service": [(acs, BINDING_HTTP_POST)]},
                    "allow_unsolicited": False,
                    "authn_requests_signed": False,
                    "want_response_signed": False,
                    "want_assertions_signed": False,
                    "want_assertions_or_response_signed": True,
                    "only_use_keys_in_metadata": True,
                }
            },
        }
    )
    return config


def sp_config(build_uri, provider, *, idp_metadata: str | None = None) -> SPConfig:
    metadata = provider.saml_metadata if idp_metadata is None else idp_metadata
    return _config(sp_entity_id(build_uri, provider), acs_url(build_uri, provider), metadata)


def sp_metadata(build_uri, provider) -> str:
    """The portal's service-provider metadata for ``provider`` (entity id, ACS with the HTTP-POST binding)."""
    descriptor = entity_descriptor(sp_config(build_uri, provider, idp_metadata=""))
    sp = descriptor.spsso_descriptor
    for role in sp if isinstance(sp, list) else [sp]:
        role.want_assertions_signed = "true"  # a signed response is accepted too (signed assertions are asked)
    return str(descriptor)


def read_idp(metadata: str) -> str:
    """The entity id of the one identity provider ``metadata`` describes, once it names a signing certificate
    and a single sign-on service with the HTTP-Redirect binding; raises MetadataError naming what is wrong."""
    if not metadata.strip():
        raise MetadataError(_("Paste the identity provider's metadata or give its URL."))
    if len(metadata.encode()) > MAX_METADATA_BYTES:
        raise MetadataError(_("The identity provider's metadata is too large."))
    try:
        store = _config("https://portal.invalid/sp", "https://portal.invalid/acs", metadata).metadata
        idps = list(store.identity_providers())
    except MetadataError:
        raise
    except Exception:  # pysaml2 raises many kinds for a document it cannot read
        raise MetadataError(_("The identity provider's metadata is not valid SAML 2.0 metadata.")) from None
    if len(idps) != 1:
        raise MetadataError(_("The metadata must describe exactly one identity provider."))
    entity_id = idps[0]
    if not store.certs(entity_id, "idpsso", "signing"):
        raise MetadataError(_("The identity provider's metadata names no signing certificate."))
    try:
        store.single_sign_on_service(entity_id, BINDING_HTTP_REDIRECT)[0]
    except Exception:
        raise MetadataError(
            _("The identity provider's metadata names no single sign-on service with the HTTP-Redirect binding.")
        ) from None
    return entity_id


def fetch(url: str) -> str:
    """The metadata document at ``url`` (https and a public address, as for OpenID Connect issuers)."""
    try:
        endpoints.check_url(url)
    except endpoints.ProviderUnavailable as refused:
        raise MetadataError(str(refused)) from None
    try:
        with requests.get(url, timeout=endpoints.TIMEOUT_SECONDS, allow_redirects=False, stream=True) as response:
            response.raise_for_status()
            body = response.raw.read(MAX_METADATA_BYTES + 1, decode_content=True)
    except requests.RequestException:
        raise MetadataError(_("The identity provider did not answer.")) from None
    if len(body) > MAX_METADATA_BYTES:
        raise MetadataError(_("The identity provider's metadata is too large."))
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise MetadataError(_("The identity provider's metadata is not valid SAML 2.0 metadata.")) from None


def check(provider) -> None:
    """Fill ``provider.saml_metadata`` (from its URL when one is given) and ``saml_entity_id``; raise
    ValidationError naming the field at fault."""
    field = "saml_metadata_url" if provider.saml_metadata_url else "saml_metadata"
    try:
        if provider.saml_metadata_url:
            provider.saml_metadata = fetch(provider.saml_metadata_url)
        provider.saml_entity_id = read_idp(provider.saml_metadata)
    except MetadataError as error:
        raise ValidationError({field: str(error)}) from None
