"""Server-rendered SVG charts (no script, no CDN): horizontal bars and a daily line per series. Labels are
escaped; the result is safe to insert in a page."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed", "#0891b2", "#be185d", "#4b5563"]


def bars(rows: list[tuple[str, int]], *, title: str, width: int = 560, bar: int = 18) -> SafeString:
    """One horizontal bar per (label, value), longest first as given."""
    rows = rows[:12]
    top = max([v for _, v in rows] or [1]) or 1
    height = 24 + len(rows) * (bar + 6)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>'
    ]
    for i, (label, value) in enumerate(rows):
        y = 20 + i * (bar + 6)
        length = int((width - 220) * value / top)
        parts.append(
            f'<text x="0" y="{y + bar - 5}" font-size="12">{escape(label or "—")[:28]}</text>'
            f'<rect x="180" y="{y}" width="{max(length, 1)}" height="{bar}" fill="{PALETTE[0]}"/>'
            f'<text x="{185 + length}" y="{y + bar - 5}" font-size="12">{value}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every label escaped above)


def lines(series: dict[str, list[int]], *, title: str, width: int = 560, height: int = 180) -> SafeString:
    """One polyline per series over the same days, with a legend."""
    days = max([len(v) for v in series.values()] or [1])
    top = max([max(v) for v in series.values() if v] or [1]) or 1
    plot_h = height - 40
    step = (width - 60) / max(days - 1, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>'
        f'<line x1="40" y1="{plot_h + 10}" x2="{width - 20}" y2="{plot_h + 10}" stroke="#999"/>'
        f'<text x="0" y="20" font-size="11">{top}</text><text x="0" y="{plot_h + 10}" font-size="11">0</text>'
    ]
    for i, (name, values) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        points = " ".join(f"{40 + d * step:.1f},{10 + plot_h - plot_h * v / top:.1f}" for d, v in enumerate(values))
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>')
        parts.append(
            f'<text x="{40 + (i % 4) * 130}" y="{height - 4 - 14 * (i // 4)}" font-size="11" fill="{color}">'
            f"{escape(name)[:20]}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every label escaped above)
