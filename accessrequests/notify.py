"""Telling a user what happened: a notice in the portal and an e-mail sent once the change commits."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.mail import send_mail, send_mass_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accessrequests.models import Notice

logger = logging.getLogger("portcullis.notices")

#: Notice kinds that other apps word and link themselves (kind → (text, link)), e.g. appeals.notices.
_KINDS: dict[str, tuple[Callable[[dict], str], Callable[[dict], str]]] = {}


def register_kind(kind: str, text: Callable[[dict], str], link: Callable[[dict], str]) -> None:
    """Let an app word a notice kind of its own (``text(params)``, in the active language) and say where it
    points (``link(params)``, a path). Registering again replaces."""
    _KINDS[kind] = (text, link)


def _when(value: str | None) -> str:
    if not value:
        return ""
    from datetime import datetime

    return date_format(timezone.localtime(datetime.fromisoformat(value)), "DATETIME_FORMAT")


def _resource_name(resource, reader) -> str:
    """A resource's title when the reader may view it (through the read door); else which module's item it is."""
    from permissions.models import Resource
    from permissions.vocabulary import Action

    if reader is not None and Resource.objects.filter(pk=resource.pk).restrict(reader, Action.VIEW).exists():
        return resource.title
    return _("an item of %(module)s (#%(id)s)") % {"module": resource.module.display_name, "id": resource.pk}


def live_target(kind: str, params: dict, reader=None) -> str | None:
    """What the notice is about, named today in the active language (a module's name in the reader's language,
    a resource by its title); None when it no longer exists or cannot be read here (then the recorded text)."""
    from accessrequests.models import AccessRequest
    from accounts.scoping import ScopeError
    from permissions.models import Grant

    try:
        if params.get("request"):
            found = AccessRequest.objects.filter(pk=params["request"]).select_related("module", "resource__module")
        elif kind == Notice.Kind.GRANT_EXPIRING and params.get("grant"):
            found = Grant.objects.filter(pk=params["grant"]).select_related("module", "resource__module")
        else:
            return None
        row = found.first()
    except ScopeError:  # outside a tenant's scope (an e-mail sent after the commit): the recorded text
        return None
    if row is None:
        return None
    if row.resource_id is None:
        return str(row.module.display_name)
    if isinstance(row, Grant):  # the holder was given this very resource: its title is theirs to read
        return f"{row.module.display_name}: {row.resource.title}"
    return _resource_name(row.resource, reader)


def notice_text(kind: str, params: dict, reader=None) -> str:
    """The notice in a sentence, in the active language (``reader``: who reads it, for a resource's title)."""
    if kind in _KINDS:
        return _KINDS[kind][0](params)
    values = {**params, "when": _when(params.get("when"))}
    values["target"] = live_target(kind, params, reader) or params.get("target", "")
    if kind == Notice.Kind.REQUEST_EXPIRING:
        return (
            _(
                "Your access request #%(request)s for %(target)s is still undecided and expires on %(when)s. "
                "If it expires, you can ask again."
            )
            % values
        )
    if kind == Notice.Kind.APPROVED:
        return _("Your access request #%(request)s for %(target)s was approved; it lasts until %(when)s.") % values
    if kind == Notice.Kind.DENIED:
        return _("Your access request #%(request)s for %(target)s was denied: %(reason)s") % values
    if kind == Notice.Kind.EXPIRED:
        return _("Your access request #%(request)s for %(target)s expired before anyone decided it.") % values
    return (
        _("Your access to %(target)s (grant #%(grant)s) ends on %(when)s. You can ask to extend it from My access.")
        % values
    )


def notice_link(kind: str, params: dict) -> str:
    """Where the notice points in the portal."""
    if kind in _KINDS:
        return _KINDS[kind][1](params)
    if kind == Notice.Kind.GRANT_EXPIRING:
        return reverse("accessrequests:new") + f"?extend={params.get('grant')}"
    return reverse("accessrequests:detail", kwargs={"request_id": params.get("request")})


def notify(user, kind: str, params: dict) -> Notice:
    """Leave a notice for ``user`` and e-mail it once the current transaction commits."""
    notice = Notice.objects.create(tenant_id=user.tenant_id, user=user, kind=kind, params=params)
    email, language = user.email, user.language or settings.LANGUAGE_CODE
    link = settings.PORTCULLIS_BASE_URL.rstrip("/") + notice_link(kind, params)

    with translation.override(language):  # worded now, inside the tenant's scope; sent after the commit
        subject = str(Notice.Kind(kind).label)
        body = f"{notice_text(kind, params, user)}\n\n{link}\n"

    def send():
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])

    transaction.on_commit(send)
    return notice


def _send_all(messages: list[tuple]) -> None:
    try:
        send_mass_mail(messages, fail_silently=False)
    except Exception:  # a mail outage must not undo the change that was told; it is logged for the operator
        logger.exception("notices not sent")


def notify_many(users, kind: str, params: dict) -> int:
    """``notify`` for many users at once: one insert, and the e-mails in one batch after the commit."""
    users = [u for u in users if u.is_active and u.tenant_id]
    if not users:
        return 0
    Notice.objects.bulk_create(Notice(tenant_id=u.tenant_id, user=u, kind=kind, params=params) for u in users)
    link = settings.PORTCULLIS_BASE_URL.rstrip("/") + notice_link(kind, params)
    messages = []
    for user in users:
        with translation.override(user.language or settings.LANGUAGE_CODE):
            body = f"{notice_text(kind, params, user)}\n\n{link}\n"
            messages.append((str(Notice.Kind(kind).label), body, settings.DEFAULT_FROM_EMAIL, [user.email]))
    transaction.on_commit(lambda: _send_all(messages))
    return len(users)
