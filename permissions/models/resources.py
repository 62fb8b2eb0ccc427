"""Resources: one object inside a module (report #17, product "X-200", an integration's external id)."""

from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from permissions.querysets import RestrictedManager
from permissions.vocabulary import Action
from vault.cipher import DecryptionFailed
from vault.fields import EncryptedTextField


class Resource(models.Model):
    """One object of a module. ``attributes`` is free JSON; the module names which keys are sensitive.

    Sensitive values never reach the ``attributes`` column: on save they move into
    ``sealed_attributes``, encrypted under the tenant's data key (vault), and on load they are merged
    back, so code reads and writes ``resource.attributes`` as one dict. Masking for readers without
    view_sensitive stays the job of permissions.sensitive.
    """

    # No single-column indexes: (tenant, module, id) serves lists, and lets PostgreSQL read a module in id order.
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+", db_index=False)
    module = models.ForeignKey("permissions.Module", on_delete=models.PROTECT, related_name="resources", db_index=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    uid = models.UUIDField(default=uuid.uuid4, editable=False)
    sealed_attributes = EncryptedTextField(_("sensitive attributes (encrypted)"), null=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    owner_organisation = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("owner organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # (tenant, owner_organisation, module) below serves the sharing rules
    )
    external_id = models.CharField(_("external id"), max_length=200, null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = RestrictedManager()  # tenant-scoped; .restrict(user, action) is the read door

    class Meta:
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        ordering = ["id"]
        # guardian's object permissions point at these rows; one permission per action of the vocabulary.
        default_permissions = ()
        permissions = [(f"{action.value}_resource", f"{action.value} resource") for action in Action]
        indexes = [
            models.Index(fields=["tenant", "module", "id"], name="resource_tenant_module_id"),
            models.Index(fields=["tenant", "owner_organisation", "module"], name="resource_tenant_owner_org"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "module", "external_id"], name="resource_tenant_module_external_id"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        if instance.__dict__.get("sealed_attributes") and "attributes" in instance.__dict__:
            try:
                sealed = json.loads(instance.sealed_attributes)
            except DecryptionFailed:  # a crypto-shredded tenant: its sensitive values are gone for good
                sealed = {}
            instance.attributes = {**(instance.attributes or {}), **sealed}
        return instance

    def save(self, *args, **kwargs):
        """Save, with the module's sensitive attributes split off into the encrypted column."""
        merged = dict(self.attributes or {})
        names = set(self.module.sensitive_attributes or ()) if self.module_id else set()
        sealed = {key: value for key, value in merged.items() if key in names}
        self.attributes = {key: value for key, value in merged.items() if key not in names}
        self.sealed_attributes = json.dumps(sealed, sort_keys=True, ensure_ascii=False) if sealed else None
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "attributes" in update_fields:
            kwargs["update_fields"] = {*update_fields, "sealed_attributes"}
        try:
            super().save(*args, **kwargs)
        finally:
            self.attributes = merged
