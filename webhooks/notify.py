"""The notice to a tenant's administrators (everyone who may change settings) when a webhook is disabled."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from permissions import engine
from permissions.vocabulary import Action, SystemModule


def tell_administrators(subscription) -> int:
    """E-mail each holder of settings: change, in their language, once the transaction commits."""
    people = [h.user for h in engine.holders(Action.CHANGE, SystemModule.SETTINGS.value, tenant=subscription.tenant)]
    link = settings.PORTCULLIS_BASE_URL.rstrip("/") + reverse(
        "webhooks:detail", kwargs={"subscription_id": subscription.pk}
    )
    name = subscription.name
    for person in people:
        email, language = person.email, person.language or settings.LANGUAGE_CODE

        def send(email=email, language=language):
            with translation.override(language):
                subject = _("A webhook was disabled after repeated failures")
                body = _(
                    "The webhook %(name)s could not deliver an event after repeated attempts and was disabled. "
                    "Its pending events wait until it is enabled again."
                ) % {"name": name}
                send_mail(subject, f"{body}\n\n{link}\n", settings.DEFAULT_FROM_EMAIL, [email])

        transaction.on_commit(send)
    return len(people)
