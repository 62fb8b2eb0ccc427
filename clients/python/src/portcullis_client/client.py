"""``Client``: the check API of one tenant, through one API key (``grants: view`` scope).

- ``check(subject, action, target)`` → bool; ``check_many([...])`` → [bool] (batches of 100);
  ``visible(subject, module, action)`` → resource ids; ``explain(...)`` → the paths or the reasons.
- Answers of ``check``/``check_many`` are cached in this process for ``cache_ttl`` seconds (1 s by default,
  the portal's own guarantee: a revocation counts everywhere within a second); ``invalidate()`` or a verified
  webhook (``handle_webhook``) empties the cache at once.
- Every call has a timeout; connection errors, timeouts, 429 and 5xx are retried (``retries`` times, with
  exponential back-off); then ``PortcullisError``. A subject or target the portal does not know is *not
  allowed* (False), as in the batch answer. Fail closed: callers that catch ``PortcullisError`` deny.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from portcullis_client.cache import TTLCache

#: A module key ("reports"), or {"module": "reports", "resource": 17} or {"module": …, "external_id": "X-200"}.
Target = Union[str, Mapping[str, Any]]  # noqa: UP007 (a public alias readable on 3.11)
BATCH = 100
RETRIED = frozenset({429, 500, 502, 503, 504})


class PortcullisError(Exception):
    """The portal could not answer (after the retries) or refused the client (401/403: check the key)."""

    def __init__(self, message: str, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


@dataclass(frozen=True)
class Check:
    """One question: may user ``subject`` do ``action`` on ``target``?"""

    subject: int
    action: str
    target: Target


@dataclass(frozen=True)
class Explanation:
    """The answer with why: the paths that allow it, or the reasons it is not allowed."""

    allowed: bool
    paths: list[dict[str, Any]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def _key(subject: int, action: str, target: Target) -> tuple:
    if isinstance(target, str):
        return (subject, action, target)
    return (subject, action, target.get("module"), target.get("resource"), target.get("external_id"))


def _target_json(target: Target) -> Any:
    return target if isinstance(target, str) else dict(target)


class Client:
    """A client of one portal and one API key (thread-safe; share one per process)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 5.0,
        retries: int = 2,
        backoff: float = 0.2,
        cache_ttl: float = 1.0,
        webhook_secret: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.cache = TTLCache(cache_ttl)
        self.webhook_secret = webhook_secret

    # The questions -----------------------------------------------------------------------------------------
    def check(self, subject: int, action: str, target: Target) -> bool:
        """May ``subject`` do ``action`` on ``target``? (cached for ``cache_ttl`` seconds)"""
        key = _key(subject, action, target)
        cached = self.cache.get(key)
        if cached is not None:
            return cached  # type: ignore[return-value]
        status, body = self._call(
            "POST", "/api/v1/check", {"subject": subject, "action": action, "target": _target_json(target)}
        )
        allowed = status == 200 and bool(body.get("allowed"))
        self.cache.put(key, allowed)
        return allowed

    def check_many(self, checks: Iterable[Check | tuple[int, str, Target]]) -> list[bool]:
        """The answers in order; cached ones are not asked again, the rest go in batches of 100."""
        items = [c if isinstance(c, Check) else Check(*c) for c in checks]
        answers: list[bool | None] = [self.cache.get(_key(c.subject, c.action, c.target)) for c in items]  # type: ignore[misc]
        missing = [i for i, a in enumerate(answers) if a is None]
        for start in range(0, len(missing), BATCH):
            chunk = missing[start : start + BATCH]
            payload = {
                "checks": [
                    {"subject": items[i].subject, "action": items[i].action, "target": _target_json(items[i].target)}
                    for i in chunk
                ]
            }
            _status, body = self._call("POST", "/api/v1/check/batch", payload)
            for i, result in zip(chunk, body["results"], strict=True):
                allowed = bool(result.get("allowed"))
                answers[i] = allowed
                self.cache.put(_key(items[i].subject, items[i].action, items[i].target), allowed)
        return [bool(a) for a in answers]

    def visible(self, subject: int, module: str, action: str = "view") -> list[int]:
        """The ids of ``module``'s resources that ``subject`` may ``action`` (every page; not cached)."""
        query = urllib.parse.urlencode({"module": module, "action": action, "limit": 200})
        path: str | None = f"/api/v1/users/{int(subject)}/visible?{query}"
        ids: list[int] = []
        while path:
            status, body = self._call("GET", path)
            if status == 404:
                return []
            ids.extend(body["results"])
            following = body.get("next")
            path = urllib.parse.urlsplit(following)._replace(scheme="", netloc="").geturl() if following else None
        return ids

    def explain(self, subject: int, action: str, target: Target) -> Explanation:
        """``check`` with the reasons (never cached)."""
        payload = {"subject": subject, "action": action, "target": _target_json(target)}
        status, body = self._call("POST", "/api/v1/check?explain=true", payload)
        if status == 404:
            return Explanation(False, [], ["not_found"])
        return Explanation(bool(body.get("allowed")), list(body.get("paths") or []), list(body.get("reasons") or []))

    # Freshness ---------------------------------------------------------------------------------------------
    def invalidate(self) -> None:
        """Forget every cached answer (a permission changed)."""
        self.cache.clear()

    def handle_webhook(self, body: bytes | str, headers: Mapping[str, str]) -> dict[str, Any]:
        """Verify a Portcullis webhook (Standard Webhooks, needs ``webhook_secret`` and the ``standardwebhooks``
        package) and empty the cache; returns the payload. Raises on a bad signature (nothing is cleared)."""
        if not self.webhook_secret:
            raise PortcullisError("no webhook_secret configured")
        from standardwebhooks import Webhook

        text = body.decode() if isinstance(body, bytes) else body
        payload = Webhook(self.webhook_secret).verify(text, {k.lower(): v for k, v in headers.items()})
        self.invalidate()
        return payload

    # Transport ---------------------------------------------------------------------------------------------
    def _call(self, method: str, path: str, payload: Any = None) -> tuple[int, Any]:
        """(status, JSON body) of a 2xx or 404 answer; retries what may pass; raises PortcullisError otherwise."""
        data = json.dumps(payload).encode() if payload is not None else None
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        last: PortcullisError | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (the configured portal)
                    return response.status, json.loads(response.read() or b"null")
            except urllib.error.HTTPError as error:
                body = _json_or_text(error.read())
                if error.code == 404:
                    return 404, body
                last = PortcullisError(f"{method} {path}: HTTP {error.code}", error.code, body)
                if error.code not in RETRIED:
                    raise last from None
            except (OSError, ValueError) as error:  # refused, reset, timed out, bad JSON
                last = PortcullisError(f"{method} {path}: {error}")
        assert last is not None
        raise last


def _json_or_text(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


__all__: Sequence[str] = ["Check", "Client", "Explanation", "PortcullisError", "Target"]
