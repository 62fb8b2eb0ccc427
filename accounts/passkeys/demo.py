"""Demo passkeys (demo only): each demo tenant's second administrator has one, whose private key is derived
from the e-mail and a public constant, so a virtual authenticator (Chromium DevTools' ``WebAuthn.addCredential``,
the browser tests) can hold it. Never seed a real tenant with them: anyone can compute the keys."""

from __future__ import annotations

import hashlib

import cbor2
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

DEMO_PASSKEY_CONSTANT = b"portcullis demo passkey, public, demo only:"
DEMO_PASSKEY_NAME = "Demo passkey (virtual authenticator)"
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def demo_private_key(email: str) -> ec.EllipticCurvePrivateKey:
    """The demo user's P-256 key, the same on every machine."""
    seed = hashlib.sha256(DEMO_PASSKEY_CONSTANT + b"key:" + email.lower().encode()).digest()
    return ec.derive_private_key(int.from_bytes(seed, "big") % (_P256_ORDER - 1) + 1, ec.SECP256R1())


def demo_credential_id(email: str) -> bytes:
    return hashlib.sha256(DEMO_PASSKEY_CONSTANT + b"id:" + email.lower().encode()).digest()[:16]


def pkcs8(private_key: ec.EllipticCurvePrivateKey) -> bytes:
    """The key as DevTools' ``WebAuthn.addCredential`` takes it (PKCS#8 DER)."""
    return private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def cose_public_key(private_key: ec.EllipticCurvePrivateKey) -> bytes:
    """The COSE_Key (RFC 9052) of the public half: EC2, P-256, ES256."""
    numbers = private_key.public_key().public_numbers()
    return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})


def seed(tenant) -> None:
    """The demo passkey of the tenant's second administrator, when missing."""
    from accounts.models import User
    from accounts.passkeys.models import Passkey
    from accounts.passkeys.services import add_with_key
    from accounts.scoping import tenant_scope

    email = f"admin2@{tenant.slug}.example"
    with tenant_scope(tenant):
        user = User.objects.filter(email=email).first()
        if user is None or Passkey.objects.filter(user=user).exists():
            return
    add_with_key(user, demo_credential_id(email), cose_public_key(demo_private_key(email)), name=DEMO_PASSKEY_NAME)
