"""A server-binding cursor wrapped like Django's own (errors translated, queries logged when debugging).

Django's PostgreSQL backend binds parameters on the client by default: every value is quoted into the
statement's text, in Python for arrays. A server-binding cursor sends the parameters apart (arrays as
one value, the statement text the same at every call), so psycopg can prepare a statement it sees again
(the connection's ``prepare_threshold``). Used for the permission engine's query (permissions/compiled.py)
and the bulk upserts (portal/upsert.py).
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

try:  # psycopg 3; absent with psycopg2 or on SQLite-only installs
    from django.db.backends.postgresql.base import ServerBindingCursor
except (ImportError, ImproperlyConfigured):  # pragma: no cover
    ServerBindingCursor = None


def available(db) -> bool:
    """Whether ``db`` is PostgreSQL through psycopg 3 (a server-binding cursor can be made)."""
    return db.vendor == "postgresql" and ServerBindingCursor is not None


def server_binding_cursor(db):
    """A cursor of ``db`` (PostgreSQL, see ``available``) that binds its parameters on the server."""
    db.ensure_connection()
    db.validate_thread_sharing()
    with db.wrap_database_errors:
        raw = ServerBindingCursor(db.connection)
    return db.make_debug_cursor(raw) if db.queries_logged else db.make_cursor(raw)
