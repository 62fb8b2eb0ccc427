"""Rows for the pages: stored and computed figures joined with names and their words."""

from __future__ import annotations

from accounts.models import User
from intelligence import presenting
from permissions.models import Module
from permissions.vocabulary import Action

OUTLIER_ROWS = 200


def action_label(action: str) -> str:
    """An action's name in the reader's language."""
    try:
        return str(Action(action).label)
    except ValueError:
        return action


def outlier_rows(analysis) -> list[dict]:
    """The most unusual (user, right) pairs, with their reason and how their score is computed."""
    m, o = analysis.matrix, analysis.outliers
    rows = []
    for index in range(min(len(o), OUTLIER_ROWS)):
        i, j = int(o.users[index]), int(o.rights[index])
        right = m.rights[j]
        role = m.roles.get(int(m.role_ids[i]))
        org = m.organisations.get(int(m.org_ids[i]), "")
        idle = m.idle_days[i, j]
        idle_days = None if idle == float("inf") else int(idle)
        k, n, score = int(o.holding[index]), int(o.peers[index]), float(o.score[index])
        rows.append(
            {
                "user_id": m.user_ids[i],
                "email": m.emails[i],
                "right": f"{m.modules[right.module_id].display_name} · {action_label(right.action)}",
                "score": presenting.percent(score),
                "reason": presenting.outlier_reason(k, n, org, str(role.display_name) if role else "", idle_days),
                "score_text": presenting.score_text(score, k, n),
                "from_role": bool(m.from_role[i, j]),
            }
        )
    return rows


def proposal_rows(proposals) -> list[dict]:
    """Stored right-sizing proposals with their words."""
    users = dict(User.objects.filter(pk__in={p.user_id for p in proposals}).values_list("id", "email"))
    modules = {m.pk: m for m in Module.objects.all()}
    return [
        {
            "proposal": p,
            "email": users.get(p.user_id, ""),
            "right": f"{modules[p.module_id].display_name} · {action_label(p.action)}",
            "confidence": presenting.percent(p.confidence),
            "reason": presenting.proposal_text(p.reason),
            "confidence_text": presenting.confidence_text(p.reason),
        }
        for p in proposals
    ]


def rights_text(rights: dict[str, int]) -> list[str]:
    """A role matrix as readable lines: "Reports: View, Export"."""
    from permissions.vocabulary import actions_of

    modules = {m.key: m for m in Module.objects.filter(key__in=list(rights))}
    return [
        f"{modules[key].display_name if key in modules else key}: {', '.join(str(a.label) for a in actions_of(mask))}"
        for key, mask in sorted(rights.items())
    ]
