"""A WSGI middleware for any other framework: paths that need a Portcullis permission.

    app = PortcullisMiddleware(app, client, rules=[("/reports/export", "export", "reports")],
                               subject=lambda environ: environ.get("REMOTE_USER_ID"))

A request under a rule's path prefix goes on only when Portcullis allows the rule's action for the subject
(an int user id from ``subject(environ)``); otherwise 403 (also when the portal cannot answer: fail closed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from portcullis_client.client import Client, PortcullisError, Target

Rule = tuple[str, str, Target]


class PortcullisMiddleware:
    def __init__(
        self, app: Callable, client: Client, *, rules: Sequence[Rule], subject: Callable[[dict], int | None]
    ) -> None:
        self.app = app
        self.client = client
        self.rules = sorted(rules, key=lambda rule: -len(rule[0]))  # the longest prefix decides
        self.subject = subject

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        rule = next((r for r in self.rules if path == r[0] or path.startswith(r[0].rstrip("/") + "/")), None)
        if rule is None:
            return self.app(environ, start_response)
        subject = self.subject(environ)
        try:
            ok = subject is not None and self.client.check(int(subject), rule[1], rule[2])
        except PortcullisError:
            ok = False
        if ok:
            return self.app(environ, start_response)
        start_response("403 Forbidden", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"Forbidden\n"]
