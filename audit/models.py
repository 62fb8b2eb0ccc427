"""The audit trail's tables: events (append-only, hash-chained), checkpoints (append-only, signed) and the
erasable clear values of personal data that events hold only as salted commitments.

The event's ``canonical`` text (RFC 8785 JSON) is the record; the other columns of ``AuditEvent`` are
copies kept for filtering, and the verifier checks that they agree with it (see docs/audit-format.md).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantManager


class AuditEvent(models.Model):
    """One append-only record of a security-relevant change in one tenant (position ``seq`` of its log)."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveBigIntegerField(_("position"))
    event_type = models.CharField(_("event"), max_length=64)
    occurred_at = models.DateTimeField(_("time"))
    # A plain number, not a foreign key: deleting a user must never touch (update) an event row.
    actor_id = models.PositiveBigIntegerField(_("actor id"), null=True, blank=True)
    target_type = models.CharField(_("target type"), max_length=64, blank=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    canonical = models.TextField(_("canonical form"))
    leaf_hash = models.CharField(_("leaf hash"), max_length=64)
    chain_hash = models.CharField(_("chain hash"), max_length=64)

    objects = TenantManager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["tenant", "seq"]
        constraints = [models.UniqueConstraint(fields=["tenant", "seq"], name="audit_event_tenant_seq_unique")]
        indexes = [
            models.Index(fields=["tenant", "event_type", "seq"], name="audit_event_type"),
            models.Index(fields=["tenant", "actor_id", "seq"], name="audit_event_actor"),
            models.Index(fields=["tenant", "target_type", "target_id"], name="audit_event_target"),
            models.Index(fields=["tenant", "occurred_at"], name="audit_event_time"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.seq}"

    def get_event_type_label(self) -> str:
        """The event type's translated name."""
        from audit.events import EventType

        try:
            return str(EventType(self.event_type).label)
        except ValueError:
            return self.event_type

    # The recorded content, read from the canonical form (what the hashes cover).
    @property
    def payload(self) -> dict:
        """The event as recorded (personal values appear as commitments)."""
        cached = self.__dict__.get("_payload")
        if cached is None:
            import json

            cached = self.__dict__["_payload"] = json.loads(self.canonical)
        return cached

    def _clear(self) -> dict:
        """Clear personal values by field name: prefetched by the viewer, else read once."""
        cached = self.__dict__.get("_personal")
        if cached is None:
            from audit.personal import clear_values

            cached = self.__dict__["_personal"] = clear_values([self]).get(self.seq, {})
        return cached

    def set_personal(self, values: dict) -> None:
        """Attach already fetched clear personal values (field → text)."""
        self.__dict__["_personal"] = values

    def _resolve(self, field: str, value):
        from audit.personal import reveal

        return reveal(value, field, self._clear())

    @property
    def before(self):
        """The values before the change (personal ones in clear while not erased)."""
        return self._resolve("before", self.payload.get("before"))

    @property
    def after(self):
        """The values after the change (personal ones in clear while not erased)."""
        return self._resolve("after", self.payload.get("after"))

    @property
    def reason(self) -> str:
        """Why, as the actor said."""
        return self.payload.get("reason", "")

    @property
    def actor_label(self) -> str:
        """The actor's name as text at the time (empty once erased)."""
        actor = self.payload.get("actor") or {}
        return self._resolve("actor", actor.get("label", "")) or ""

    @property
    def actor_is_operator(self) -> bool:
        """The actor was a platform operator, not a user of the tenant (INS-4)."""
        return (self.payload.get("actor") or {}).get("kind") == "operator"

    @property
    def target_label(self) -> str:
        """The target's text at the time (empty once erased)."""
        target = self.payload.get("target") or {}
        return self._resolve("target", target.get("label", "")) or ""

    @property
    def address(self) -> str:
        """The client address (empty once erased)."""
        return self._resolve("address", self.payload.get("address", "")) or ""

    @property
    def user_agent(self) -> str:
        """The client's user agent."""
        return self.payload.get("user_agent", "")

    @property
    def request_id(self) -> str:
        """The id of the request that made the change."""
        return self.payload.get("request_id", "")

    @property
    def actor(self):
        """The acting user, while the account exists (None for the system or a deleted user)."""
        if self.actor_id is None:
            return None
        from accounts.models import User

        return User.objects.dangerously_all_tenants().filter(pk=self.actor_id, tenant_id=self.tenant_id).first()


class PersonalValue(models.Model):
    """The clear personal values of one event about one person, with the salts of their commitments.

    ``values`` is JSON text ``{field: {"salt": hex, "value": text}}``. Not append-only on purpose:
    erasing a person deletes their rows; the event keeps only the commitments, so the chain still
    verifies (see docs/audit-format.md, "Personal data").
    """

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveBigIntegerField(_("position"))
    subject_id = models.PositiveBigIntegerField(_("subject id"), null=True, blank=True)
    values = models.TextField(_("values"))

    objects = TenantManager()

    class Meta:
        verbose_name = _("personal value")
        verbose_name_plural = _("personal values")
        indexes = [
            models.Index(fields=["tenant", "seq"], name="audit_personal_seq"),
            models.Index(fields=["tenant", "subject_id"], name="audit_personal_subject"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} ({self.subject_id})"

    def fields(self) -> dict[str, dict]:
        """{field: {"salt": hex, "value": text}}."""
        import json

        return json.loads(self.values)


class Checkpoint(models.Model):
    """A signed statement of one tenant's log: its size and Merkle root at a time (append-only)."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+")
    index = models.PositiveIntegerField(_("number"))
    tree_size = models.PositiveBigIntegerField(_("tree size"))
    root_hash = models.CharField(_("root hash"), max_length=64)
    created_at = models.DateTimeField(_("time"))
    key_id = models.CharField(_("key id"), max_length=64)
    note = models.TextField(_("signed note"))
    signature = models.CharField(_("signature"), max_length=200)
    consistency = models.JSONField(_("consistency proof"), default=list)

    objects = TenantManager()

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["tenant", "index"]
        constraints = [models.UniqueConstraint(fields=["tenant", "index"], name="audit_checkpoint_unique")]

    def __str__(self) -> str:
        return f"checkpoint {self.index} ({self.tree_size})"


class Witness(models.Model):
    """A witness a tenant's checkpoints are submitted to (C2SP tlog-witness), with its verifier key.

    Used to submit checkpoints and show their status; verification with a root of trust takes the witness
    keys from its own trusted inputs (settings or command line), never from this table.
    """

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    vkey = models.CharField(_("verifier key"), max_length=300)
    url = models.URLField(_("submission URL"), max_length=300)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    objects = TenantManager()

    class Meta:
        verbose_name = _("witness")
        verbose_name_plural = _("witnesses")
        ordering = ["tenant", "name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="audit_witness_unique")]

    def __str__(self) -> str:
        return self.name


class WitnessPolicy(models.Model):
    """How many of the tenant's witnesses must cosign a checkpoint for it to count (its quorum)."""

    tenant = models.OneToOneField("accounts.Tenant", on_delete=models.PROTECT, related_name="+")
    quorum = models.PositiveSmallIntegerField(_("quorum"), default=1)

    objects = TenantManager()

    class Meta:
        verbose_name = _("witness policy")
        verbose_name_plural = _("witness policies")

    def __str__(self) -> str:
        return f"quorum {self.quorum}"


class WitnessSubmission(models.Model):
    """One witness's answer to one checkpoint: its cosignature line, or its refusal (a fork) or silence."""

    COSIGNED, REFUSED, UNREACHABLE = "cosigned", "refused", "unreachable"
    STATUSES = [(COSIGNED, _("cosigned")), (REFUSED, _("refused")), (UNREACHABLE, _("unreachable"))]

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+")
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="submissions")
    witness = models.ForeignKey(Witness, on_delete=models.PROTECT, related_name="submissions")
    status = models.CharField(_("status"), max_length=16, choices=STATUSES)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    detail = models.TextField(_("detail"), blank=True)
    cosignature = models.TextField(_("cosignature"), blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    objects = TenantManager()

    class Meta:
        verbose_name = _("witness submission")
        verbose_name_plural = _("witness submissions")
        ordering = ["tenant", "checkpoint", "witness", "created_at"]
        indexes = [models.Index(fields=["tenant", "witness", "status"], name="audit_submission_witness")]

    def __str__(self) -> str:
        return f"{self.witness} {self.status}"


class Timestamp(models.Model):
    """An RFC 3161 time-stamp token over a checkpoint's text, from one time-stamping authority."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+")
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="timestamps")
    authority = models.CharField(_("authority"), max_length=300)
    token = models.TextField(_("time-stamp response (base64 DER)"))
    gen_time = models.DateTimeField(_("time stamped"))

    objects = TenantManager()

    class Meta:
        verbose_name = _("trusted timestamp")
        verbose_name_plural = _("trusted timestamps")
        ordering = ["tenant", "checkpoint", "gen_time"]

    def __str__(self) -> str:
        return f"{self.authority} {self.gen_time:%Y-%m-%dT%H:%M:%SZ}"
