"""E-mail notices to reviewers (sent after the commit, never before; console backend in the demo)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User

logger = logging.getLogger("portcullis.reviews")


def _send(messages: list[tuple]) -> None:
    try:
        send_mass_mail(messages, fail_silently=False)
    except Exception:  # a mail outage must not undo a campaign; it is logged for the operator
        logger.exception("review notice not sent")


def _texts(kind: str) -> tuple[str, str]:
    subjects = {
        "opened": _("Access review opened: %(name)s"),
        "reminder": _("Reminder: access review %(name)s is due on %(due)s"),
        "closed": _("Access review closed: %(name)s"),
        "escalated": _("Access review items handed to you: %(name)s"),
    }
    body = {
        "opened": _("Please review the access assigned to you before %(due)s: %(link)s"),
        "reminder": _("Some items assigned to you are still undecided. Please finish before %(due)s: %(link)s"),
        "closed": _("The campaign is closed; its report shows every decision and what was applied."),
        "escalated": _(
            "Items of another reviewer (delegated, inactive or overdue) are now yours. Please review them before "
            "%(due)s: %(link)s"
        ),
    }
    return subjects[kind], body[kind]


def notify_reviewers(campaign, reviewer_ids, kind: str) -> int:
    """Queue one notice per reviewer, in the reviewer's language: ``kind`` is opened, reminder, escalated or
    closed (``due`` is the current stage's end)."""
    link = settings.PORTCULLIS_BASE_URL.rstrip("/") + reverse("reviews:mine")
    params = {"name": campaign.name, "due": campaign.current_stage_due.strftime("%Y-%m-%d %H:%M UTC"), "link": link}
    people = User.objects.filter(pk__in=set(reviewer_ids), is_active=True).values_list("email", "language")
    messages = []
    for email, language in people:
        with translation.override(language or settings.LANGUAGE_CODE):
            subject, body = _texts(kind)
            messages.append((subject % params, body % params, settings.DEFAULT_FROM_EMAIL, [email]))
    if messages:
        transaction.on_commit(lambda: _send(messages))
    return len(messages)
