"""Why a single sign-on was refused: one reason each, with the words shown on the refusal page."""

from __future__ import annotations

import enum

from django.utils.translation import gettext_lazy as _


class Refusal(enum.Enum):
    STATE = "state"
    STALE = "stale"
    PROVIDER_ERROR = "provider_error"
    CODE = "code"
    UNAVAILABLE = "unavailable"
    TOKEN = "token"
    SIGNATURE = "signature"
    ISSUER = "issuer"
    AUDIENCE = "audience"
    NONCE = "nonce"
    EXPIRED = "expired"
    EMAIL = "email"
    INACTIVE = "inactive"
    TAKEN = "taken"
    UNSIGNED = "unsigned"
    REPLAY = "replay"
    OTHER_ACCOUNT = "other_account"
    NO_MFA = "no_mfa"
    NOT_FRESH = "not_fresh"


MESSAGES = {
    Refusal.STATE: _(
        "This sign-in answer does not belong to a sign-in started in this browser, or it was already used. "
        "Start again from the login page."
    ),
    Refusal.STALE: _("This sign-in took too long. Start again from the login page."),
    Refusal.PROVIDER_ERROR: _("Your identity provider did not sign you in."),
    Refusal.CODE: _(
        "Your identity provider refused to confirm this sign-in (the code was already used or is invalid)."
    ),
    Refusal.UNAVAILABLE: _("Your identity provider could not be reached. Try again later."),
    Refusal.TOKEN: _("Your identity provider's answer is incomplete or malformed."),
    Refusal.SIGNATURE: _("The identity token's signature is not valid: it was not signed by your identity provider."),
    Refusal.ISSUER: _("The identity token was issued by another identity provider."),
    Refusal.AUDIENCE: _("The identity token was issued for another application."),
    Refusal.NONCE: _("The identity token does not belong to this sign-in (wrong nonce)."),
    Refusal.EXPIRED: _("The identity token has expired (or its time is wrong)."),
    Refusal.EMAIL: _("Your identity provider did not give a verified e-mail address."),
    Refusal.INACTIVE: _("Your account is deactivated. Ask your administrator."),
    Refusal.TAKEN: _(
        "An account with this e-mail address already exists and is not linked to this identity provider. "
        "Ask your administrator."
    ),
    Refusal.UNSIGNED: _(
        "Your identity provider's answer is not signed: this portal accepts only signed assertions (or a signed "
        "response)."
    ),
    Refusal.REPLAY: _(
        "This sign-in answer was already used: it is accepted only once. Start again from the login page."
    ),
    Refusal.OTHER_ACCOUNT: _("Your identity provider signed in another account than yours. Nothing was confirmed."),
    Refusal.NO_MFA: _("Your identity provider did not confirm a multi-factor sign-in, which this step needs."),
    Refusal.NOT_FRESH: _("Your identity provider did not sign you in again just now (it reused an earlier sign-in)."),
}


class SsoRefused(Exception):
    """A refused single sign-on; ``reason`` says why."""

    def __init__(self, reason: Refusal, *, noise: bool = False):
        super().__init__(reason.value)
        self.reason = reason
        #: Anyone could have sent this (it names no sign-in of ours): logged, not recorded in the audit log.
        self.noise = noise or reason is Refusal.STATE

    @property
    def message(self) -> str:
        return str(MESSAGES[self.reason])
