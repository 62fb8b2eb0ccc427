"""The WebAuthn relying party: its id and the origins a ceremony may come from, from settings.

``PASSKEY_RP_ID`` and ``PASSKEY_ORIGINS`` (environment, docs/passkeys.md); when unset, both follow
``PORTCULLIS_BASE_URL``. An IP address cannot be a relying party id (WebAuthn §5.1.3 requires a domain), so the
embedded default ``http://127.0.0.1:8000`` becomes ``localhost`` (open the portal at http://localhost:8000 to
use passkeys there). Browsers allow WebAuthn on https origins and on http://localhost only.

A misconfiguration is reported by the system check ``accounts.passkeys.E001`` at start-up.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

RP_NAME = "Portcullis"


def _base_url_parts() -> tuple[str, str]:
    parts = urlsplit(settings.PORTCULLIS_BASE_URL)
    host = parts.hostname or "localhost"
    if _is_ip(host):
        host = "localhost"
    port = f":{parts.port}" if parts.port else ""
    return host, f"{parts.scheme or 'http'}://{host}{port}"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def rp_id() -> str:
    """The relying party id: a domain (``portal.example.com``), never an address."""
    return (getattr(settings, "PASSKEY_RP_ID", "") or _base_url_parts()[0]).lower()


def origins() -> list[str]:
    """The origins (``https://portal.example.com``) a registration or sign-in may come from."""
    configured = list(getattr(settings, "PASSKEY_ORIGINS", []) or [])
    return [o.rstrip("/") for o in configured] or [_base_url_parts()[1]]


def problems() -> list[str]:
    """What is wrong with the relying party settings (empty when they can work)."""
    found = []
    rid = rp_id()
    if _is_ip(rid) or "." not in rid and rid != "localhost":
        found.append(f"PASSKEY_RP_ID {rid!r} must be a domain name (or localhost), not an address")
    for origin in origins():
        parts = urlsplit(origin)
        host = (parts.hostname or "").lower()
        if parts.scheme != "https" and host != "localhost":
            found.append(f"passkey origin {origin!r} must be https (http only on localhost)")
        if host != rid and not host.endswith(f".{rid}"):
            found.append(f"passkey origin {origin!r} is not on the relying party id {rid!r} or under it")
    return found


@checks.register(checks.Tags.security)
def check_relying_party(app_configs=None, **kwargs):
    return [
        checks.Error(
            problem, hint="Set PASSKEY_RP_ID and PASSKEY_ORIGINS (docs/passkeys.md).", id="accounts.passkeys.E001"
        )
        for problem in problems()
    ]
