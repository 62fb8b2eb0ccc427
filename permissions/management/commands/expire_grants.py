"""``manage.py expire_grants``: record grant.expired for grants past their expiry (scheduler job)."""

from django.core.management.base import BaseCommand

from permissions.services.grants import expire_due_grants


class Command(BaseCommand):
    help = "Record grant.expired events for grants past their expiry (they already stopped working then)."

    def handle(self, *args, **options):
        count = expire_due_grants()
        self.stdout.write(f"{count} grant(s) recorded as expired")
