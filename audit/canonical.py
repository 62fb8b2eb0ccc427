"""The canonical bytes of an event (schema version 1): what the leaf hash covers.

RFC 8785 (JSON Canonicalization Scheme) via the ``rfc8785`` package: sorted keys, no spaces, ES6
number formatting, UTF-8. Times are RFC 3339 UTC with microseconds; ids are numbers or strings;
personal values appear only as salted commitments ``{"$pii": "<hex>"}`` (see audit.personal).
The exact layout is documented in docs/audit-format.md.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import rfc8785
from django.core.serializers.json import DjangoJSONEncoder

SCHEMA_VERSION = 1
ZERO_HASH = "0" * 64
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_time(moment: datetime) -> str:
    """An aware datetime as RFC 3339 UTC with microseconds, e.g. 2026-11-29T14:55:44.123456Z."""
    if moment.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def json_value(value):
    """``value`` as plain JSON types: dates, decimals and UUIDs become strings (Django's encoder)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def build_payload(
    *,
    tenant_id: int,
    seq: int,
    event_type: str,
    occurred_at: datetime,
    actor: dict | None,
    target: dict | None,
    before,
    after,
    reason: str,
    address,
    user_agent: str,
    request_id: str,
) -> dict:
    """The event as the dictionary whose canonical bytes are hashed (schema version 1)."""
    return {
        "v": SCHEMA_VERSION,
        "tenant": tenant_id,
        "seq": seq,
        "type": event_type,
        "time": format_time(occurred_at),
        "actor": actor,
        "target": target,
        "before": before,
        "after": after,
        "reason": reason,
        "address": address,
        "user_agent": user_agent,
        "request_id": request_id,
    }


def canonical_bytes(payload: dict) -> bytes:
    """RFC 8785 canonical UTF-8 bytes of ``payload``."""
    return rfc8785.dumps(payload)
