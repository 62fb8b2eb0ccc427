"""node oidc-provider (tests/sso/oidc_provider/provider.mjs) as a process of the test run, on a free port.

``make test`` installs its pinned packages (``npm ci --prefix tests/sso/oidc_provider``). ``authorize`` walks the
provider's own login and consent pages with ``requests`` (as a browser would) and answers the callback URL
the provider sends the browser back to, with its code and state.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from tests.redisproc import free_port

FOLDER = Path(__file__).resolve().parent / "oidc_provider"
CLIENT_SECRET = "test-client-secret-0123456789abcdef"
_FORM = re.compile(r'<form[^>]*action="([^"]+)"', re.I)


class OidcProvider:
    def __init__(self, *, clients: list[dict], accounts: dict):
        if shutil.which("node") is None or not (FOLDER / "node_modules" / "oidc-provider").is_dir():
            pytest.fail(
                "node and oidc-provider are needed: run `make sso-provider` (npm ci --prefix tests/sso/oidc_provider)"
            )
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        config = {"port": self.port, "clients": clients, "accounts": accounts}
        self.process = subprocess.Popen(
            ["node", str(FOLDER / "provider.mjs")],
            env={"PATH": "/usr/bin:/bin:/usr/local/bin", "PROVIDER_CONFIG": json.dumps(config), "NODE_ENV": "test"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=1).ok:
                    return
            except requests.ConnectionError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"oidc-provider exited: {self.process.stdout.read()}") from None
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("oidc-provider did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def set_accounts(self, accounts: dict) -> None:
        requests.post(f"{self.issuer}/__test__/accounts", data=json.dumps(accounts), timeout=5).raise_for_status()

    def fault(self, name: str) -> None:
        """Spoil the next ID token the token endpoint answers ("tamper", "audience", "nonce", "expired")."""
        requests.post(f"{self.issuer}/__test__/fault", data=json.dumps({"fault": name}), timeout=5).raise_for_status()

    def authorize(self, url: str, login: str, *, mfa: bool = False) -> str:
        """Sign in as ``login`` at the provider (its login form, when it has no session yet; ``mfa``: the
        second-factor box); the URL it sends the browser back to."""
        browser = requests.Session()
        for _step in range(20):
            response = browser.get(url, allow_redirects=False, timeout=5)
            if response.is_redirect:
                url = urljoin(url, response.headers["Location"])
                if not url.startswith(self.issuer):
                    return url
                continue
            match = _FORM.search(response.text)
            assert match and 'name="login"' in response.text, response.text[:500]
            fields = {"login": login, "password": "any password"}
            if mfa:
                fields["mfa"] = "1"
            response = browser.post(urljoin(url, match.group(1)), data=fields, allow_redirects=False, timeout=5)
            assert response.is_redirect, response.text[:500]
            url = urljoin(url, response.headers["Location"])
            if not url.startswith(self.issuer):
                return url
        raise AssertionError("the provider never sent the browser back")


def client_for(client_id: str, redirect_uris: list[str], post_logout: list[str] = ()) -> dict:
    return {
        "client_id": client_id,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": redirect_uris,
        "post_logout_redirect_uris": list(post_logout),
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
    }
