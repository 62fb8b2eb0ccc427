"""Reading a provider: its discovery document and its signing keys, over https to public addresses only.

``SSO_ALLOW_HTTP_ISSUERS`` (on when PORTCULLIS_HTTPS is off) allows plain http; ``SSO_ALLOW_PRIVATE_ISSUERS``
(off by default; the tests and an on-premises provider turn it on) allows loopback and private addresses.
Documents are kept in this process for ``CACHE_SECONDS``; the keys are read again once when a token names a
key the cached set does not hold (the provider rotated its keys).
"""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils.translation import gettext as _

from webhooks.targets import _allowed_address

CACHE_SECONDS = 300
TIMEOUT_SECONDS = 5
_cache: dict[str, tuple[float, dict]] = {}


class ProviderUnavailable(Exception):
    """The provider could not be read, or may not be read; the message says why."""


def check_url(url: str) -> None:
    """Raise ProviderUnavailable unless ``url`` may be fetched (https, a public address)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and settings.SSO_ALLOW_HTTP_ISSUERS):
        raise ProviderUnavailable(_("The provider's address must start with https://."))
    if not parts.hostname or parts.username or parts.password:
        raise ProviderUnavailable(_("This is not a valid provider address."))
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise ProviderUnavailable(_("The provider's host name does not resolve.")) from None
    if not settings.SSO_ALLOW_PRIVATE_ISSUERS and not all(_allowed_address(info[4][0]) for info in infos):
        raise ProviderUnavailable(_("The provider's host resolves to a private or local address."))


def get_json(url: str) -> dict:
    check_url(url)
    try:
        response = requests.get(url, timeout=TIMEOUT_SECONDS, allow_redirects=False)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError):
        raise ProviderUnavailable(_("The identity provider did not answer.")) from None
    if not isinstance(document, dict):
        raise ProviderUnavailable(_("The identity provider answered something else than expected."))
    return document


def _cached(url: str, *, fresh: bool = False) -> dict:
    now = time.monotonic()
    hit = _cache.get(url)
    if hit is not None and not fresh and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    document = get_json(url)
    _cache[url] = (now, document)
    return document


def metadata(issuer: str) -> dict:
    """The provider's discovery document (OpenID Connect Discovery 1.0), whose issuer must be ``issuer``."""
    document = _cached(issuer.rstrip("/") + "/.well-known/openid-configuration")
    if document.get("issuer") != issuer:
        raise ProviderUnavailable(_("The provider's discovery document names another issuer."))
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(document.get(key), str):
            raise ProviderUnavailable(_("The provider's discovery document is incomplete."))
    return document


def keys(issuer: str, *, fresh: bool = False) -> dict:
    """The provider's signing keys (a JWK set)."""
    return _cached(metadata(issuer)["jwks_uri"], fresh=fresh)


def forget(issuer: str) -> None:
    """Drop what this process remembers of ``issuer`` (after its settings changed)."""
    for url in [url for url in _cache if url.startswith(issuer.rstrip("/"))]:
        _cache.pop(url, None)
