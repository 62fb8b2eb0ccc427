"""Django integration for the tenant's own applications.

Settings: ``PORTCULLIS = {"URL": "https://portcullis.example", "TOKEN": "pck_…", "WEBHOOK_SECRET": "whsec_…",
"TIMEOUT": 5, "CACHE_TTL": 1, "SUBJECT": "portcullis_id"}``. ``SUBJECT`` names the attribute of
``request.user`` that holds the Portcullis user id (or is a callable ``request -> id | None``).

- ``@permission_required("export", "reports")``: 403 unless Portcullis allows it (fail closed: also when
  the portal cannot answer). The target may be a callable ``(request, *args, **kwargs) -> target``.
- ``webhook``: a view that verifies a Portcullis webhook and empties the cache (mount it at the URL the
  tenant's webhook subscription points to).
- The ``{% portcullis_can %}`` template tag: add ``"portcullis_client"`` to INSTALLED_APPS.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from portcullis_client.client import Client, PortcullisError, Target

_clients: dict[tuple, Client] = {}


def get_client() -> Client:
    """The process's client for ``settings.PORTCULLIS`` (one per configuration)."""
    config = settings.PORTCULLIS
    key = (config["URL"], config["TOKEN"], config.get("WEBHOOK_SECRET"), config.get("CACHE_TTL", 1.0))
    if key not in _clients:
        _clients[key] = Client(
            config["URL"],
            config["TOKEN"],
            timeout=float(config.get("TIMEOUT", 5.0)),
            cache_ttl=float(config.get("CACHE_TTL", 1.0)),
            webhook_secret=config.get("WEBHOOK_SECRET"),
        )
    return _clients[key]


def subject_of(request: HttpRequest) -> int | None:
    """The Portcullis user id of the request's user (None when anonymous or unknown)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    chosen = settings.PORTCULLIS.get("SUBJECT", "portcullis_id")
    value = chosen(request) if callable(chosen) else getattr(user, chosen, None)
    return int(value) if value is not None else None


def allowed(request: HttpRequest, action: str, target: Target) -> bool:
    """Portcullis's answer for the request's user; False when there is no subject or no answer."""
    subject = subject_of(request)
    if subject is None:
        return False
    try:
        return get_client().check(subject, action, target)
    except PortcullisError:
        return False


def permission_required(action: str, target: Target | Callable[..., Target]) -> Callable:
    """A view decorator: PermissionDenied (403) unless Portcullis allows ``action`` on ``target``."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            resolved = target(request, *args, **kwargs) if callable(target) else target
            if not allowed(request, action, resolved):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return checked

    return decorate


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """Verify a Portcullis webhook and empty the answer cache: 204, or 400 for a bad signature."""
    try:
        get_client().handle_webhook(request.body, dict(request.headers))
    except Exception:  # noqa: BLE001 (any verification failure is the sender's problem: 400, nothing cleared)
        return HttpResponse(status=400)
    return HttpResponse(status=204)
