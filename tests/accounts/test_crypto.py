"""accounts.crypto: AES-256-GCM under the tenant's vault key, bound to tenant, purpose and row (MFA-8, DP-1)."""

import pytest

from accounts import crypto
from vault import services as vault_services


def test_round_trip_and_fresh_nonces(acme):
    sealed = {crypto.encrypt(b"seed bytes", tenant=acme, purpose="totp_seed", row_id=7) for _ in range(1000)}
    assert len(sealed) == 1000  # a new 12-byte nonce each time
    for value in list(sealed)[:5]:
        assert crypto.decrypt(value, tenant=acme, purpose="totp_seed", row_id=7) == b"seed bytes"


@pytest.mark.parametrize(
    "where",
    [
        {"tenant": "globex", "purpose": "totp_seed", "row_id": 7},
        {"tenant": "acme", "purpose": "session_key", "row_id": 7},
        {"tenant": "acme", "purpose": "totp_seed", "row_id": 8},
    ],
)
def test_dp1_ciphertext_moved_to_another_tenant_purpose_or_row_does_not_decrypt(acme, globex, where):
    """DP-1 / MFA-8"""
    tenants = {"acme": acme, "globex": globex}
    sealed = crypto.encrypt("secret", tenant=acme, purpose="totp_seed", row_id=7)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(sealed, **{**where, "tenant": tenants[where["tenant"]]})


def test_a_changed_byte_is_detected(acme):
    sealed = crypto.encrypt("secret", tenant=acme, purpose="p", row_id=1)
    head, body = sealed.rsplit(":", 1)
    flipped = f"{head}:{body[:10]}{'A' if body[10] != 'A' else 'B'}{body[11:]}"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(flipped, tenant=acme, purpose="p", row_id=1)


def test_plain_text_is_refused(acme):
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt("JBSWY3DPEHPK3PXP", tenant=acme, purpose="p", row_id=1)


def test_unsaved_rows_cannot_be_encrypted(acme):
    with pytest.raises(ValueError, match="row id"):
        crypto.encrypt("x", tenant=acme, purpose="p", row_id=None)


def test_rotation_keeps_secrets_readable_and_shredding_ends_them(acme):
    """DP-2 / DP-3 for seeds and session keys: they live under the tenant's vault data key."""
    old = crypto.encrypt(b"seed", tenant=acme, purpose="totp_seed", row_id=1)
    vault_services.rotate_data_key(acme)
    new = crypto.encrypt(b"seed", tenant=acme, purpose="totp_seed", row_id=1)
    assert old.startswith("v2:1:") and new.startswith("v2:2:")
    assert crypto.decrypt(old, tenant=acme, purpose="totp_seed", row_id=1) == b"seed"
    vault_services.shred_tenant(acme, reason="test")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(new, tenant=acme, purpose="totp_seed", row_id=1)
