"""Enrol a platform operator's authenticator app (INS-4): prints the base32 secret once."""

from django.core.management.base import BaseCommand, CommandError

from accounts import operators
from accounts.models import User
from accounts.scoping import dangerously_unscoped


class Command(BaseCommand):
    help = "Give a platform operator a new authenticator (replaces the old one) and print its secret once."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        with dangerously_unscoped():  # operators have no tenant
            operator = User.objects.filter(email=email.strip().lower(), tenant__isnull=True).first()
        if operator is None or not operator.is_operator:
            raise CommandError("no platform operator has this e-mail")
        secret = operators.enrol(operator)
        self.stdout.write("Add this secret to the operator's authenticator app (TOTP, SHA-1, 30 s, 6 digits):")
        self.stdout.write(secret)
        self.stdout.write(f"otpauth://totp/Portcullis%20platform:{operator.email}?secret={secret}&issuer=Portcullis")
