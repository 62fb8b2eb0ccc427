"""Many rows added or updated in one statement of a fixed shape (the usage writer's marks and counts).

A ``VALUES (%s, ...), (%s, ...)`` statement has as many placeholders as rows × columns, so its text differs
with every batch: psycopg cannot cache its parsing, and parsing a statement of thousands of placeholders
took more CPU than the database's work (py-spy, ``make bench --only api``, batched checks: a quarter of a
worker's time in the writer thread); sending arrays instead still quoted every element in Python. On
PostgreSQL the rows now travel as one JSON text (``json.dumps``, in C) that the statement unpacks
(``json_array_elements``): one parameter whatever the batch, bound on the server
(portal/postgresql/cursors.py), one statement text that psycopg prepares. Values are numbers, text
without NUL characters, NULLs and aware datetimes. Other databases (SQLite, the embedded default) get the
``VALUES`` form, in chunks below their parameter limits.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from django.db import connection

from portal.postgresql import cursors

CHUNK_ROWS = 1000  # VALUES form: rows per statement (7,000 parameters for 7 columns)


def _iso(value):
    if isinstance(value, datetime):
        return value.isoformat()  # aware: the offset travels with it
    raise TypeError(f"{type(value).__name__} cannot be sent in an upsert")


def upsert(
    table: str, columns: Sequence[tuple[str, str]], rows: Sequence[tuple], *, conflict: str, update: str
) -> None:
    """``INSERT INTO table (columns) … ON CONFLICT (conflict) DO UPDATE SET update`` for ``rows``.

    ``columns`` are (name, PostgreSQL type) pairs in the rows' order; ``conflict`` names the unique columns;
    ``update`` is the SET clause, which may read ``excluded``. No two rows may share a conflict key (one
    statement cannot update a row twice). Datetimes must be aware (ISO text with its offset on PostgreSQL,
    Django's adaptation elsewhere)."""
    if not rows:
        return
    names = ", ".join(name for name, _type in columns)
    tail = f"ON CONFLICT ({conflict}) DO UPDATE SET {update}"
    if cursors.available(connection):
        values = ", ".join(f"(row->>{index})::{kind}" for index, (_name, kind) in enumerate(columns))
        with cursors.server_binding_cursor(connection) as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {values} FROM json_array_elements(%s::json) AS row {tail}",  # noqa: S608
                [json.dumps(rows, default=_iso, separators=(",", ":"))],
            )
        return
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for start in range(0, len(rows), CHUNK_ROWS):
            chunk = rows[start : start + CHUNK_ROWS]
            params = [adapt(value) if hasattr(value, "tzinfo") else value for row in chunk for value in row]
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {', '.join([marks] * len(chunk))} {tail}",  # noqa: S608
                params,
            )
