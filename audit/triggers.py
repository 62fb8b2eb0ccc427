"""LOG-2: database triggers that refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) of audit tables.

Applied by the audit migrations. They stop the application (and a mistaken query) from rewriting
history; an owner of the tables could still drop them, which is why production runs the application
with a role that does not own these tables (docs/audit-operations.md) and why the log is hashed,
chained and signed as well.
"""

from __future__ import annotations

#: Events and checkpoints (migration 0002); witness cosignatures and trusted timestamps (0005): each row is
#: evidence once written (a cosignature or a token is never corrected, a new one is added).
FIRST_TABLES = ("audit_auditevent", "audit_checkpoint")
EVIDENCE_TABLES = ("audit_witnesssubmission", "audit_timestamp")
PROTECTED_TABLES = (*FIRST_TABLES, *EVIDENCE_TABLES)
MESSAGE = "audit tables are append-only"

_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}: % on % refused', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;
"""


def create_statements(vendor: str, tables: tuple[str, ...] = FIRST_TABLES) -> list[str]:
    """SQL creating the triggers on ``tables`` for ``vendor`` ("postgresql" or "sqlite")."""
    if vendor == "postgresql":
        statements = [_PG_FUNCTION]
        for table in tables:
            statements += [
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
            ]
        return statements
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            for table in tables
            for op in ("UPDATE", "DELETE")
        ]
    return []


def drop_statements(vendor: str, tables: tuple[str, ...] = FIRST_TABLES) -> list[str]:
    """SQL dropping the triggers on ``tables`` (migration reversal); the function goes with the first ones."""
    if vendor == "postgresql":
        statements = []
        for table in tables:
            statements += [
                f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
                f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            ]
        return [*statements, "DROP FUNCTION IF EXISTS audit_refuse_change()"] if tables == FIRST_TABLES else statements
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {t}_no_{op} " for t in tables for op in ("update", "delete")]
    return []
