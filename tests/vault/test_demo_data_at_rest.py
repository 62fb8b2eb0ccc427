"""A raw SQL read of every column that holds ciphertext shows no clear text of the demo data (issue 8, DP-1, MFA-8).

The columns are found from the models, not listed: every field of a vault type (``EncryptedTextField`` and
its ``BlindIndexField``) of every installed model, so a new encrypted field is read here the day it is added.
The clear values looked for are every secret the demo writes: the customer profiles' personal details, the
TOTP seeds (the demo derives them from the e-mail: ``accounts.demo.demo_totp_key``) in every spelling an
encoder could leave them in, the modules' sensitive resource attributes, and the keys of live sessions.
"""

import base64
import json

from django.apps import apps
from django.db import connection
from django.test import Client

from accounts import demo
from accounts.models import User
from accounts.scoping import tenant_scope
from permissions.models import Module
from tests.conftest import login
from vault.fields import BlindIndexField, EncryptedTextField, encrypted_fields

VAULT_FIELD_TYPES = (EncryptedTextField, BlindIndexField)
# Encrypted fields known today: the discovery below must find at least these (a floor, not the list read).
KNOWN_ENCRYPTED = {
    "accounts.CustomerProfile.phone",
    "accounts.CustomerProfile.address",
    "accounts.CustomerProfile.national_id",
    "accounts.CustomerProfile.notes",
    "accounts.Passkey.sealed_public_key",
    "accounts.TotpDevice.encrypted_key",
    "accounts.UserSession.encrypted_key",
    "permissions.Resource.sealed_attributes",
}


def ciphertext_columns() -> dict:
    """Model → its fields of a vault type, for every concrete model that has one."""
    found = {}
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        fields = [field for field in model._meta.concrete_fields if isinstance(field, VAULT_FIELD_TYPES)]
        if fields:
            found[model] = fields
    return found


def seed_spellings(seed: bytes) -> set[str]:
    """A TOTP seed as hex, base32 and base64 (with and without padding, either case or alphabet)."""
    b32 = base64.b32encode(seed).decode()
    b64 = base64.b64encode(seed).decode()
    b64url = base64.urlsafe_b64encode(seed).decode()
    spellings = {seed.hex(), seed.hex().upper(), b32, b32.rstrip("="), b32.lower().rstrip("=")}
    spellings |= {b64, b64.rstrip("="), b64url, b64url.rstrip("=")}
    return spellings


def attribute_spellings(name: str, value) -> set[str]:
    """A sensitive attribute as it would read in clear: the value when it is long enough to be told apart
    from base64 by chance, and always the ``"name": value`` pair of JSON (how attributes are stored)."""
    spellings = {json.dumps({name: value})[1:-1], json.dumps({name: value}, separators=(",", ":"))[1:-1]}
    text = str(value)
    if len(text) >= 6 or not text.isalnum():
        spellings.add(text)
    return spellings


def demo_secrets(tenants) -> dict[str, str]:
    """Every secret value the demo writes (clear text → what it is), and the live sessions' keys."""
    secrets = {}
    for tenant in tenants:
        with tenant_scope(tenant):
            emails = list(User.objects.values_list("email", flat=True))
            modules = list(Module.objects.all())
            from permissions.models import Resource

            resources = list(Resource.objects.select_related("module"))
        for n in range(len(emails)):
            values = demo.demo_profile(tenant.slug, n)
            for key in ("phone", "address", "national_id", "notes"):
                secrets[values[key]] = f"profile {key}"
            secrets[values["phone"].replace(" ", "")] = "profile phone"
        for email in emails:
            for spelling in seed_spellings(demo.demo_totp_key(email)):
                secrets[spelling] = f"TOTP seed of {email}"
        sensitive = {module.pk: set(module.sensitive_attributes or ()) for module in modules}
        for resource in resources:
            for name, value in resource.attributes.items():
                if name in sensitive[resource.module_id]:
                    for spelling in attribute_spellings(name, value):
                        secrets[spelling] = f"{name} of {resource.title}"
        from sso import demo as sso_demo

        secrets[sso_demo.client_secret(tenant)] = "identity provider client secret"
    return secrets


def test_no_demo_clear_text_in_any_encrypted_column(db):
    """DP-1, MFA-8: every column of a vault type, read raw, holds ciphertext (or an index) and no demo secret."""
    tenants = demo.seed()
    session_keys = {}
    for tenant in tenants:  # live sessions, so the session registry's encrypted keys are read too
        with tenant_scope(tenant):
            admin = User.objects.get(email=f"admin@{tenant.slug}.example")
        client = login(Client(), admin, password=demo.DEMO_PASSWORD)
        session_keys[client.cookies["portcullis_session"].value] = f"session key of {admin.email}"
    secrets = {**demo_secrets(tenants), **session_keys}
    columns = ciphertext_columns()
    discovered = {f"{model._meta.label}.{field.name}" for model, fields in columns.items() for field in fields}
    assert discovered >= KNOWN_ENCRYPTED
    assert {f"{f.model._meta.label}.{f.name}" for f in encrypted_fields()} <= discovered
    assert sum(value.startswith("TOTP seed") for value in secrets.values()) >= 2 * 15 * 4
    assert (
        sum(
            " of " in value and value.split(" of ")[0] in {"cost_price", "supplier", "revenue", "customer_emails"}
            for value in secrets.values()
        )
        >= 4
    )

    filled = {}
    with connection.cursor() as cursor:
        for model, fields in columns.items():
            # the whole row: a secret must not sit in clear next to its ciphertext either
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
            names = [column[0] for column in cursor.description]
            vault_columns = {field.column: field for field in fields}
            for row in cursor.fetchall():
                for column, stored in zip(names, row, strict=True):
                    if isinstance(stored, bytes | memoryview):
                        stored = bytes(stored).decode("latin-1")
                    if not stored or not isinstance(stored, str):
                        continue
                    label = f"{model._meta.label}.{column}"
                    leaked = [what for clear, what in secrets.items() if clear in stored]
                    assert not leaked, f"{label} holds in clear: {leaked}"
                    field = vault_columns.get(column)
                    if field is None:
                        continue
                    label = f"{model._meta.label}.{field.name}"
                    filled[label] = filled.get(label, 0) + 1
                    if isinstance(field, EncryptedTextField):
                        prefix, version, blob = stored.split(":", 2)
                        assert prefix == "v1" and version.isdigit(), (label, stored[:40])
                        base64.b64decode(blob, validate=True)
                    else:
                        assert len(stored) == 64 and int(stored, 16) >= 0, (label, stored)
    # Every such column was read with demo data in it: a new encrypted field needs demo values to be proven here.
    assert set(filled) == discovered, f"columns the demo leaves empty: {sorted(discovered - set(filled))}"
    assert filled["accounts.TotpDevice.encrypted_key"] >= 2 * 15
    assert filled["accounts.UserSession.encrypted_key"] >= 2


def test_demo_profiles_decrypt_for_their_tenant(db):
    tenants = demo.seed()
    with tenant_scope(tenants[0]):
        from accounts.models import CustomerProfile

        profile = CustomerProfile.objects.select_related("user").get(user__email="admin@acme.example")
        assert profile.address.endswith("Harbour Road, Shanghai")


def test_resources_sensitive_attributes_are_encrypted_at_rest(db):
    """Issue 8: a resource's sensitive attributes (as its module names them) are never in clear in the database."""
    import json

    from permissions.models import Resource

    tenants = demo.seed()
    checked = 0
    for tenant in tenants:
        with tenant_scope(tenant):
            resources = list(Resource.objects.select_related("module"))
        for resource in resources:
            names = set(resource.module.sensitive_attributes or ())
            # As JSON members ("revenue": "1.2M"): quotes and colons never occur in base64 ciphertext, where a
            # short clear value ("60") would turn up by chance now and then.
            secret_values = [json.dumps({k: v})[1:-1] for k, v in resource.attributes.items() if k in names]
            if not secret_values:
                continue
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT attributes, sealed_attributes FROM permissions_resource WHERE id = %s", [resource.pk]
                )
                plain, sealed = cursor.fetchone()
            plain = json.loads(plain) if isinstance(plain, str) else plain
            assert not names & set(plain), (resource.title, plain)
            assert sealed.startswith("v1:") and not any(value in sealed for value in secret_values)
            checked += 1
    assert checked >= 4  # the demo has sensitive attributes on several modules
