"""Signed checkpoints: a tenant's log size and Merkle root as a C2SP checkpoint signed with Ed25519, then
submitted to the tenant's witnesses (audit.witnessing), whose cosignatures are stored beside it.

Before signing, the new tree is proved consistent with the previous checkpoint (RFC 9162 consistency
proof, kept with the checkpoint); a history that forked, shrank or changed under a signed checkpoint
is refused with ``ForkError`` and nothing is signed (LOG-4). ``make_due_checkpoints()`` is what the
scheduler calls (hourly by default); reviews call ``make_checkpoint(tenant)`` at start and end.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.scoping import dangerously_unscoped, tenant_scope
from audit import chain, keys, merkle, signednote
from audit.verify_export import log_origin

logger = logging.getLogger("portcullis.audit")


class ForkError(RuntimeError):
    """The log no longer extends the last signed checkpoint: refusing to sign."""


def _leaves(tenant_id: int) -> list[bytes]:
    from audit.models import AuditEvent

    rows = (
        AuditEvent.objects.dangerously_all_tenants()
        .filter(tenant_id=tenant_id)
        .order_by("seq")
        .values_list("seq", "canonical", "leaf_hash")
    )
    leaves = []
    for position, (seq, canonical, stored) in enumerate(rows.iterator(chunk_size=10_000)):
        leaf = merkle.leaf_hash(canonical.encode("utf-8"))
        if seq != position or leaf.hex() != stored:
            raise ForkError(f"event at position {position} is missing or altered; refusing to sign")
        leaves.append(leaf)
    return leaves


def _previous_is_genuine(previous, tenant_id: int) -> bool:
    """The previous checkpoint verifies with a trusted key and states the sizes and root stored beside it."""
    try:
        text, signatures = signednote.split_note(previous.note)
        stated = signednote.parse_checkpoint(text)
    except signednote.NoteError:
        return False
    origin = log_origin(tenant_id)
    public = keys.trusted_public_keys().get(previous.key_id)
    if public is None or stated.origin != origin:
        return False
    verifier = signednote.Verifier(origin, signednote.ED25519, public)
    try:
        signed = any(signednote.check(text, s, verifier) is not None for s in signatures)
    except signednote.NoteError:
        return False
    return signed and (stated.size, stated.root.hex()) == (previous.tree_size, previous.root_hash)


@transaction.atomic
def _sign(tenant, force: bool):
    """(checkpoint, tree, new): sign the log as it is now, or return the last checkpoint when nothing changed."""
    from audit.models import Checkpoint

    chain.lock_log(tenant.pk)  # a stable size: appends wait until we commit
    with tenant_scope(tenant):
        previous = Checkpoint.objects.order_by("-index").first()
        leaves = _leaves(tenant.pk)
        size = len(leaves)
        tree = merkle.Tree(leaves)
        if previous is not None and previous.tree_size == size and not force:
            return previous, tree, False
        root = tree.root()
        proof: list[str] = []
        if previous is not None:
            # The previous checkpoint must itself be genuine (signed by a trusted key) before we extend it.
            if not _previous_is_genuine(previous, tenant.pk):
                raise ForkError("the last checkpoint's signature does not verify; refusing to extend it")
            if size < previous.tree_size:
                raise ForkError(f"the log has {size} events, fewer than the {previous.tree_size} already signed")
            old_root = bytes.fromhex(previous.root_hash)
            proof_bytes = tree.consistency_proof(previous.tree_size, size)
            if not merkle.verify_consistency(previous.tree_size, size, old_root, root, proof_bytes):
                raise ForkError("the log is not consistent with the last signed checkpoint (forked history)")
            proof = [h.hex() for h in proof_bytes]
        key = keys.signing_key()
        index = 0 if previous is None else previous.index + 1
        origin = log_origin(tenant.pk)
        text = signednote.Checkpoint(origin, size, root).text
        line = signednote.sign_line(text, origin, key.private)
        checkpoint = Checkpoint.objects.create(
            tenant=tenant,
            index=index,
            tree_size=size,
            root_hash=root.hex(),
            created_at=timezone.now(),
            key_id=key.key_id,
            note=f"{text}\n{line}",
            signature=line.split(" ")[2].strip(),
            consistency=proof,
        )
    logger.info("audit checkpoint tenant=%s index=%s size=%s key=%s", tenant.pk, index, size, key.key_id)
    return checkpoint, tree, True


def make_checkpoint(tenant, *, force: bool = False, witness: bool = True):
    """Sign the tenant's log as it is now and have its witnesses cosign it; returns the new Checkpoint (or the
    last one if nothing changed, then submitted again to the witnesses that have not cosigned it yet).

    Raises ForkError when the log is not an extension of the previous signed checkpoint. Witnesses are
    called after the signing transaction commits; a refusal is stored, logged and shown on the audit page.
    """
    from audit import timestamps, witnessing

    checkpoint, tree, new = _sign(tenant, force)
    if witness:
        witnessing.submit(tenant, checkpoint, tree)
    if new and settings.AUDIT_TSA_URLS:
        timestamps.stamp(tenant, checkpoint)
    return checkpoint


def make_due_checkpoints(now=None) -> list:
    """Checkpoint every tenant whose log grew and whose last checkpoint is older than the interval.

    The scheduler calls this hourly (AUDIT_CHECKPOINT_INTERVAL_MINUTES). A tenant whose log forked is
    logged and skipped; the others are still checkpointed. Returns the checkpoints made.
    """
    from accounts.models import Tenant
    from audit.models import AuditEvent, Checkpoint

    now = now or timezone.now()
    due_before = now - timedelta(minutes=settings.AUDIT_CHECKPOINT_INTERVAL_MINUTES)
    made = []
    # Platform job over every tenant: each tenant is then handled inside its own scope.
    with dangerously_unscoped():
        tenants = list(Tenant.objects.order_by("pk"))
    for tenant in tenants:
        with tenant_scope(tenant):
            last = Checkpoint.objects.order_by("-index").first()
            size = AuditEvent.objects.count()
        if size == 0 or (last is not None and (last.tree_size == size or last.created_at > due_before)):
            continue
        try:
            made.append(make_checkpoint(tenant))
        except ForkError as exc:
            logger.error("audit checkpoint refused for tenant %s: %s", tenant.pk, exc)
    return made
