from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import demo
from accounts.models import Tenant
from accounts.scoping import dangerously_unscoped


class Command(BaseCommand):
    help = "Create the demo tenants and logins (idempotent). Demo only."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="Seed only when no tenant exists yet.")
        parser.add_argument("--quiet-logins", action="store_true", help="Do not print the demo logins.")

    def handle(self, *args, if_empty=False, quiet_logins=False, **options):
        with dangerously_unscoped():  # counting tenants is a platform-level read
            has_tenants = Tenant.objects.exists()
        if if_empty and has_tenants:
            self.stdout.write("Demo data already present; not seeding.")
        else:
            with transaction.atomic():
                demo.seed()
            self.stdout.write(self.style.SUCCESS("Demo data ready."))
        if not quiet_logins:
            self.print_logins()

    def print_logins(self):
        self.stdout.write("")
        self.stdout.write(f"Demo logins (demo only; password for all: {demo.DEMO_PASSWORD})")
        self.stdout.write(
            "Each has an authenticator: add its base32 secret to an authenticator app (TOTP, 30 s, 6 digits)."
        )
        for slug, name in demo.DEMO_TENANTS:
            self.stdout.write(f"  {name}:")
            for email, _name, _role in demo.demo_people(slug):
                self.stdout.write(f"    {email:<28} {demo.demo_totp_secret(email)}")
