"""Role mining: a few roles (sets of rights) whose Boolean product with a user-role assignment describes
the users × rights matrix with as few grants as possible (the minimal-noise role mining problem).

The recipe measured in docs/intelligence.md (after Vaidya et al., "RoleMiner", CCS 2006, and the greedy
biclique cover of Ene et al., SACMAT 2008):

1. deduplicate users into distinct sets of rights, with counts;
2. candidates (FastMiner): the most frequent sets and the pairwise intersections of the ``top_sets`` most
   frequent ones, ranked by how often each candidate is generated;
3. greedy cover: repeatedly take the candidate covering the most still-uncovered (user, right) cells among
   the users holding all of its rights (a role never gives a user a right they lack), until the best gain
   falls below ``stop_share`` of all cells: what is left is exceptions, which reviewers should see;
4. drop chosen roles that the other chosen roles already describe (a union of two roles, a shared part).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from intelligence.analysis.matrix import dense, row_keys, unique_rows

TOP_SETS = 1500
MAX_CANDIDATES = 2500
STOP_SHARE = 0.002
MIN_USERS = 5
MIN_RIGHTS = 2


@dataclass
class MinedRole:
    """A proposed role: its rights (column indices), the users holding all of them (row indices), and the
    (user, right) cells it describes (``coverage`` = users × rights)."""

    rights: np.ndarray
    users: np.ndarray
    gain: int

    @property
    def coverage(self) -> int:
        """How many (user, right) cells the role describes."""
        return int(self.users.size * self.rights.size)


def _candidates(sets: np.ndarray, counts: np.ndarray, top_sets: int, max_candidates: int) -> np.ndarray:
    """FastMiner candidates: frequent sets and the intersections of the most frequent pairs."""
    order = np.argsort(-counts, kind="stable")[:top_sets]
    top = sets[order]
    pieces, weights = [top], [counts[order].astype(np.int64)]
    for i in range(len(top) - 1):
        inter = top[i] & top[i + 1 :]
        pieces.append(inter)
        weights.append(np.ones(len(inter), dtype=np.int64))
    every = np.concatenate(pieces)
    weight = np.concatenate(weights)
    sizes = every.sum(axis=1)
    every, weight = every[sizes >= MIN_RIGHTS], weight[sizes >= MIN_RIGHTS]
    if not len(every):
        return every
    _, first, inverse = np.unique(row_keys(every), return_index=True, return_inverse=True)
    score = np.bincount(inverse.ravel(), weights=weight)
    best = np.argsort(-score, kind="stable")[:max_candidates]
    return every[first[best]]


def _greedy(sets, counts, cands, threshold: float, max_roles: int) -> list[int]:
    """Indices of the chosen candidates, in the order the greedy cover took them."""
    c = cands.astype(np.float32)
    size = cands.sum(axis=1)
    overlap = sets.astype(np.float32) @ c.T
    contain = overlap == size[None, :]
    w = counts.astype(np.float32)
    gain = ((contain * overlap) * w[:, None]).sum(axis=0)
    uncovered = sets.copy()
    chosen: list[int] = []
    while len(chosen) < max_roles:
        best = int(np.argmax(gain))
        if gain[best] < threshold:
            break
        chosen.append(best)
        rows = np.nonzero(contain[:, best])[0]
        newly = uncovered[rows] & cands[best]
        delta = newly.astype(np.float32) @ c.T
        gain -= ((contain[rows] * delta) * w[rows, None]).sum(axis=0)
        gain[best] = -1.0
        uncovered[rows] &= ~cands[best]
    return chosen


def _prune(sets: np.ndarray, roles: np.ndarray) -> list[int]:
    """Keep the roles that some user needs: a role whose rights, for every user holding it, the user's other
    roles already cover is dropped (the most recently taken first)."""
    keep = list(range(len(roles)))
    contain = sets.astype(np.float32) @ roles.T.astype(np.float32) == roles.sum(axis=1)[None, :]
    for r in reversed(range(len(roles))):
        others = [k for k in keep if k != r]
        rows = np.nonzero(contain[:, r])[0]
        if not others or not rows.size:
            continue
        covered = (contain[np.ix_(rows, others)].astype(np.float32) @ roles[others].astype(np.float32)) > 0
        if covered[:, roles[r]].all():
            keep.remove(r)
    return keep


def mine_roles(
    x,
    *,
    top_sets: int = TOP_SETS,
    max_candidates: int = MAX_CANDIDATES,
    stop_share: float = STOP_SHARE,
    min_users: int = MIN_USERS,
    max_roles: int | None = None,
) -> list[MinedRole]:
    """Roles describing ``x`` (users × rights), the most useful first; see the module's docstring."""
    x = dense(x)
    if not x.any():
        return []
    sets, inverse, counts = unique_rows(x)
    cands = _candidates(sets, counts, top_sets, max_candidates)
    if not len(cands):
        return []
    threshold = max(stop_share * float(x.sum()), float(min_users * MIN_RIGHTS))
    chosen = _greedy(sets, counts, cands, threshold, max_roles or len(sets))
    roles = cands[chosen]
    kept = _prune(sets, roles) if len(roles) else []
    out = []
    for index in kept:
        rights = np.nonzero(roles[index])[0]
        holders = np.nonzero(x[:, rights].all(axis=1))[0]
        if holders.size >= min_users:
            out.append(MinedRole(rights=rights, users=holders, gain=int(holders.size * rights.size)))
    return out


def assignment(x, roles: list[MinedRole], *, tolerance: int = 1, min_size: int = 4) -> np.ndarray:
    """Users × roles: True where the user holds the role's rights, or all but ``tolerance`` of them for a
    role of at least ``min_size`` rights (a near fit: the missing ones are candidate additions)."""
    x = dense(x)
    if not roles:
        return np.zeros((x.shape[0], 0), dtype=bool)
    r = np.zeros((len(roles), x.shape[1]), dtype=np.float32)
    for index, role in enumerate(roles):
        r[index, role.rights] = 1.0
    size = r.sum(axis=1)
    overlap = x.astype(np.float32) @ r.T
    allowed = np.where(size >= min_size, tolerance, 0)
    return overlap >= (size - allowed)[None, :]


def role_matrix(roles: list[MinedRole], n_rights: int) -> np.ndarray:
    """The roles as a roles × rights Boolean matrix."""
    r = np.zeros((len(roles), n_rights), dtype=bool)
    for index, role in enumerate(roles):
        r[index, role.rights] = True
    return r
