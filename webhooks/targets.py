"""Where a webhook may go (SSRF): https only in production, public addresses only, checked again at send.

``WEBHOOKS_ALLOW_HTTP`` (default: on when PORTCULLIS_HTTPS is off) allows plain http;
``WEBHOOKS_ALLOW_PRIVATE_TARGETS`` (default off; the tests turn it on) allows loopback, private, link-local
and other non-public addresses. The host is resolved when the subscription is saved and again by every
delivery run (once a run: the run's connections are reused, webhooks.transport.Connections), and the
connection goes to the address that was checked (no second look-up an attacker's DNS could answer differently).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class TargetRefused(ValueError):
    """The URL may not receive webhooks; the message says why."""


def _allowed_address(text: str) -> bool:
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of an acceptable URL; raises TargetRefused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused(_("This is not a valid URL.")) from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        raise TargetRefused(_("The URL must start with https://."))
    if scheme == "http" and not settings.WEBHOOKS_ALLOW_HTTP:
        raise TargetRefused(_("The URL must start with https://."))
    if parts.username or parts.password:
        raise TargetRefused(_("The URL may not carry a user name or password."))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80), path


def resolve(host: str, port: int) -> str:
    """The address to connect to; raises TargetRefused for an unknown host or a non-public address."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise TargetRefused(_("The host name does not resolve.")) from None
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise TargetRefused(_("The host name does not resolve."))
    if not settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS and not all(_allowed_address(a) for a in addresses):
        # Every address must be public: a name that resolves to one public and one private address is refused.
        raise TargetRefused(_("The host resolves to a private or local address."))
    return addresses[0]


def check(url: str) -> None:
    """Raise TargetRefused when ``url`` may not receive webhooks (when a subscription is saved)."""
    _scheme, host, port, _path = parse(url)
    resolve(host, port)
