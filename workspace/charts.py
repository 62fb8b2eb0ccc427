"""Charts rendered on our server as inline SVG: no script, no inline style (the CSP allows neither).

Values and labels are escaped; colours are presentation attributes, and classes come from portal.css.
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 16, 36


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _frame(title: str, top: float, body: list[str], labels: list[str], kind: str) -> SafeString:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg class="chart chart-{kind}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(5):
        y = TOP + plot_h * i / 4
        value = top * (4 - i) / 4
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g}</text>')
    parts.extend(body)
    step = plot_w / max(len(labels), 1)
    for i, label in enumerate(labels):
        x = LEFT + step * (i + 0.5)
        parts.append(
            f'<text class="axis" x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every dynamic text above went through escape()


def bar_chart(title: str, points: list[tuple[str, float]]) -> SafeString:
    """A bar chart of (label, value) points."""
    top = _nice_max(max((v for _l, v in points), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(points), 1)
    body = []
    for i, (label, value) in enumerate(points):
        h = plot_h * value / top
        x = LEFT + step * i + step * 0.15
        body.append(
            f'<rect class="bar" x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}">'
            f"<title>{escape(label)}: {value:g}</title></rect>"
        )
    return _frame(title, top, body, [label for label, _v in points], "bar")


def line_chart(title: str, points: list[tuple[str, float]]) -> SafeString:
    """A line chart of (label, value) points."""
    top = _nice_max(max((v for _l, v in points), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(points), 1)
    coords = [(LEFT + step * (i + 0.5), TOP + plot_h - plot_h * v / top) for i, (_l, v) in enumerate(points)]
    body = []
    if coords:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        body.append(f'<polyline class="line" points="{path}"/>')
        for (x, y), (label, value) in zip(coords, points, strict=True):
            tip = f"<title>{escape(label)}: {value:g}</title>"
            body.append(f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="3">{tip}</circle>')
    return _frame(title, top, body, [label for label, _v in points], "line")
