"""Submitting a tenant's checkpoints to its witnesses (C2SP tlog-witness) and storing their answers.

For each witness the tenant configured (``manage.py audit_witness``), the checkpoint is posted with the
consistency proof from the size that witness last cosigned (0 if none). A 409 carrying the witness's size
(``text/x.tlog.size``) is retried once from that size when the log can prove it; a witness that has seen
more than the log holds, a 409 without a size (same size, another root) and a 422 (bad proof) are forks:
the refusal is stored, logged at ERROR, and shown on the audit page. Cosignatures are verified with the
witness's key before they are stored. A checkpoint counts only when ``quorum`` witnesses cosigned it.
"""

from __future__ import annotations

import base64
import logging
import urllib.error
import urllib.request

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from accounts.scoping import tenant_scope
from audit import signednote

logger = logging.getLogger("portcullis.audit")
MAX_ANSWER = 16 * 1024


def quorum(tenant) -> int:
    """How many cosignatures a checkpoint of this tenant needs (0 when it has no witness)."""
    from audit.models import Witness, WitnessPolicy

    with tenant_scope(tenant):
        policy = WitnessPolicy.objects.first()
        count = Witness.objects.count()
    if count == 0:
        return 0
    return min(policy.quorum if policy else 1, count)


def _post(url: str, body: bytes) -> tuple[int, str, str]:
    """(HTTP status, content type, text) of one add-checkpoint request; status 0 when unreachable."""
    request = urllib.request.Request(
        url.rstrip("/") + "/add-checkpoint", data=body, method="POST", headers={"Content-Type": "text/plain"}
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.AUDIT_WITNESS_TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status, response.headers.get("Content-Type", ""), response.read(MAX_ANSWER).decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read(MAX_ANSWER).decode("utf-8", "replace")
    except (OSError, ValueError) as error:
        return 0, "", str(error)


def _body(old: int, proof: list[bytes], note: str) -> bytes:
    lines = [f"old {old}"] + [base64.b64encode(h).decode() for h in proof]
    return ("\n".join(lines) + "\n\n" + note).encode("utf-8")


def _last_cosigned(witness) -> int:
    from audit.models import WitnessSubmission

    found = WitnessSubmission.objects.filter(witness=witness, status=WitnessSubmission.COSIGNED).aggregate(
        size=Max("checkpoint__tree_size")
    )
    return found["size"] or 0


def _ask(witness, checkpoint, tree) -> tuple[str, int | None, str, str]:
    """(status, HTTP status, detail, cosignature line) of one witness for one checkpoint."""
    from audit.models import WitnessSubmission

    try:
        verifier = signednote.parse_vkey(witness.vkey)
    except signednote.NoteError as exc:
        return WitnessSubmission.UNREACHABLE, None, f"bad verifier key: {exc}", ""
    text = checkpoint.note[: checkpoint.note.index("\n\n") + 1]
    old = min(_last_cosigned(witness), checkpoint.tree_size)
    for _attempt in range(2):
        proof = tree.consistency_proof(old, checkpoint.tree_size)
        status, content_type, answer = _post(witness.url, _body(old, proof, checkpoint.note))
        if status == 0:
            return WitnessSubmission.UNREACHABLE, None, answer[:500], ""
        if status == 200:
            for line in answer.splitlines(keepends=True):
                try:
                    _, [signature] = signednote.split_note("x\n\n" + line)
                    if signednote.check(text, signature, verifier) is not None:
                        return WitnessSubmission.COSIGNED, 200, "", line
                except signednote.NoteError:
                    continue
            return WitnessSubmission.REFUSED, 200, "the witness answered no valid cosignature", ""
        if status == 409 and content_type.startswith("text/x.tlog.size"):
            try:
                seen = int(answer.strip())
            except ValueError:
                seen = -1
            if seen > checkpoint.tree_size:
                return (
                    WitnessSubmission.REFUSED,
                    409,
                    f"fork: the witness has cosigned {seen} events, the log now holds {checkpoint.tree_size}",
                    "",
                )
            if 0 <= seen != old:
                old = seen
                continue
        return WitnessSubmission.REFUSED, status, answer.strip()[:500], ""
    return WitnessSubmission.REFUSED, 409, "the witness's size keeps changing", ""


def submit(tenant, checkpoint, tree) -> list:
    """Ask every witness of the tenant that has not cosigned ``checkpoint`` yet; returns the new submissions."""
    from audit.models import Witness, WitnessSubmission

    made = []
    with tenant_scope(tenant):
        done = set(
            WitnessSubmission.objects.filter(checkpoint=checkpoint, status=WitnessSubmission.COSIGNED).values_list(
                "witness_id", flat=True
            )
        )
        for witness in Witness.objects.exclude(pk__in=done).order_by("name"):
            status, http_status, detail, line = _ask(witness, checkpoint, tree)
            made.append(
                WitnessSubmission.objects.create(
                    tenant=tenant,
                    checkpoint=checkpoint,
                    witness=witness,
                    status=status,
                    http_status=http_status,
                    detail=detail,
                    cosignature=line,
                )
            )
            if status == WitnessSubmission.REFUSED:
                logger.error(
                    "audit witness refused checkpoint tenant=%s index=%s size=%s witness=%s status=%s: %s",
                    tenant.pk,
                    checkpoint.index,
                    checkpoint.tree_size,
                    witness.name,
                    http_status,
                    detail,
                )
            elif status == WitnessSubmission.UNREACHABLE:
                logger.warning("audit witness unreachable tenant=%s witness=%s: %s", tenant.pk, witness.name, detail)
    return made


def cosignature_lines(tenant) -> dict[int, list[str]]:
    """{checkpoint id: its stored cosignature lines} of the tenant, in one query."""
    from audit.models import WitnessSubmission

    found: dict[int, list[str]] = {}
    with tenant_scope(tenant):
        rows = (
            WitnessSubmission.objects.filter(status=WitnessSubmission.COSIGNED)
            .order_by("witness__name", "created_at")
            .values_list("checkpoint_id", "cosignature")
        )
        for checkpoint_id, line in rows:
            found.setdefault(checkpoint_id, []).append(line)
    return found


def cosigned_note(checkpoint, lines: list[str] | None = None) -> str:
    """The checkpoint's signed note with every stored cosignature line appended (C2SP form)."""
    from audit.models import WitnessSubmission

    if lines is None:
        lines = (
            WitnessSubmission.objects.dangerously_all_tenants()
            .filter(checkpoint=checkpoint, status=WitnessSubmission.COSIGNED)
            .order_by("witness__name", "created_at")
            .values_list("cosignature", flat=True)
        )
    seen: list[str] = []
    for line in lines:
        if line not in seen:
            seen.append(line)
    return checkpoint.note + "".join(seen)


def latest_witnessed(tenant):
    """The latest checkpoint cosigned by at least the tenant's quorum of witnesses (None if there is none)."""
    from django.db.models import Count, Q

    from audit.models import Checkpoint, WitnessSubmission

    needed = quorum(tenant)
    with tenant_scope(tenant):
        cosigned = Q(submissions__status=WitnessSubmission.COSIGNED)
        return (
            Checkpoint.objects.annotate(cosigned=Count("submissions__witness", filter=cosigned, distinct=True))
            .filter(cosigned__gte=needed)
            .order_by("-index")
            .first()
        )


def status(tenant) -> dict:
    """For the audit page: the latest checkpoint, its cosignatures against the quorum, and recent refusals."""
    from audit.models import Checkpoint, Witness, WitnessSubmission

    with tenant_scope(tenant):
        latest = Checkpoint.objects.order_by("-index").first()
        witnesses = list(Witness.objects.order_by("name"))
        cosigned = 0
        if latest is not None:
            cosigned = (
                WitnessSubmission.objects.filter(checkpoint=latest, status=WitnessSubmission.COSIGNED)
                .values("witness")
                .distinct()
                .count()
            )
        refusals = list(
            WitnessSubmission.objects.filter(status=WitnessSubmission.REFUSED)
            .select_related("witness", "checkpoint")
            .order_by("-created_at")[:5]
        )
    needed = quorum(tenant)
    return {
        "latest": latest,
        "witnesses": witnesses,
        "cosigned": cosigned,
        "quorum": needed,
        "witnessed": latest is not None and cosigned >= needed,
        "refusals": refusals,
    }


# -- configuration (one service: validated and audited) --------------------------------------------
def _configuration(tenant) -> dict:
    from audit.models import Witness

    with tenant_scope(tenant):
        return {"witnesses": {w.name: w.url for w in Witness.objects.order_by("name")}, "quorum": quorum(tenant)}


def configure(tenant, *, add=None, remove: str | None = None, quorum_value: int | None = None, actor=None):
    """Add a witness ``add=(name, vkey, url)``, remove one by name, or set the quorum; audited in one transaction.

    Raises ValueError (nothing changed) on a malformed verifier key or URL, an unknown name, or a quorum
    below 1 or above the number of witnesses.
    """
    import audit
    from audit.events import EventType
    from audit.models import Witness, WitnessPolicy

    with transaction.atomic(), tenant_scope(tenant):
        before = _configuration(tenant)
        if add is not None:
            name, vkey, url = add
            try:
                signednote.parse_vkey(vkey)
            except signednote.NoteError as exc:
                raise ValueError(str(exc)) from None
            if signednote.parse_vkey(vkey).key_type != signednote.COSIGNATURE_V1:
                raise ValueError("a witness's verifier key is a cosignature/v1 (0x04) key")
            if not url.startswith(("http://", "https://")):
                raise ValueError("the witness URL must be http(s)")
            if Witness.objects.filter(name=name).exists():
                raise ValueError(f"a witness named {name!r} exists already")
            Witness.objects.create(tenant=tenant, name=name, vkey=vkey.strip(), url=url)
        if remove is not None:
            witness = Witness.objects.filter(name=remove).first()
            if witness is None:
                raise ValueError(f"no witness named {remove!r}")
            if witness.submissions.exists():
                raise ValueError("a witness that answered is kept (its cosignatures verify old checkpoints)")
            witness.delete()
        if quorum_value is not None:
            count = Witness.objects.count()
            if not 1 <= quorum_value <= max(count, 1):
                raise ValueError(f"the quorum must be between 1 and the number of witnesses ({count})")
            WitnessPolicy.objects.update_or_create(tenant=tenant, defaults={"quorum": quorum_value})
        after = _configuration(tenant)
        if after != before:
            audit.record(EventType.AUDIT_WITNESSES_CHANGED, tenant=tenant, actor=actor, before=before, after=after)
    return after
