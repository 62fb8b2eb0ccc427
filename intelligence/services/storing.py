"""Writing an analysis's proposals (inside ``analysis.store``'s transaction): upserts keyed by what they
propose, so a second run with the same input changes nothing; proposals no longer made are withdrawn;
what a person dismissed or carried out stays so."""

from __future__ import annotations

import hashlib
import math

import numpy as np

from intelligence.models import ProposalStatus, RightsizingProposal, RoleProposal
from intelligence.services.roles import nearest_role, proposal_rights, replaced_grants


def _idle(value: float) -> int | None:
    return None if math.isinf(value) else int(value)


def proposal_reason(analysis, index: int) -> dict:
    """The numbers behind proposal ``index``, stored with it and rendered in the reader's language."""
    p, m = analysis.proposals, analysis.matrix
    row = int(p.users[index])
    role = m.roles.get(int(m.role_ids[row]))
    reason = {
        "kind": str(p.kinds[index]),
        "holding": int(p.holding[index]),
        "peers": int(p.peers[index]),
        "role": role.name if role else "",
        "idle_days": _idle(float(p.idle_days[index])),
        "confidence": round(float(p.confidence[index]), 3),
    }
    if p.role[index] >= 0:
        mined = analysis.roles[int(p.role[index])]
        held = int(m.x[row, mined.rights].sum())
        reason.update({"bundle_size": int(mined.rights.size), "bundle_held": held})
    return reason


def store_proposals(run, analysis) -> dict:
    """Upsert the right-sizing proposals of ``analysis``; withdraw the open ones it no longer makes."""
    p, m = analysis.proposals, analysis.matrix
    existing = {(r.user_id, r.module_id, r.action, r.kind): r for r in RightsizingProposal.objects.all()}
    seen, created, updated = set(), [], []
    for index in range(len(p)):
        right = m.rights[int(p.rights[index])]
        key = (m.user_ids[int(p.users[index])], right.module_id, right.action, str(p.kinds[index]))
        seen.add(key)
        reason = proposal_reason(analysis, index)
        row = existing.get(key)
        if row is None:
            created.append(
                RightsizingProposal(
                    tenant_id=run.tenant_id, run=run, user_id=key[0], module_id=key[1], action=key[2],
                    kind=key[3], confidence=reason["confidence"], reason=reason,
                    created_at=analysis.now, updated_at=analysis.now,
                )
            )  # fmt: skip
        elif row.reason != reason or row.status == ProposalStatus.WITHDRAWN:
            row.run, row.reason, row.confidence, row.updated_at = run, reason, reason["confidence"], analysis.now
            if row.status == ProposalStatus.WITHDRAWN:
                row.status = ProposalStatus.OPEN
            updated.append(row)
    RightsizingProposal.objects.bulk_create(created)
    RightsizingProposal.objects.bulk_update(updated, ["run", "reason", "confidence", "updated_at", "status"])
    gone = [r.pk for key, r in existing.items() if key not in seen and r.status == ProposalStatus.OPEN]
    RightsizingProposal.objects.filter(pk__in=gone).update(status=ProposalStatus.WITHDRAWN, updated_at=analysis.now)
    open_count = RightsizingProposal.objects.filter(status=ProposalStatus.OPEN).count()
    return {"new_proposals": len(created), "withdrawn": len(gone), "open_proposals": open_count}


def role_key(rights: dict) -> str:
    """One key per bundle of rights."""
    return hashlib.sha256(repr(sorted(rights.items())).encode()).hexdigest()


def store_role_proposals(run, analysis) -> dict:
    """Upsert the mined roles as role proposals (members and coverage refreshed); withdraw the rest."""
    m = analysis.matrix
    held = max(int(m.x.sum()), 1)
    existing = {r.key: r for r in RoleProposal.objects.all()}
    seen = set()
    for mined in analysis.roles:
        rights = proposal_rights(m, mined)
        key = role_key(rights)
        seen.add(key)
        members = [m.user_ids[int(i)] for i in np.asarray(mined.users)]
        nearest, similarity = nearest_role(m, mined)
        values = {
            "run": run, "rights": rights, "members": members, "coverage": mined.coverage,
            "share": round(mined.coverage / held, 4), "replaces": replaced_grants(m, mined),
            "nearest_role": nearest, "nearest_similarity": round(similarity, 3),
        }  # fmt: skip
        row = existing.get(key)
        if row is None:
            RoleProposal.objects.create(tenant_id=run.tenant_id, key=key, created_at=analysis.now, **values)
            continue
        if row.status == ProposalStatus.WITHDRAWN:
            values["status"] = ProposalStatus.OPEN
        for field, value in values.items():
            setattr(row, field, value)
        row.save()
    gone = [r.pk for key, r in existing.items() if key not in seen and r.status == ProposalStatus.OPEN]
    RoleProposal.objects.filter(pk__in=gone).update(status=ProposalStatus.WITHDRAWN)
    return {"role_proposals": len(seen), "role_proposals_withdrawn": len(gone)}
