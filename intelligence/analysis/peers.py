"""Peer-group outliers: the rights that make a user unlike the colleagues of their peer group.

Peers are the other members of the user's group (e.g. the same role at the same organisation). For a
right the user holds, ``k`` of the ``n`` peers hold it too (leave-one-out). The score is one minus the
Beta(k+1, n-k+1) mean share, so 1 of 48 scores higher than 1 of 5; a right is an outlier when the peers'
share k/n is below ``threshold`` and there are at least ``min_peers`` peers (otherwise the analysis
abstains: no peers, no verdict).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from intelligence.analysis.matrix import beta_mean, dense, group_counts

THRESHOLD = 0.10
MIN_PEERS = 10


@dataclass
class Outliers:
    """Parallel arrays, one entry per outlying (user, right): row and column indices, the holders among
    the peers (k), the number of peers (n) and the score (0..1, higher is more unusual)."""

    users: np.ndarray
    rights: np.ndarray
    holding: np.ndarray
    peers: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return int(self.users.size)


def peer_outliers(x, labels, *, threshold: float = THRESHOLD, min_peers: int = MIN_PEERS) -> Outliers:
    """Every held right whose leave-one-out share among the user's peers is below ``threshold``."""
    x = dense(x)
    labels = np.asarray(labels, dtype=np.int64)
    counts, sizes = group_counts(labels, x)
    rows, cols = np.nonzero(x)
    peers = sizes[labels[rows]] - 1
    holding = counts[labels[rows], cols] - 1
    share = np.divide(holding, np.maximum(peers, 1))
    keep = (peers >= min_peers) & (share < threshold)
    rows, cols, holding, peers = rows[keep], cols[keep], holding[keep], peers[keep]
    score = 1.0 - beta_mean(holding, peers)
    order = np.argsort(-score, kind="stable")
    return Outliers(rows[order], cols[order], holding[order], peers[order], score[order])


def labels_of(*columns) -> np.ndarray:
    """One group id per row from several label columns (e.g. role id and organisation id)."""
    stacked = np.stack([np.asarray(column, dtype=np.int64) for column in columns], axis=1)
    _, inverse = np.unique(stacked, axis=0, return_inverse=True)
    return inverse.ravel()
