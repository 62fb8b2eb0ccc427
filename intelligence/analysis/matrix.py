"""Small helpers over Boolean matrices: dense conversion, row packing and peer-group counts."""

from __future__ import annotations

import numpy as np
from scipy import sparse


def dense(x) -> np.ndarray:
    """``x`` (a scipy sparse matrix or an array) as a dense Boolean array."""
    if sparse.issparse(x):
        return np.asarray(x.toarray(), dtype=bool)
    return np.asarray(x, dtype=bool)


def row_keys(x: np.ndarray) -> np.ndarray:
    """One 64-bit key per row of a Boolean matrix (equal rows, equal keys; collisions are negligible and
    only merge two distinct sets into one candidate, never change a user's rights)."""
    packed = np.packbits(x, axis=1)
    width = -(-packed.shape[1] // 8) * 8
    padded = np.zeros((packed.shape[0], width), dtype=np.uint8)
    padded[:, : packed.shape[1]] = packed
    words = padded.view(np.uint64)
    key = np.zeros(words.shape[0], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in range(words.shape[1]):
            key = (key * np.uint64(0x9E3779B97F4A7C15)) ^ words[:, column]
            key ^= key >> np.uint64(29)
    return key


def unique_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct rows of ``x``, the index of each row's distinct set, and how many rows share each."""
    keys = row_keys(x)
    _, first, inverse, counts = np.unique(keys, return_index=True, return_inverse=True, return_counts=True)
    return x[first], inverse.ravel(), counts


def group_counts(labels: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups given by ``labels`` (one non-negative int per row): how many rows of each group hold each
    column (groups × columns) and each group's size. One sparse product, whatever the number of groups."""
    labels = np.asarray(labels, dtype=np.int64)
    size = int(labels.max()) + 1 if labels.size else 0
    indicator = sparse.csr_matrix(
        (np.ones(labels.size, dtype=np.int32), (labels, np.arange(labels.size))), shape=(size, labels.size)
    )
    counts = indicator @ sparse.csr_matrix(x.astype(np.int32))
    return np.asarray(counts.toarray()), np.bincount(labels, minlength=size)


def beta_mean(holding, peers):
    """The posterior mean share of holders, Beta(k+1, n-k+1): (k+1)/(n+2), never 0 or 1 on few peers."""
    return (np.asarray(holding, dtype=float) + 1.0) / (np.asarray(peers, dtype=float) + 2.0)
