"""The OpenID Connect authorization-code flow with PKCE, state and nonce (Authlib's client, joserfc's JWT).

``begin`` remembers a pending login in the browser's session, bound to the tenant and the provider it was
started for, and answers the provider's authorization URL. ``finish`` takes that pending login out of the
session (a state is used once), exchanges the code and checks the ID token: signature by one of the
provider's published keys with an asymmetric algorithm it announces, issuer, audience (and ``azp`` when there
are several), expiry and issue time within ``CLOCK_SKEW_SECONDS``, the nonce of this login.
"""

from __future__ import annotations

import time

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet

from sso import endpoints
from sso.refusals import Refusal, SsoRefused

PENDING = "portcullis_sso_pending"
PENDING_SECONDS = 10 * 60
MAX_PENDING = 5
CLOCK_SKEW_SECONDS = 60
ASYMMETRIC = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}


def _session_client(provider, redirect_uri: str, meta: dict) -> OAuth2Session:
    methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    method = "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"
    return OAuth2Session(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        scope=provider.scopes,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method=method,
    )


def begin(request, provider, *, redirect_uri: str, next_url: str, purpose: str = "login", fresh: bool = False) -> str:
    """The provider's authorization URL for a new login; the pending login is kept in the session. ``fresh``:
    the person must sign in again at the provider (``prompt=login``, ``max_age=0``: the step-up)."""
    meta = endpoints.metadata(provider.issuer)
    endpoints.check_url(meta["authorization_endpoint"])
    state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
    url, _state = _session_client(provider, redirect_uri, meta).create_authorization_url(
        meta["authorization_endpoint"],
        state=state,
        nonce=nonce,
        code_verifier=verifier,
        **({"prompt": "login", "max_age": 0} if fresh else {}),
    )
    pending = {
        key: entry
        for key, entry in request.session.get(PENDING, {}).items()
        if time.time() - entry["at"] < PENDING_SECONDS
    }
    for key in sorted(pending, key=lambda k: pending[k]["at"])[: max(0, len(pending) - MAX_PENDING + 1)]:
        del pending[key]
    pending[state] = {
        "tenant": provider.tenant_id,
        "provider": provider.pk,
        "nonce": nonce,
        "verifier": verifier,
        "next": next_url,
        "purpose": purpose,
        "at": time.time(),
    }
    request.session[PENDING] = pending
    return url


def take_pending(request, provider, state: str) -> dict:
    """The pending login of ``state``, removed from the session (used once). It must have been started in
    this browser, for this tenant and this provider, less than ten minutes ago."""
    pending = request.session.get(PENDING, {})
    entry = pending.pop(state, None) if state else None
    request.session[PENDING] = pending
    if entry is None:
        raise SsoRefused(Refusal.STATE)
    if entry["tenant"] != provider.tenant_id or entry["provider"] != provider.pk:
        raise SsoRefused(Refusal.STATE)
    if time.time() - entry["at"] >= PENDING_SECONDS:
        raise SsoRefused(Refusal.STALE)
    return entry


def exchange(provider, entry: dict, *, code: str, redirect_uri: str) -> dict:
    """Exchange the authorization code for tokens and check the ID token; returns its claims, plus the raw
    token under ``"_id_token"`` (for the RP-initiated logout's ``id_token_hint``)."""
    meta = endpoints.metadata(provider.issuer)
    endpoints.check_url(meta["token_endpoint"])
    client = _session_client(provider, redirect_uri, meta)
    try:
        tokens = client.fetch_token(
            meta["token_endpoint"],
            grant_type="authorization_code",
            code=code,
            code_verifier=entry["verifier"],
            timeout=endpoints.TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except OAuthError:
        raise SsoRefused(Refusal.CODE) from None
    except (requests.RequestException, ValueError):
        raise SsoRefused(Refusal.UNAVAILABLE) from None
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str):
        raise SsoRefused(Refusal.TOKEN)
    claims = validate_id_token(provider, meta, id_token, nonce=entry["nonce"])
    return {**claims, "_id_token": id_token}


def _decode(provider, id_token: str, algorithms: list[str]):
    try:
        return jwt.decode(id_token, KeySet.import_key_set(endpoints.keys(provider.issuer)), algorithms=algorithms)
    except InvalidKeyIdError:
        # The provider may have rotated its keys since they were read: read them once more.
        fresh = KeySet.import_key_set(endpoints.keys(provider.issuer, fresh=True))
        return jwt.decode(id_token, fresh, algorithms=algorithms)


def validate_id_token(provider, meta: dict, id_token: str, *, nonce: str, now: int | None = None) -> dict:
    """The claims of ``id_token`` once every check passed (OpenID Connect Core 1.0 §3.1.3.7)."""
    announced = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [alg for alg in announced if alg in ASYMMETRIC]
    try:
        token = _decode(provider, id_token, algorithms)
    except (BadSignatureError, InvalidKeyIdError):
        raise SsoRefused(Refusal.SIGNATURE) from None
    except (JoseError, ValueError, TypeError):
        raise SsoRefused(Refusal.TOKEN) from None
    registry = jwt.JWTClaimsRegistry(
        now=now,
        leeway=CLOCK_SKEW_SECONDS,
        iss={"essential": True, "value": provider.issuer},
        aud={"essential": True, "value": provider.client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(token.claims)
    except ExpiredTokenError:
        raise SsoRefused(Refusal.EXPIRED) from None
    except MissingClaimError:
        raise SsoRefused(Refusal.TOKEN) from None
    except ClaimError as error:
        raise SsoRefused(_CLAIM_REFUSALS.get(error.claim, Refusal.TOKEN)) from None
    audience = token.claims["aud"]
    if isinstance(audience, list) and len(audience) > 1 and token.claims.get("azp") != provider.client_id:
        raise SsoRefused(Refusal.AUDIENCE)
    return dict(token.claims)


_CLAIM_REFUSALS = {"aud": Refusal.AUDIENCE, "nonce": Refusal.NONCE, "iss": Refusal.ISSUER, "iat": Refusal.EXPIRED}


def logout_url(provider, *, id_token: str, post_logout_redirect_uri: str) -> str | None:
    """The provider's end-session URL (RP-initiated logout), when it offers one."""
    from urllib.parse import urlencode

    try:
        endpoint = endpoints.metadata(provider.issuer).get("end_session_endpoint")
    except endpoints.ProviderUnavailable:
        return None
    if not isinstance(endpoint, str):
        return None
    query = {"client_id": provider.client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
    if id_token:
        query["id_token_hint"] = id_token
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"
