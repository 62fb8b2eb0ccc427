"""``manage.py audit_rotate_key``: a new checkpoint signing key (embedded default; production uses env)."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from audit import keys


class Command(BaseCommand):
    help = "Rotate the checkpoint signing key kept in var/ (the old public key stays trusted)."

    def handle(self, *args, **options):
        try:
            key = keys.rotate()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"new signing key {key.key_id}")
