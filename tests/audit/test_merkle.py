"""RFC 9162 Merkle trees, checked against the Certificate Transparency reference vectors."""

import hashlib
import os

import pytest

from audit import merkle

# The RFC 6962 / CT reference leaves and roots (google/certificate-transparency, trillian, transparency-dev).
LEAVES = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
CONSISTENCY = {
    (1, 8): INCLUSION[(0, 8)],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}
TREE = merkle.Tree([merkle.leaf_hash(leaf) for leaf in LEAVES])


def hexes(hashes):
    return [h.hex() for h in hashes]


def test_empty_tree_is_the_hash_of_nothing():
    assert merkle.root([]) == hashlib.sha256(b"").digest() == merkle.EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_reference_vectors(size):
    assert TREE.root(size).hex() == ROOTS[size - 1]
    assert merkle.Tree(TREE.leaves).build().root(size).hex() == ROOTS[size - 1]
    assert merkle.root(TREE.leaves[:size]).hex() == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size"), sorted(INCLUSION))
def test_inclusion_proofs_match_the_reference_vectors(index, size):
    proof = TREE.inclusion_proof(index, size)
    assert hexes(proof) == INCLUSION[(index, size)]
    assert merkle.verify_inclusion(index, size, TREE.leaves[index], proof, bytes.fromhex(ROOTS[size - 1]))


@pytest.mark.parametrize(("old", "new"), sorted(CONSISTENCY))
def test_consistency_proofs_match_the_reference_vectors(old, new):
    proof = TREE.consistency_proof(old, new)
    assert hexes(proof) == CONSISTENCY[(old, new)]
    old_root, new_root = bytes.fromhex(ROOTS[old - 1]), bytes.fromhex(ROOTS[new - 1])
    assert merkle.verify_consistency(old, new, old_root, new_root, proof)


def test_a_real_ct_log_inclusion_proof_verifies():
    """Leaf 848049 of a 3,630,887-entry CT log (google/certificate-transparency's verifier test)."""
    path = [
        bytes.fromhex(h)
        for h in (
            "1a208aeebcd1b39fe2de247ee8db9454e1e93a312d206b87f6ca9cc6ec6f1ddd",
            "0a1b78b383f580856f433c01a5741e160d451c185910027f6cc9f828687a40c4",
            "3d1745789bc63f2da15850de1c12a5bf46ed81e1cc90f086148b1662e79aab3d",
            "9095b61e14d8990acf390905621e62b1714fb8e399fbb71de5510e0aef45affe",
            "0a332b91b8fab564e6afd1dd452449e04619b18accc0ff9aa8393cd4928451f2",
            "2336f0181d264aed6d8f3a6507ca14a8d3b3c3a23791ac263e845d208c1ee330",
            "b4ce56e300590500360c146c6452edbede25d4ed83919278749ee5dbe178e048",
            "933f6ddc848ea562e4f9c5cfb5f176941301dad0c6fdb9d1fbbe34fac1be6966",
            "b95a6222958a86f74c030be27c44f57dbe313e5e7c7f4ffb98bcbd3a03bb52f2",
            "daeeb3ce5923defd0faeb8e0c210b753b85b809445d7d3d3cd537a9aabaa9c45",
            "7fadd0a13e9138a2aa6c3fdec4e2275af233b94812784f66bcca9aa8e989f2bc",
            "1864e6ba3e32878610546539734fb5eeae2529991f130c575c73a7e25a2a7c56",
            "12842d1202b1dc6828a17ab253c02e7ce9409b5192430feba44189f39cc02d66",
            "29af64b16fa3053c13d02ac63aa75b23aa468506e44c3a2315edc85d2dc22b11",
            "b527b99934a0bd9edd154e449b0502e2c499bba783f3bc3dfe23364b6b532009",
            "4584db8ae8e351ace08e01f306378a92bfd43611714814f3d834a2842d69faa8",
            "86a9a41573b0d6e4292f01e93243d6cc65b30f06606fc6fa57390e7e90ed580f",
            "a88b98fbe84d4c6aae8db9d1605dfac059d9f03fe0fcb0d5dff1295dacba09e6",
            "06326dc617a6d1f7021dc536026dbfd5fffc6f7c5531d48ef6ccd1ed1569f2a1",
            "f41fe8fdc3a2e4e8345e30216e7ebecffee26ff266eeced208a6c2a3cf08f960",
            "40cf5bde8abb76983f3e98ba97aa36240402975674e120f234b3448911090f8d",
            "b3222dc8658538079883d980d7fdc2bef9285344ea34338968f736b04aeb387a",
        )
    ]
    leaf = bytes.fromhex("7a395c866d5ecdb0cccb623e011dbc392cd348d1d1d72776174e127a24b09c78")
    root = bytes.fromhex("78316a05c9bcf14a3a4548f5b854a9adfcd46a4c034401b3ce7eb7ac2f1d0ecb")
    assert merkle.verify_inclusion(848049, 3630887, leaf, path, root)
    assert not merkle.verify_inclusion(848050, 3630887, leaf, path, root)
    assert not merkle.verify_inclusion(848049, 3630887, leaf, path[:-1], root)


def test_the_streaming_root_equals_the_recursive_definition_for_every_size_up_to_70():
    leaves = [os.urandom(32) for _ in range(70)]

    def mth(items):
        if len(items) == 1:
            return items[0]
        k = 1 << ((len(items) - 1).bit_length() - 1)
        return merkle.node_hash(mth(items[:k]), mth(items[k:]))

    compact = merkle.CompactRange()
    for size, leaf in enumerate(leaves, 1):
        compact.append(leaf)
        assert compact.root() == mth(leaves[:size])


def test_every_proof_of_small_trees_verifies_and_a_wrong_root_does_not():
    leaves = [os.urandom(32) for _ in range(21)]
    plain, built = merkle.Tree(leaves), merkle.Tree(leaves).build()
    for new in range(1, 22):
        for old in range(0, new + 1):
            proof = built.consistency_proof(old, new)
            assert proof == plain.consistency_proof(old, new)
            assert merkle.verify_consistency(old, new, plain.root(old), plain.root(new), proof)
            if proof:
                assert not merkle.verify_consistency(old, new, plain.root(old), os.urandom(32), proof)
                assert not merkle.verify_consistency(old, new, os.urandom(32), plain.root(new), proof)
        for index in range(new):
            proof = built.inclusion_proof(index, new)
            assert merkle.verify_inclusion(index, new, leaves[index], proof, plain.root(new))
            assert not merkle.verify_inclusion(index, new, os.urandom(32), proof, plain.root(new))


def test_a_shrinking_tree_is_never_consistent():
    assert not merkle.verify_consistency(5, 2, bytes.fromhex(ROOTS[4]), bytes.fromhex(ROOTS[1]), [])


def test_the_verifiers_fast_audit_paths_equal_rfc9162_paths():
    """The standalone verifier compares proofs with the intact tree's levels (no hashing per proof): those
    paths must be exactly PATH(m, D[n]) of RFC 9162 for every size, including the ragged right edge."""
    from audit.verify_export import _expected_paths

    for n in [*range(1, 40), 255, 256, 257]:
        leaves = [merkle.leaf_hash(n.to_bytes(2, "big") + i.to_bytes(2, "big")) for i in range(n)]
        tree = merkle.Tree(leaves)
        paths = _expected_paths([(i, leaves[i], None) for i in range(n)], {"tree_size": n, "root": tree.root()})
        assert all(paths(i) == [h.hex() for h in tree.inclusion_proof(i, n)] for i in range(n))
        assert _expected_paths([(i, leaves[i], None) for i in range(n)], {"tree_size": n, "root": bytes(32)}) is None
