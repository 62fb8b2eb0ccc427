"""Model fields for sensitive values: ``EncryptedTextField`` and its exact-match ``BlindIndexField``.

The model must have a ``tenant`` foreign key and a ``uid`` UUIDField (set at instantiation, so it
is known before the first insert): both are bound into every ciphertext. Values decrypt lazily on
attribute access, with the row's own tenant and uid. Encrypted columns cannot be filtered on
(use the blind index) and cannot be written by ``QuerySet.update`` with clear text.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections.abc import Callable

from django.core import checks
from django.db import models

from vault import keyring
from vault.cipher import Sealed, decrypt, encrypt
from vault.models import TenantKey


def encrypted_fields() -> list[EncryptedTextField]:
    """Every EncryptedTextField of the installed models (for rotation and re-encryption)."""
    from django.apps import apps

    return [f for model in apps.get_models() for f in model._meta.fields if isinstance(f, EncryptedTextField)]


def _context(instance, field: models.Field) -> str:
    return f"{instance._meta.label_lower}|{field.name}|{getattr(instance, field.row_field)}"


class _Descriptor:
    """Holds the clear value once read or set; decrypts the stored value on first access."""

    def __init__(self, field: EncryptedTextField):
        self.field = field

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = instance.__dict__.get(self.field.attname)
        if isinstance(value, Sealed):
            tenant_id = getattr(instance, f"{self.field.tenant_field}_id")
            value = decrypt(value, tenant_id=tenant_id, context=_context(instance, self.field))
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance, value):
        if isinstance(value, Sealed):
            instance.__dict__[self.field.sealed_attname] = value
        else:
            instance.__dict__.pop(self.field.sealed_attname, None)
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField):
    """Text stored as AES-256-GCM ciphertext under the row's tenant data key (see vault.cipher)."""

    def __init__(self, *args, tenant_field: str = "tenant", row_field: str = "uid", **kwargs):
        self.tenant_field = tenant_field
        self.row_field = row_field
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.tenant_field != "tenant":
            kwargs["tenant_field"] = self.tenant_field
        if self.row_field != "uid":
            kwargs["row_field"] = self.row_field
        return name, path, args, kwargs

    @property
    def sealed_attname(self) -> str:
        return f"_sealed_{self.attname}"

    def contribute_to_class(self, cls, name, private_only=False):
        super().contribute_to_class(cls, name, private_only)
        setattr(cls, self.attname, _Descriptor(self))

    def from_db_value(self, value, expression, connection):
        return None if value is None else Sealed(value)

    def pre_save(self, model_instance, add):
        stored = model_instance.__dict__.get(self.sealed_attname)
        clear = model_instance.__dict__.get(self.attname)
        if isinstance(clear, Sealed):
            return clear  # read from the database and never decrypted: unchanged
        if stored is not None and clear is None:
            return None
        if clear is None:
            return None
        tenant_id = getattr(model_instance, f"{self.tenant_field}_id")
        sealed = encrypt(str(clear), tenant_id=tenant_id, context=_context(model_instance, self))
        model_instance.__dict__[self.sealed_attname] = sealed
        return sealed

    def get_db_prep_save(self, value, connection):
        if value is not None and not isinstance(value, Sealed):
            # Only pre_save's ciphertext reaches the database: QuerySet.update(field="clear") is refused.
            raise ValueError(f"{self.name} is encrypted: set it on the instance and save(), never with update()")
        return super().get_db_prep_save(value, connection)

    def get_lookup(self, lookup_name):
        if lookup_name in {"isnull", "exact"}:  # exact: only with a Sealed value (re-encryption's compare-and-swap)
            return super().get_lookup(lookup_name)
        return None

    def get_prep_value(self, value):
        if value is not None and not isinstance(value, Sealed):
            raise ValueError(f"{self.name} is encrypted: search it through its blind index")
        return super().get_prep_value(value)

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        opts = self.model._meta
        names = {f.name for f in opts.get_fields()}
        for needed in (self.tenant_field, self.row_field):
            if needed not in names:
                errors.append(
                    checks.Error(f"{opts.label}.{self.name} needs a {needed!r} field", obj=self, id="vault.E001")
                )
        return errors


def normalise_text(value: str) -> str:
    """Case-folded, Unicode-normalised, spaces collapsed: the default for blind indexes."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def normalise_identifier(value: str) -> str:
    """Letters and digits only, upper case: phone numbers, national ids, customer numbers."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", value).upper() if ch.isalnum())


def blind_index(tenant_id: int, value: str, *, purpose: str, normalise: Callable[[str], str] = normalise_text) -> str:
    """HMAC-SHA256 of the normalised value under the tenant's index key: exact-match search, no clear text."""
    _version, raw = keyring.active(tenant_id, TenantKey.Purpose.INDEX)
    message = f"{purpose}|{normalise(value)}".encode()
    return hmac.new(raw, message, hashlib.sha256).hexdigest()


class BlindIndexField(models.CharField):
    """The blind index of an EncryptedTextField of the same model, kept up to date on save."""

    def __init__(self, *args, source: str = "", normaliser: str = "text", **kwargs):
        self.source = source
        self.normaliser = normaliser
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        kwargs["normaliser"] = self.normaliser
        for key in ("max_length", "blank", "editable", "db_index"):
            kwargs.pop(key, None)
        return name, path, args, kwargs

    def index_of(self, tenant_id: int, value: str) -> str:
        """The index value to search for ``value`` in this tenant."""
        normalise = normalise_identifier if self.normaliser == "identifier" else normalise_text
        return blind_index(
            tenant_id, value, purpose=f"{self.model._meta.label_lower}.{self.source}", normalise=normalise
        )

    def pre_save(self, model_instance, add):
        clear = model_instance.__dict__.get(self.model._meta.get_field(self.source).attname)
        if isinstance(clear, Sealed):
            return getattr(model_instance, self.attname)  # source unchanged since it was read
        value = "" if not clear else self.index_of(model_instance.tenant_id, str(clear))
        setattr(model_instance, self.attname, value)
        return value
