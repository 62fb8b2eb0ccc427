"""A seeded generator of synthetic tenants with a known answer, and the figures that score an analysis.

Hidden roles are random sets of ``role_size`` rights (none inside another); each user holds one to three
of them (Zipf-like popularity); then ``overgrant_share`` of the users receive one right none of their roles
gives (a planted over-grant) and ``missing_share`` lose one right that exactly one of their roles gives (a
planted missing grant). Usage: a right of the user's roles was last used 0–200 days ago (mostly recently);
an over-grant mostly never. The generator works on the matrix directly; ``intelligence.tenant_matrix``
is the path from a real tenant's rows to the same matrix.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from intelligence.analysis.mining import mine_roles
from intelligence.analysis.rightsizing import ADD, REMOVE, right_size


@dataclass
class SyntheticTenant:
    """The observed matrix, the days since last use, and the planted truth."""

    x: np.ndarray
    idle_days: np.ndarray
    roles: np.ndarray  # hidden roles × rights
    holds: list  # per user, the indices of their hidden roles
    overgrants: set = field(default_factory=set)  # (user, right)
    missing: set = field(default_factory=set)  # (user, right)


def _hidden_roles(rng, n_roles: int, n_rights: int, role_size: tuple[int, int]) -> np.ndarray:
    roles: list[np.ndarray] = []
    while len(roles) < n_roles:
        row = np.zeros(n_rights, dtype=bool)
        row[rng.choice(n_rights, size=rng.integers(role_size[0], role_size[1] + 1), replace=False)] = True
        if all((row & other).sum() < min(row.sum(), other.sum()) - 1 for other in roles):
            roles.append(row)
    return np.array(roles)


def _assign(rng, n_users: int, n_roles: int) -> list[np.ndarray]:
    popularity = 1.0 / np.arange(1, n_roles + 1) ** 0.8
    popularity /= popularity.sum()
    how_many = rng.choice([1, 2, 3], size=n_users, p=[0.5, 0.35, 0.15])
    # Weighted sampling without replacement for every user at once (the Gumbel top-k trick).
    order = np.argsort(-(np.log(popularity)[None, :] + rng.gumbel(size=(n_users, n_roles))), axis=1)
    return [order[user, :k] for user, k in enumerate(how_many)]


def generate(
    *,
    users: int = 100_000,
    rights: int = 200,
    roles: int = 20,
    overgrant_share: float = 0.05,
    missing_share: float = 0.02,
    role_size: tuple[int, int] = (5, 15),
    seed: int = 0,
) -> SyntheticTenant:
    """A synthetic tenant (see the module's docstring)."""
    rng = np.random.default_rng(seed)
    hidden = _hidden_roles(rng, roles, rights, role_size)
    holds = _assign(rng, users, roles)
    assigned = np.zeros((users, roles), dtype=np.float32)
    for user, held in enumerate(holds):
        assigned[user, held] = 1.0
    true = (assigned @ hidden.astype(np.float32)) > 0
    x = true.copy()
    tenant = SyntheticTenant(x=x, idle_days=np.zeros((users, rights)), roles=hidden, holds=holds)
    for user in rng.choice(users, size=int(users * overgrant_share), replace=False):
        right = int(rng.choice(np.nonzero(~true[user])[0]))
        x[user, right] = True
        tenant.overgrants.add((int(user), right))
    for user in rng.choice(users, size=int(users * missing_share), replace=False):
        given_once = hidden[holds[user]].sum(axis=0) == 1
        right = int(rng.choice(np.nonzero(given_once & true[user])[0]))
        x[user, right] = False
        tenant.missing.add((int(user), right))
    idle = rng.choice([3.0, 20.0, 60.0, 200.0], size=(users, rights), p=[0.55, 0.25, 0.1, 0.1])
    for user, right in tenant.overgrants:
        idle[user, right] = np.inf if rng.random() < 0.8 else 45.0
    tenant.idle_days = idle
    return tenant


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def roles_recovered(hidden: np.ndarray, mined: list, *, min_jaccard: float = 1.0) -> int:
    """How many hidden roles some mined role matches (Jaccard ≥ ``min_jaccard``; 1.0 = exactly)."""
    if not mined:
        return 0
    found = np.zeros((len(mined), hidden.shape[1]), dtype=bool)
    for index, role in enumerate(mined):
        found[index, role.rights] = True
    return sum(1 for role in hidden if max(_jaccard(role, other) for other in found) >= min_jaccard)


def _precision_recall(proposed: set, planted: set) -> tuple[float, float]:
    hit = len(proposed & planted)
    return hit / max(len(proposed), 1), hit / max(len(planted), 1)


def evaluate(tenant: SyntheticTenant) -> dict:
    """Run the whole analysis (mining, then right-sizing) on a synthetic tenant and score it."""
    started = time.perf_counter()
    mined = mine_roles(tenant.x)
    mined_at = time.perf_counter()
    proposals = right_size(tenant.x, mined, idle_days=tenant.idle_days)
    finished = time.perf_counter()
    removals, additions = proposals.pairs(REMOVE), proposals.pairs(ADD)
    planted = {(u, j, REMOVE) for u, j in tenant.overgrants} | {(u, j, ADD) for u, j in tenant.missing}
    proposed = {(u, j, REMOVE) for u, j in removals} | {(u, j, ADD) for u, j in additions}
    precision, recall = _precision_recall(proposed, planted)
    removal_p, removal_r = _precision_recall(removals, tenant.overgrants)
    addition_p, addition_r = _precision_recall(additions, tenant.missing)
    return {
        "users": tenant.x.shape[0],
        "rights": tenant.x.shape[1],
        "hidden_roles": len(tenant.roles),
        "mined_roles": len(mined),
        "roles_exact": roles_recovered(tenant.roles, mined),
        "roles_jaccard_08": roles_recovered(tenant.roles, mined, min_jaccard=0.8),
        "planted_overgrants": len(tenant.overgrants),
        "planted_missing": len(tenant.missing),
        "proposals": len(proposals),
        "precision": precision,
        "recall": recall,
        "removal_precision": removal_p,
        "removal_recall": removal_r,
        "addition_precision": addition_p,
        "addition_recall": addition_r,
        "mining_seconds": mined_at - started,
        "rightsizing_seconds": finished - mined_at,
        "seconds": finished - started,
    }
