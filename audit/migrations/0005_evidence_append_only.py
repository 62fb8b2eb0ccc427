"""LOG-2 for the evidence rows: witness cosignatures (and refusals) and trusted timestamps are append-only too."""

from django.db import migrations

from audit.triggers import EVIDENCE_TABLES, create_statements, drop_statements


def create(apps, schema_editor):
    for statement in create_statements(schema_editor.connection.vendor, EVIDENCE_TABLES):
        schema_editor.execute(statement, params=None)


def drop(apps, schema_editor):
    for statement in drop_statements(schema_editor.connection.vendor, EVIDENCE_TABLES):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_trusted_timestamps")]

    operations = [migrations.RunPython(create, drop)]
