"""accounts.crypto: AES-256-GCM bound to tenant, purpose and row (MFA-8, DP-1 for seeds and session keys)."""

import pytest

from accounts import crypto


def test_round_trip_and_fresh_nonces():
    sealed = {crypto.encrypt(b"seed bytes", tenant=1, purpose="totp_seed", row_id=7) for _ in range(1000)}
    assert len(sealed) == 1000  # a new 12-byte nonce each time
    for value in list(sealed)[:5]:
        assert crypto.decrypt(value, tenant=1, purpose="totp_seed", row_id=7) == b"seed bytes"


@pytest.mark.parametrize(
    "where",
    [
        {"tenant": 2, "purpose": "totp_seed", "row_id": 7},
        {"tenant": 1, "purpose": "session_key", "row_id": 7},
        {"tenant": 1, "purpose": "totp_seed", "row_id": 8},
    ],
)
def test_dp1_ciphertext_moved_to_another_tenant_purpose_or_row_does_not_decrypt(where):
    """DP-1 / MFA-8"""
    sealed = crypto.encrypt("secret", tenant=1, purpose="totp_seed", row_id=7)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(sealed, **where)


def test_a_changed_byte_is_detected():
    sealed = crypto.encrypt("secret", tenant=1, purpose="p", row_id=1)
    body = sealed[3:]
    flipped = sealed[:3] + body[:10] + ("A" if body[10] != "A" else "B") + body[11:]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(flipped, tenant=1, purpose="p", row_id=1)


def test_plain_text_is_refused():
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt("JBSWY3DPEHPK3PXP", tenant=1, purpose="p", row_id=1)


def test_unsaved_rows_cannot_be_encrypted():
    with pytest.raises(ValueError, match="row id"):
        crypto.encrypt("x", tenant=1, purpose="p", row_id=None)
