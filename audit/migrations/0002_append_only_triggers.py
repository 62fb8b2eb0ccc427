"""LOG-2: triggers refusing UPDATE/DELETE (and TRUNCATE on PostgreSQL) of events and checkpoints."""

from django.db import migrations

from audit.triggers import create_statements, drop_statements


def create(apps, schema_editor):
    for statement in create_statements(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


def drop(apps, schema_editor):
    for statement in drop_statements(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
