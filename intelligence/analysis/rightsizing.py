"""Right-sizing: which held rights to remove (over-grants) and which missing rights to add, each with a
confidence (0..1) and the numbers behind it.

- **Additions.** A user who holds all but one right of a mined role (a near fit, ``mining.assignment``)
  probably misses that right: confidence = the share of the role's members holding that right (Beta mean)
  times the share of the role the user already holds.
- **Removals.** A held right that none of the user's fitted roles explains, and that fewer than
  ``threshold`` of their peers hold (peers = users with the same fitted roles, refined by ``labels`` such
  as the real role and organisation): confidence = 1 − the Beta mean share of peers holding it.
- **Usage** (days since last use, ``inf`` when never used) shades a removal: used within ``recent_days``
  multiplies it by ``USED_RECENTLY``, used within ``window_days`` by ``USED_IN_WINDOW``.
- **Feedback**: ``pattern_factor(kind, right)`` (from reviewers' agreements and disagreements) multiplies it.

A proposal is kept when its confidence reaches ``min_confidence``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from intelligence.analysis.matrix import beta_mean, dense, group_counts, row_keys
from intelligence.analysis.mining import MinedRole, assignment, role_matrix

THRESHOLD = 0.10
MIN_PEERS = 10
MIN_CONFIDENCE = 0.5
RECENT_DAYS = 30
WINDOW_DAYS = 90
USED_RECENTLY = 0.6
USED_IN_WINDOW = 0.8
ADD = "add"
REMOVE = "remove"


@dataclass
class Proposals:
    """Parallel arrays, one entry per proposal: user row, right column, kind (``ADD`` or ``REMOVE``),
    confidence, and the evidence: holders among the peers (k), number of peers (n), the mined role index
    behind an addition (-1 for a removal) and the days since last use (inf: never)."""

    users: np.ndarray
    rights: np.ndarray
    kinds: np.ndarray
    confidence: np.ndarray
    holding: np.ndarray
    peers: np.ndarray
    role: np.ndarray
    idle_days: np.ndarray

    def __len__(self) -> int:
        return int(self.users.size)

    def pairs(self, kind: str) -> set[tuple[int, int]]:
        """The (user, right) pairs of one kind."""
        pick = self.kinds == kind
        return set(zip(self.users[pick].tolist(), self.rights[pick].tolist(), strict=True))


def _additions(x, roles, fit, r):
    rows, cols, conf, k, n, role_of = [], [], [], [], [], []
    for index, role in enumerate(roles):
        members = np.nonzero(fit[:, index])[0]
        if not members.size:
            continue
        sub = x[np.ix_(members, role.rights)]
        holders = sub.sum(axis=0)
        lacking_rows, lacking_cols = np.nonzero(~sub)
        if not lacking_rows.size:
            continue
        held_share = sub[lacking_rows].sum(axis=1) / role.rights.size
        peers = members.size - 1
        holding = holders[lacking_cols]
        rows.append(members[lacking_rows])
        cols.append(role.rights[lacking_cols])
        conf.append(beta_mean(holding, peers) * held_share)
        k.append(holding)
        n.append(np.full(lacking_rows.size, peers))
        role_of.append(np.full(lacking_rows.size, index))
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0), empty, empty, empty
    users, rights = np.concatenate(rows), np.concatenate(cols)
    # One proposal per (user, right), the most confident when two roles propose the same addition.
    conf_all = np.concatenate(conf)
    order = np.lexsort((-conf_all, rights, users))
    pair = users[order] * (x.shape[1] + 1) + rights[order]
    first = order[np.r_[True, pair[1:] != pair[:-1]]]
    pick = lambda parts: np.concatenate(parts)[first]  # noqa: E731
    return users[first], rights[first], conf_all[first], pick(k), pick(n), pick(role_of)


def _removals(x, fit, r, labels, threshold, min_peers):
    """Held rights no fitted role explains and few peers hold. Peers: users with the same fitted roles (and
    labels); when that group is too small, the members of the user's fitted roles, counting those holding
    the right without a role giving it (the largest such share of the user's roles decides)."""
    expected = (fit.astype(np.float32) @ r.astype(np.float32)) > 0
    extra = x & ~expected
    signature = fit if labels is None else np.concatenate([fit, _one_hot(labels)], axis=1)
    _, groups = np.unique(row_keys(signature), return_inverse=True)
    groups = groups.ravel()
    counts, sizes = group_counts(groups, x)
    rows, cols = np.nonzero(extra)
    peers = sizes[groups[rows]] - 1
    holding = counts[groups[rows], cols] - 1
    small = peers < min_peers
    if small.any() and fit.shape[1]:
        members = fit.sum(axis=0)
        extras = fit.T.astype(np.float32) @ extra.astype(np.float32)  # roles × rights: members holding as extra
        share = (extras[:, cols[small]].T - 1) / np.maximum(members - 1, 1)[None, :]
        share = np.where(fit[rows[small]] & (members >= min_peers + 1)[None, :], share, -1.0)
        best = share.argmax(axis=1)
        usable = share.max(axis=1) >= 0
        peers[small] = np.where(usable, members[best] - 1, 0)
        holding[small] = np.where(usable, extras[best, cols[small]] - 1, 0)
    share = holding / np.maximum(peers, 1)
    keep = (peers >= min_peers) & (share < threshold)
    rows, cols, holding, peers = rows[keep], cols[keep], holding[keep], peers[keep]
    return rows, cols, 1.0 - beta_mean(holding, peers), holding, peers


def _one_hot(labels) -> np.ndarray:
    labels = np.asarray(labels, dtype=np.int64)
    _, inverse = np.unique(labels, return_inverse=True)
    out = np.zeros((labels.size, int(inverse.max()) + 1 if labels.size else 0), dtype=bool)
    out[np.arange(labels.size), inverse.ravel()] = True
    return out


def _usage_factor(idle: np.ndarray, recent_days: int, window_days: int) -> np.ndarray:
    return np.where(idle <= recent_days, USED_RECENTLY, np.where(idle <= window_days, USED_IN_WINDOW, 1.0))


def right_size(
    x,
    roles: list[MinedRole],
    *,
    idle_days=None,
    labels=None,
    pattern_factor: Callable[[str, int], float] | None = None,
    threshold: float = THRESHOLD,
    min_peers: int = MIN_PEERS,
    min_confidence: float = MIN_CONFIDENCE,
    recent_days: int = RECENT_DAYS,
    window_days: int = WINDOW_DAYS,
) -> Proposals:
    """Removals and additions for every user of ``x`` (see the module's docstring). ``idle_days`` is a
    users × rights array of days since last use (``inf`` for never), ``labels`` one peer label per user."""
    x = dense(x)
    fit = assignment(x, roles)
    r = role_matrix(roles, x.shape[1])
    a_users, a_rights, a_conf, a_k, a_n, a_role = _additions(x, roles, fit, r)
    r_users, r_rights, r_conf, r_k, r_n = _removals(x, fit, r, labels, threshold, min_peers)
    idle = np.full(r_users.size, np.inf)
    if idle_days is not None:
        idle = np.asarray(idle_days, dtype=float)[r_users, r_rights]
    r_conf = r_conf * _usage_factor(idle, recent_days, window_days)
    users = np.concatenate([a_users, r_users]).astype(np.int64)
    rights = np.concatenate([a_rights, r_rights]).astype(np.int64)
    kinds = np.array([ADD] * a_users.size + [REMOVE] * r_users.size, dtype=object)
    conf = np.concatenate([a_conf, r_conf])
    if pattern_factor is not None and users.size:
        conf = conf * np.array([pattern_factor(k, int(j)) for k, j in zip(kinds, rights, strict=True)])
    keep = conf >= min_confidence
    return Proposals(
        users=users[keep],
        rights=rights[keep],
        kinds=kinds[keep],
        confidence=conf[keep],
        holding=np.concatenate([a_k, r_k]).astype(np.int64)[keep],
        peers=np.concatenate([a_n, r_n]).astype(np.int64)[keep],
        role=np.concatenate([a_role, np.full(r_users.size, -1)]).astype(np.int64)[keep],
        idle_days=np.concatenate([np.full(a_users.size, np.inf), idle])[keep],
    )


def feedback_factor(agreed: int, disagreed: int) -> float:
    """How much reviewers' past answers on a pattern scale its confidence: (1 + agreed) / (1 + agreed +
    disagreed), so one disagreement halves a fresh pattern and agreements win it back."""
    return (1.0 + agreed) / (1.0 + agreed + disagreed)
