"""The figures behind reports and dashboards: derived deterministically from the resource, so every
page, chart and export of one resource agrees (the demo has no warehouse behind it)."""

from __future__ import annotations

import hashlib

from django.utils.translation import gettext_lazy as _

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
REPORT_COLUMNS = [("month", _("Month")), ("orders", _("Orders")), ("revenue", _("Revenue"))]
#: The report table's column that carries the module's sensitive "revenue" attribute.
SENSITIVE_COLUMN = "revenue"


def _numbers(seed: str, count: int, low: int, high: int) -> list[int]:
    digest = hashlib.sha256(seed.encode()).digest()
    while len(digest) < count * 2:
        digest += hashlib.sha256(digest).digest()
    return [low + int.from_bytes(digest[2 * i : 2 * i + 2], "big") % (high - low + 1) for i in range(count)]


def report_rows(resource) -> list[dict]:
    """Twelve monthly rows: orders (not sensitive) and revenue (sensitive), stable per resource."""
    orders = _numbers(f"orders:{resource.tenant_id}:{resource.pk}", 12, 40, 400)
    prices = _numbers(f"price:{resource.tenant_id}:{resource.pk}", 12, 90, 160)
    return [
        {"month": month, "orders": count, "revenue": count * price}
        for month, count, price in zip(MONTHS, orders, prices, strict=True)
    ]


def dashboard_series(resource) -> list[tuple[str, list[tuple[str, int]]]]:
    """A dashboard's widgets: (title, points), as many as its ``widgets`` attribute says (1 to 6)."""
    try:
        count = int((resource.attributes or {}).get("widgets", 3))
    except (TypeError, ValueError):
        count = 3
    count = max(1, min(count, 6))
    names = [_("Visits"), _("Sign-ups"), _("Orders"), _("Tickets"), _("Renewals"), _("Active users")]
    widgets = []
    for i in range(count):
        values = _numbers(f"widget:{resource.tenant_id}:{resource.pk}:{i}", 8, 10, 100)
        widgets.append((str(names[i]), [(f"W{w + 1}", v) for w, v in enumerate(values)]))
    return widgets
