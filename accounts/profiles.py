"""A customer's personal details: every sensitive value encrypted at rest under the tenant's key."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantManager
from vault.fields import BlindIndexField, EncryptedTextField


class CustomerProfile(models.Model):
    """Phone, address, national id and notes of one user; exact search by phone or id via blind indexes."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    uid = models.UUIDField(default=uuid.uuid4, editable=False)
    company = models.CharField(_("company"), max_length=200, blank=True)
    phone = EncryptedTextField(_("phone"))
    phone_index = BlindIndexField(source="phone", normaliser="identifier")
    address = EncryptedTextField(_("address"))
    national_id = EncryptedTextField(_("national id"))
    national_id_index = BlindIndexField(source="national_id", normaliser="identifier")
    notes = EncryptedTextField(_("notes"))

    objects = TenantManager()

    class Meta:
        verbose_name = _("customer profile")
        verbose_name_plural = _("customer profiles")
        constraints = [models.UniqueConstraint(fields=["tenant", "uid"], name="profile_tenant_uid_unique")]
        indexes = [
            models.Index(fields=["tenant", "phone_index"], name="profile_phone_index"),
            models.Index(fields=["tenant", "national_id_index"], name="profile_national_id_index"),
        ]

    def __str__(self) -> str:
        return str(self.user)

    @classmethod
    def search_exact(cls, tenant, *, phone: str = "", national_id: str = ""):
        """Profiles of ``tenant`` whose phone or national id is exactly this (normalised), without clear text."""
        lookups = models.Q(pk__in=[])
        if phone:
            lookups |= models.Q(phone_index=cls._meta.get_field("phone_index").index_of(tenant.pk, phone))
        if national_id:
            index = cls._meta.get_field("national_id_index").index_of(tenant.pk, national_id)
            lookups |= models.Q(national_id_index=index)
        return cls.objects.filter(lookups)
