"""Usage analytics: which rights are used, by whom, how often; trends per module, organisation and role;
unused rights; rights used but held by few (candidates to add to a role). Reads only (tenant scope)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from accounts.models import User
from intelligence.models import UsageCount
from intelligence.tenant_matrix import build

WINDOW_DAYS = 90
TREND_DAYS = 28
RARE_SHARE = 0.10


@dataclass
class RightUse:
    """One right: holders, users who used it in the window, uses counted, and its category."""

    module_key: str
    module_name: str
    action: str
    holders: int
    users_used: int
    uses: int
    category: str  # "unused", "rare", "used"


@dataclass
class Usage:
    """The page's figures."""

    users: int
    rights: list[RightUse]
    days: list[datetime]
    by_module: dict[str, list[int]] = field(default_factory=dict)  # module → uses per day (oldest first)
    by_organisation: list[tuple[str, int]] = field(default_factory=list)
    by_role: list[tuple[str, int]] = field(default_factory=list)
    by_user: list[tuple[str, int]] = field(default_factory=list)  # who uses rights most, in the window

    def count(self, category: str) -> int:
        """How many rights fall in ``category``."""
        return sum(1 for r in self.rights if r.category == category)


def _category(holders: int, used: int, users: int) -> str:
    if holders and not used:
        return "unused"
    if used and holders < RARE_SHARE * max(users, 1):
        return "rare"
    return "used"


def _uses(now: datetime) -> tuple[Counter, dict]:
    since = now - timedelta(days=WINDOW_DAYS)
    totals: Counter = Counter()
    per_user: dict[tuple, Counter] = defaultdict(Counter)
    rows = UsageCount.objects.filter(hour__gte=since).values("user_id", "module_id", "action", "hour", "count")
    for row in rows:
        totals[(row["module_id"], row["action"])] += row["count"]
        per_user[(row["user_id"],)][(row["module_id"], row["action"], row["hour"])] += row["count"]
    return totals, per_user


def usage(now: datetime) -> Usage:
    """The tenant's usage figures at ``now``."""
    matrix = build(now)
    totals, per_user = _uses(now)
    users = len(matrix.user_ids)
    holders = matrix.x.sum(axis=0) if users else np.zeros(len(matrix.rights), dtype=int)
    used = (matrix.idle_days <= WINDOW_DAYS).sum(axis=0) if users else np.zeros(len(matrix.rights), dtype=int)
    rights = []
    for j, right in enumerate(matrix.rights):
        module = matrix.modules[right.module_id]
        rights.append(
            RightUse(
                right.module_key, str(module.display_name), right.action, int(holders[j]), int(used[j]),
                int(totals.get((right.module_id, right.action), 0)),
                _category(int(holders[j]), int(used[j]), users),
            )
        )  # fmt: skip
    result = Usage(users=users, rights=rights, days=[])
    _trends(result, matrix, per_user, now)
    emails = dict(zip(matrix.user_ids, matrix.emails, strict=True))
    by_user = Counter({emails.get(key[0], ""): sum(counts.values()) for key, counts in per_user.items()})
    result.by_user = by_user.most_common(12)
    return result


def _trends(result: Usage, matrix, per_user: dict, now: datetime) -> None:
    start = (now - timedelta(days=TREND_DAYS - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    result.days = [start + timedelta(days=d) for d in range(TREND_DAYS)]
    by_module: dict[str, list[int]] = {}
    by_org: Counter = Counter()
    by_role: Counter = Counter()
    people = {u["id"]: u for u in User.objects.values("id", "role_id", "organisation_id")}
    keys = {m.pk: m.key for m in matrix.modules.values()}
    for (user_id,), counts in per_user.items():
        person = people.get(user_id, {})
        for (module_id, _action, hour), count in counts.items():
            if hour < start:
                continue
            series = by_module.setdefault(keys.get(module_id, "?"), [0] * TREND_DAYS)
            series[(hour - start).days] += count
            org = matrix.organisations.get(person.get("organisation_id"), "")
            by_org[org] += count
            role = matrix.roles.get(person.get("role_id"))
            by_role[str(role.display_name) if role else ""] += count
    result.by_module = dict(sorted(by_module.items()))
    result.by_organisation = by_org.most_common()
    result.by_role = by_role.most_common()
