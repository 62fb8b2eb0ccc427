"""The ID token checks on their own (sso.oidc.validate_id_token), for what a well-behaved provider never sends:
an unsigned token, a token MACed with the client secret (algorithm confusion), a key the provider does not
publish, several audiences without azp, and the clock skew allowed."""

from __future__ import annotations

import base64
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from sso import endpoints, oidc
from sso.models import IdentityProvider
from sso.refusals import Refusal, SsoRefused

ISSUER = "https://idp.example.test"
META = {
    "issuer": ISSUER,
    "authorization_endpoint": f"{ISSUER}/auth",
    "token_endpoint": f"{ISSUER}/token",
    "jwks_uri": f"{ISSUER}/jwks",
    "id_token_signing_alg_values_supported": ["RS256", "HS256", "none"],
}
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})
NOW = 1_800_000_000


@pytest.fixture(autouse=True)
def published_keys():
    """What the provider publishes, as this process would have read it (discovery and keys)."""
    endpoints._cache[f"{ISSUER}/.well-known/openid-configuration"] = (time.monotonic(), META)
    endpoints._cache[f"{ISSUER}/jwks"] = (time.monotonic(), {"keys": [KEY.as_dict(private=False)]})
    yield
    endpoints._cache.clear()


def provider() -> IdentityProvider:
    return IdentityProvider(issuer=ISSUER, client_id="portal", client_secret="", slug="corp")


def claims(**changes) -> dict:
    return {"iss": ISSUER, "aud": "portal", "sub": "u1", "iat": NOW, "exp": NOW + 300, "nonce": "n1", **changes}


def check(token: str, now: int = NOW) -> dict:
    return oidc.validate_id_token(provider(), META, token, nonce="n1", now=now)


def refusal(token: str, now: int = NOW) -> Refusal:
    with pytest.raises(SsoRefused) as refused:
        check(token, now)
    return refused.value.reason


def signed(values: dict, key=KEY, alg="RS256") -> str:
    return jwt.encode({"alg": alg, "kid": key.kid or "k1"}, values, key)


def test_a_good_token_passes_within_the_clock_skew():
    assert check(signed(claims()))["sub"] == "u1"
    assert check(signed(claims()), now=NOW + 300 + 59)["sub"] == "u1"
    assert refusal(signed(claims()), now=NOW + 300 + 61) is Refusal.EXPIRED
    assert refusal(signed(claims(iat=NOW + 120)), now=NOW) is Refusal.EXPIRED  # issued in the future


def test_an_unsigned_token_is_refused():
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps(claims()).encode()).rstrip(b"=").decode()
    assert refusal(f"{header}.{body}.") in (Refusal.SIGNATURE, Refusal.TOKEN)


def test_a_token_maced_with_the_client_secret_is_refused():
    secret = OctKey.import_key("a-client-secret-the-attacker-knows-32b")
    assert refusal(signed(claims(), key=secret, alg="HS256")) in (Refusal.SIGNATURE, Refusal.TOKEN)


def test_a_key_the_provider_does_not_publish_is_refused():
    other = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    assert refusal(signed(claims(), key=other)) is Refusal.SIGNATURE


def test_each_claim_is_checked():
    assert refusal(signed(claims(iss="https://evil.example.test"))) is Refusal.ISSUER
    assert refusal(signed(claims(aud="someone-else"))) is Refusal.AUDIENCE
    assert refusal(signed(claims(nonce="n2"))) is Refusal.NONCE
    assert refusal(signed({k: v for k, v in claims().items() if k != "nonce"})) is Refusal.TOKEN
    assert refusal(signed({k: v for k, v in claims().items() if k != "exp"})) is Refusal.TOKEN


def test_several_audiences_need_azp_naming_the_portal():
    assert refusal(signed(claims(aud=["portal", "other"]))) is Refusal.AUDIENCE
    assert check(signed(claims(aud=["portal", "other"], azp="portal")))["sub"] == "u1"
