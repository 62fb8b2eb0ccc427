"""The test SAML identity provider (tests/sso/saml_idp_server.py: pysaml2's IdP and xmlsec1) as a process of the
test run, on a free port.

Why pysaml2's own IdP rather than npm's ``saml-idp``: the refusals the suite must prove need answers a real IdP
signs but spoils on purpose (no signature, another audience, an expired or a reused assertion id, a response
signed instead of the assertion), which pysaml2's ``Server`` builds with xmlsec1 exactly as it builds good ones,
while saml-idp signs one fixed way; and it needs no node packages of its own. It is still another process,
talking to the portal only through the browser's redirects and posts and through metadata, as a real IdP does.

``authorize`` walks the IdP's login page with ``requests`` (as a browser would) and answers the ACS URL and the
fields the IdP's page would post there.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from tests.redisproc import free_port

SERVER = Path(__file__).resolve().parent / "saml_idp_server.py"
_FORM = re.compile(r'<form[^>]*action="([^"]+)"', re.I)
_FIELD = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', re.I)


class SamlIdp:
    def __init__(self, *, accounts: dict, host: str = "127.0.0.1"):
        """``host``: the name the IdP's pages are reached by ("localhost" makes its page another site than the
        portal's 127.0.0.1, as a real IdP is: the browser then posts the answer without the portal's cookies)."""
        if shutil.which("xmlsec1") is None:
            pytest.fail("xmlsec1 is needed for the SAML tests: run `make saml-provider` (apt-get install xmlsec1)")
        self.port = free_port()
        self.base = f"http://{host}:{self.port}"
        self.metadata_url = f"{self.base}/metadata"
        config = {"port": self.port, "accounts": accounts, "host": host}
        self.process = subprocess.Popen(
            [sys.executable, str(SERVER)],
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "IDP_CONFIG": json.dumps(config),
                "PYTHONWARNINGS": "ignore",
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            self.stop()
            raise RuntimeError(f"the SAML IdP did not start: {line}{self.process.stdout.read()}")
        self.metadata = requests.get(self.metadata_url, timeout=10).text

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def _post(self, path: str, body: str) -> None:
        requests.post(f"{self.base}{path}", data=body.encode(), timeout=10).raise_for_status()

    def add_sp(self, metadata: str) -> None:
        self._post("/__test__/sp", metadata)

    def set_accounts(self, accounts: dict) -> None:
        self._post("/__test__/accounts", json.dumps(accounts))

    def fault(self, name: str) -> None:
        """Spoil the next answer ("tamper", "unsigned", "audience", "expired", "replay-id", "sign-response")."""
        self._post("/__test__/fault", json.dumps({"fault": name}))

    def authorize(self, url: str, login: str, *, mfa: bool = False) -> tuple[str, dict]:
        """Sign in as ``login`` at the IdP's page ``url`` (the portal's redirect); (the ACS URL, the posted fields)."""
        browser = requests.Session()
        page = browser.get(url, timeout=10)
        assert page.status_code == 200, page.text[:500]
        fields = dict(_FIELD.findall(page.text))
        fields.update({"login": login, "password": "any password"})
        if mfa:
            fields["mfa"] = "1"
        answer = browser.post(urljoin(url, _FORM.search(page.text).group(1)), data=fields, timeout=10)
        assert answer.status_code == 200, answer.text[:500]
        action = html.unescape(_FORM.search(answer.text).group(1))
        return action, {name: html.unescape(value) for name, value in _FIELD.findall(answer.text)}
