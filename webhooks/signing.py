"""Secrets and signatures per the Standard Webhooks specification (the ``standardwebhooks`` library).

A secret is ``whsec_`` + base64 of 32 random bytes from ``secrets``. During a rotation's grace period the
previous secret signs too: ``webhook-signature`` then holds two space-separated ``v1,…`` signatures, and a
receiver that still knows only one of the two secrets verifies the message.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from standardwebhooks import Webhook

PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret (256 bits)."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def new_message_id() -> str:
    """A message id (``webhook-id``): unique, and the same on every redelivery of the message."""
    return "msg_" + secrets.token_hex(16)


def headers(message_id: str, sent_at: datetime, body: str, secrets_in_use: list[str]) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt, signed with every secret in use."""
    signatures = [Webhook(secret).sign(message_id, sent_at, body) for secret in secrets_in_use]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def secrets_in_use(subscription, now: datetime) -> list[str]:
    """The current secret, and the previous one while its grace period lasts."""
    found = [subscription.secret]
    until = subscription.previous_secret_until
    if subscription.previous_secret and until is not None and until > now:
        found.append(subscription.previous_secret)
    return found
