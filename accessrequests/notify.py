"""Telling a user what happened: a notice in the portal and an e-mail sent once the change commits."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accessrequests.models import Notice


def _when(value: str | None) -> str:
    if not value:
        return ""
    from datetime import datetime

    return date_format(timezone.localtime(datetime.fromisoformat(value)), "DATETIME_FORMAT")


def notice_text(kind: str, params: dict) -> str:
    """The notice in a sentence, in the active language."""
    values = {**params, "when": _when(params.get("when"))}
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
    if kind == Notice.Kind.GRANT_EXPIRING:
        return reverse("accessrequests:new") + f"?extend={params.get('grant')}"
    return reverse("accessrequests:detail", kwargs={"request_id": params.get("request")})


def notify(user, kind: str, params: dict) -> Notice:
    """Leave a notice for ``user`` and e-mail it once the current transaction commits."""
    notice = Notice.objects.create(tenant_id=user.tenant_id, user=user, kind=kind, params=params)
    email, language = user.email, user.language or settings.LANGUAGE_CODE
    link = settings.PORTCULLIS_BASE_URL.rstrip("/") + notice_link(kind, params)

    def send():
        with translation.override(language):
            subject = str(Notice.Kind(kind).label)
            body = f"{notice_text(kind, params)}\n\n{link}\n"
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])

    transaction.on_commit(send)
    return notice
