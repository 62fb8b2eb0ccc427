"""Mined roles as real roles: their rights as a role matrix, the nearest existing role, the grants they
would replace, the impact preview, and "create this role" through the audited role services."""

from __future__ import annotations

from django.db import transaction

import audit
from accounts.models import User
from audit.events import EventType
from intelligence.models import ProposalStatus, RoleProposal
from permissions.models import PendingChange
from permissions.services import preview as preview_services
from permissions.services import roles as role_services
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.vocabulary import BITS


def proposal_rights(matrix, mined) -> dict[str, int]:
    """The mined role's rights as a role matrix: module key → actions mask."""
    out: dict[str, int] = {}
    for column in mined.rights:
        right = matrix.rights[int(column)]
        out[right.module_key] = out.get(right.module_key, 0) | BITS[right.action]
    return dict(sorted(out.items()))


def nearest_role(matrix, mined):
    """The existing role (held by someone) most like the mined one, by Jaccard similarity of rights."""
    wanted = set(int(j) for j in mined.rights)
    best, best_similarity = None, 0.0
    for role_id, role in matrix.roles.items():
        rows = (matrix.role_ids == role_id).nonzero()[0]
        if not rows.size:
            continue
        have = set(int(j) for j in matrix.from_role[rows[0]].nonzero()[0])
        similarity = len(wanted & have) / max(len(wanted | have), 1)
        if similarity > best_similarity:
            best, best_similarity = role, similarity
    return best, best_similarity


def replaced_grants(matrix, mined) -> list[int]:
    """Direct grants of the role's members on the role's rights: what holding the role would make redundant."""
    ids: set[int] = set()
    for row in mined.users:
        for column in mined.rights:
            ids.update(matrix.direct.get((int(row), int(column)), ()))
    return sorted(ids)


def preview(proposal: RoleProposal):
    """What the members would gain and lose if each held a role with these rights instead of their own
    (``permissions.services.preview``: computed, nothing written)."""
    members = list(User.objects.filter(pk__in=proposal.members, is_active=True).select_related("role"))
    return preview_services.preview_users_to_matrix(members, proposal.rights)


@transaction.atomic
def adopt(proposal: RoleProposal, *, actor, name: str, reason: str = ""):
    """Create a role with the proposal's rights in one step: ``create_role`` then ``set_role_matrix`` (each
    audited; a matrix with console rights waits for a second administrator, as in the console). Returns the
    role, or the PendingChange of its matrix."""
    proposal = RoleProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != ProposalStatus.OPEN:
        raise AccessRefused(ErrorCode.INVALID, "this proposal is no longer open")
    role = role_services.create_role(
        actor=actor, tenant=actor.tenant, name=name, description=f"mined role proposal {proposal.pk}"
    )
    result = role_services.set_role_matrix(role, proposal.rights, actor=actor, reason=reason)
    proposal.status, proposal.created_role = ProposalStatus.DONE, role
    proposal.save(update_fields=["status", "created_role"])
    pending = isinstance(result, PendingChange)
    audit.record(
        EventType.INTELLIGENCE_ROLE_ADOPTED,
        tenant=actor.tenant,
        actor=actor,
        target=role,
        after={"proposal": proposal.pk, "rights": proposal.rights, "pending_approval": pending},
        reason=reason,
    )
    return result
