"""Security notices by e-mail (MFA-10, AUTH-4): sent after the change commits, in the user's language."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

NOTICES = {
    "mfa_enrolled": (
        gettext_noop("A sign-in factor was added to your account"),
        gettext_noop("An authenticator app or backup codes were added to your Portcullis account."),
    ),
    "mfa_removed": (
        gettext_noop("A sign-in factor was removed from your account"),
        gettext_noop("An authenticator app was removed from your Portcullis account."),
    ),
    "passkey_added": (
        gettext_noop("A passkey was added to your account"),
        gettext_noop("A passkey was added to your Portcullis account."),
    ),
    "passkey_removed": (
        gettext_noop("A passkey was removed from your account"),
        gettext_noop("A passkey was removed from your Portcullis account."),
    ),
    "mfa_reset": (
        gettext_noop("Your multi-factor authentication was reset"),
        gettext_noop(
            "An administrator reset the multi-factor authentication of your Portcullis account. "
            "You will set up a new authenticator app at your next login."
        ),
    ),
    "backup_codes_regenerated": (
        gettext_noop("New backup codes were created"),
        gettext_noop("New backup codes were created for your Portcullis account; the old ones no longer work."),
    ),
    "password_changed": (
        gettext_noop("Your password was changed"),
        gettext_noop("The password of your Portcullis account was changed and your other sessions were ended."),
    ),
}


def _text(kind: str) -> tuple[str, str]:
    subject, body = NOTICES[kind]
    closing = _("If this was not you, tell your administrator at once.")
    return _(subject), f"{_(body)}\n\n{closing}\n"


def notify(user, kind: str) -> None:
    """Send the notice ``kind`` to ``user`` once the current transaction commits."""
    email, language = user.email, user.language or settings.LANGUAGE_CODE

    def send():
        with translation.override(language):
            subject, body = _text(kind)
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])

    transaction.on_commit(send)
