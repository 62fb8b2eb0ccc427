"""A software authenticator for tests: real keys, real CBOR, real signatures (never a mocked verification).

It answers the portal's own options as a browser with a platform authenticator would: ``create`` builds the
attestation (format ``none``) of a new P-256 credential, ``get`` an assertion signed by its key, with a
signature counter that it increases (or not, to play a cloned authenticator).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from accounts.passkeys.demo import cose_public_key
from accounts.passkeys.models import b64url, from_b64url

ORIGIN = "http://localhost:8000"  # what the portal expects under the test settings (PORTCULLIS_BASE_URL)
RP_ID = "localhost"
UP, UV, AT = 0x01, 0x04, 0x40


def client_data(kind: str, challenge: str, origin: str) -> bytes:
    return json.dumps({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}).encode()


@dataclass
class SoftAuthenticator:
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    user_handle: bytes | None = None
    sign_count: int = 0
    user_verified: bool = True

    def _flags(self, extra: int = 0) -> int:
        return UP | (UV if self.user_verified else 0) | extra

    def create(self, options: dict, *, origin: str = ORIGIN, rp_id: str | None = None) -> dict:
        """The JSON a browser sends after ``navigator.credentials.create(options)``."""
        self.user_handle = from_b64url(options["user"]["id"])
        rp_hash = hashlib.sha256((rp_id or options["rp"]["id"]).encode()).digest()
        attested = bytes(16) + len(self.credential_id).to_bytes(2, "big") + self.credential_id
        auth_data = rp_hash + bytes([self._flags(AT)]) + self.sign_count.to_bytes(4, "big")
        auth_data += attested + cose_public_key(self.key)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data("webauthn.create", options["challenge"], origin)),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        }

    def get(
        self,
        options: dict,
        *,
        origin: str = ORIGIN,
        rp_id: str | None = None,
        count: int | None = None,
        user_handle: bytes | None = None,
    ) -> dict:
        """The JSON a browser sends after ``navigator.credentials.get(options)``; the counter moves on by one
        unless ``count`` says what to present."""
        if count is None:
            self.sign_count += 1
            count = self.sign_count
        rp_hash = hashlib.sha256((rp_id or options.get("rpId") or RP_ID).encode()).digest()
        auth_data = rp_hash + bytes([self._flags()]) + count.to_bytes(4, "big")
        data = client_data("webauthn.get", options["challenge"], origin)
        signature = self.key.sign(auth_data + hashlib.sha256(data).digest(), ec.ECDSA(hashes.SHA256()))
        handle = user_handle if user_handle is not None else self.user_handle
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(handle) if handle else None,
            },
            "clientExtensionResults": {},
        }


def post_json(client, url: str, body: dict):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def register(client, authenticator: SoftAuthenticator, name: str = "My laptop"):
    """Add a passkey through the portal's two registration steps (the session must be allowed to)."""
    options = client.post("/accounts/security/passkeys/add/options/")
    assert options.status_code == 200, options.content[:300]
    return post_json(
        client,
        "/accounts/security/passkeys/add/finish/",
        {"credential": authenticator.create(options.json()), "name": name},
    )


def sign_in(client, authenticator: SoftAuthenticator, *, email: str = "", organisation: str = "", **answer):
    """A passkey sign-in through the portal's two steps: (options response, finish response)."""
    options = client.post("/accounts/passkeys/sign-in/options/", {"username": email, "organisation": organisation})
    if options.status_code != 200:
        return options, None
    finish = post_json(
        client, "/accounts/passkeys/sign-in/", {"credential": authenticator.get(options.json(), **answer)}
    )
    return options, finish


def verify(client, authenticator: SoftAuthenticator, stage: str = "step_up", **answer):
    options = client.post("/accounts/passkeys/verify/options/", {"stage": stage})
    assert options.status_code == 200, options.content[:300]
    return post_json(client, "/accounts/passkeys/verify/", {"credential": authenticator.get(options.json(), **answer)})


def give_passkey(user, authenticator: SoftAuthenticator | None = None, name: str = "Test passkey"):
    """A passkey with a known key (no ceremony), and the authenticator that holds it."""
    from accounts.passkeys.models import tenant_id_of_handle
    from accounts.passkeys.services import add_with_key

    authenticator = authenticator or SoftAuthenticator()
    passkey = add_with_key(user, authenticator.credential_id, cose_public_key(authenticator.key), name=name)
    authenticator.user_handle = from_b64url(passkey.user_handle)
    assert tenant_id_of_handle(authenticator.user_handle) == user.tenant_id
    return passkey, authenticator
