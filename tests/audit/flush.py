"""Test support: let Django's test flush (transactional tests) empty the append-only audit tables.

Production never flushes. Here, around the flush only, the audit triggers are dropped (SQLite) or
disabled (PostgreSQL, as the owning test role) and put back in the same transaction.
"""

from contextlib import contextmanager

from django.db.backends.base.operations import BaseDatabaseOperations

from audit.triggers import PROTECTED_TABLES, create_statements, drop_statements


def _around(vendor: str) -> tuple[list[str], list[str]]:
    if vendor == "postgresql":
        return (
            [f"ALTER TABLE {t} DISABLE TRIGGER USER" for t in PROTECTED_TABLES],
            [f"ALTER TABLE {t} ENABLE TRIGGER USER" for t in PROTECTED_TABLES],
        )
    if vendor == "sqlite":
        return drop_statements(vendor, PROTECTED_TABLES), create_statements(vendor, PROTECTED_TABLES)
    return [], []


@contextmanager
def audit_tables_flushable():
    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        if not any(t in " ".join(sql_list) for t in PROTECTED_TABLES):
            return original(self, sql_list)
        before, after = _around(self.connection.vendor)
        return original(self, [*before, *sql_list, *after])

    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush
    try:
        yield
    finally:
        BaseDatabaseOperations.execute_sql_flush = original
