"""RFC 9162 (Certificate Transparency 2.0) Merkle trees over the leaf hashes of one log.

Standard library only. ``leaf_hash = SHA-256(0x00 || data)``, ``node = SHA-256(0x01 || left || right)``,
the tree of ``n`` leaves splits at the largest power of two below ``n`` (RFC 9162 §2.1.1). Proofs
follow §2.1.3 (inclusion) and §2.1.4 (consistency); the verifiers transcribe §2.1.3.2 and §2.1.4.2.
"""

from __future__ import annotations

from hashlib import sha256

EMPTY_ROOT = sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """The hash of one entry: SHA-256(0x00 || data)."""
    return sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256(0x01 || left || right)."""
    return sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class CompactRange:
    """The running root of a growing log: one hash per set bit of its size (O(log n) memory)."""

    __slots__ = ("size", "_stack")

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[bytes] = []

    def append(self, leaf: bytes) -> None:
        """Add the next leaf hash."""
        self.size += 1
        node, size, stack = leaf, self.size, self._stack
        while not size & 1:
            node = node_hash(stack.pop(), node)
            size >>= 1
        stack.append(node)

    def root(self) -> bytes:
        """The Merkle tree hash of the leaves appended so far."""
        if not self._stack:
            return EMPTY_ROOT
        stack = self._stack
        node = stack[-1]
        for left in reversed(stack[:-1]):
            node = node_hash(left, node)
        return node


def root(leaves: list[bytes]) -> bytes:
    """MTH of a list of leaf hashes."""
    compact = CompactRange()
    for leaf in leaves:
        compact.append(leaf)
    return compact.root()


class Tree:
    """A log's leaf hashes, answering roots and proofs for any size up to its length."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves
        self._levels: list[list[bytes]] | None = None

    def build(self) -> Tree:
        """Keep every level (O(n) memory): makes many proofs cheap (exports with proofs)."""
        levels = [self.leaves]
        while len(levels[-1]) > 1:
            below = levels[-1]
            level = [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
            if len(below) % 2:
                level.append(below[-1])
            levels.append(level)
        self._levels = levels
        return self

    def _mth(self, lo: int, hi: int) -> bytes:
        n = hi - lo
        if n == 0:
            return EMPTY_ROOT
        if self._levels is not None and n & (n - 1) == 0 and lo % n == 0:
            height = n.bit_length() - 1
            return self._levels[height][lo >> height]
        if self._levels is None:
            return root(self.leaves[lo:hi])
        k = _split(n)
        return node_hash(self._mth(lo, lo + k), self._mth(lo + k, hi))

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (all by default)."""
        return self._mth(0, len(self.leaves) if size is None else size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1."""
        if not 0 <= index < size <= len(self.leaves):
            raise ValueError("index must be below size, and size at most the number of leaves")
        proof: list[bytes] = []
        lo, hi = 0, size
        while hi - lo > 1:
            k = _split(hi - lo)
            if index < lo + k:
                proof.append(self._mth(lo + k, hi))
                hi = lo + k
            else:
                proof.append(self._mth(lo, lo + k))
                lo += k
        proof.reverse()
        return proof

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        """PROOF(old, D[0:new]) of RFC 9162 §2.1.4.1 (empty when old is 0 or equals new)."""
        if not 0 <= old <= new <= len(self.leaves):
            raise ValueError("need 0 <= old <= new <= number of leaves")
        if old in (0, new):
            return []
        proof: list[bytes] = []
        lo, hi, m, whole = 0, new, old, True
        while True:
            if m == hi - lo:
                if not whole:
                    proof.append(self._mth(lo, hi))
                break
            k = _split(hi - lo)
            if m <= k:
                proof.append(self._mth(lo + k, hi))
                hi = lo + k
            else:
                proof.append(self._mth(lo, lo + k))
                lo, m, whole = lo + k, m - k, False
        proof.reverse()
        return proof


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes | None:
    """The root an inclusion proof leads to (RFC 9162 §2.1.3.2), or None when the proof is malformed."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], expected_root: bytes) -> bool:
    """True when ``proof`` shows leaf ``index`` is in the tree of ``size`` leaves with ``expected_root``."""
    return root_from_inclusion(index, size, leaf, proof) == expected_root


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]) -> bool:
    """True when ``proof`` shows the tree of ``old`` leaves is a prefix of the tree of ``new`` (§2.1.4.2)."""
    if old > new:
        return False
    if old == new:
        return old_root == new_root and not proof
    if old == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0
