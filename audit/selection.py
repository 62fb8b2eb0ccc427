"""The audit viewer's "export these events": the events the filters show, as CSV for a spreadsheet.

The verifiable export (audit/export.py) is always the whole log, because a verifier must see every position
of the chain; this one is what the reader filtered, readable, and says so in its name. Both are recorded.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from audit import personal
from audit.escaping import escape_controls

CHUNK = 2000
HEADER = ["position", "time", "event", "event_type", "actor", "target", "reason"]


class _Echo:
    def write(self, value):
        return value


def _cell(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula, control characters escaped (LOG-7)."""
    text = escape_controls("" if value is None else str(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def selection_lines(events) -> Iterator[str]:
    """CSV lines of ``events`` (a filtered queryset), oldest first, a chunk at a time."""
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    last = -1
    while True:
        chunk = list(events.filter(seq__gt=last).order_by("seq").defer("leaf_hash", "chain_hash")[:CHUNK])
        if not chunk:
            return
        for event in personal.attach(chunk):
            row = [
                event.seq,
                event.occurred_at.isoformat(),
                event.get_event_type_label(),
                event.event_type,
                event.actor_label,
                event.target_label,
                event.reason,
            ]
            yield writer.writerow([_cell(value) for value in row])
        last = chunk[-1].seq
