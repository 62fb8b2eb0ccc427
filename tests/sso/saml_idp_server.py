"""A SAML 2.0 identity provider for the test suite, in its own process: pysaml2's IdP (``saml2.server.Server``)
behind a small WSGI server, signing with xmlsec1 and a key made at start-up.

Run by ``tests/sso/saml_process.py`` as ``python saml_idp_server.py`` with ``IDP_CONFIG`` (JSON: port,
accounts). Pages: ``/metadata`` (its metadata), ``/sso/redirect`` (the HTTP-Redirect binding's AuthnRequest:
answers its login form), ``/login`` (the form's POST: answers a page that posts the Response to the service
provider's ACS). Test hooks (as node oidc-provider's in ``oidc_provider/provider.mjs``): ``/__test__/sp`` (add a
service provider's metadata), ``/__test__/accounts``, ``/__test__/fault`` (spoil the next answer: ``tamper``,
``unsigned``, ``audience``, ``expired``, ``replay-id``, or ``sign-response`` to sign the response instead of the
assertion).
"""

from __future__ import annotations

import base64
import datetime
import html
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import threading
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, samlp
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.sigver import pre_signature_part

PASSWORD = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
MULTI_FACTOR = "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken"
ELSEWHERE = "https://elsewhere.example/saml/metadata/"
TIME = "%Y-%m-%dT%H:%M:%SZ"


def _key_and_cert(folder: str) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "portcullis-test-idp")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = os.path.join(folder, "idp.key"), os.path.join(folder, "idp.crt")
    with open(key_file, "wb") as out:
        out.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    with open(cert_file, "wb") as out:
        out.write(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


def _elsewhere_metadata() -> str:
    """A service provider the IdP knows that is not the portal: answers made for it have another audience."""
    from saml2.config import SPConfig

    config = SPConfig()
    config.load(
        {
            "entityid": ELSEWHERE,
            "xmlsec_binary": shutil.which("xmlsec1"),
            "service": {
                "sp": {
                    "endpoints": {"assertion_consumer_service": [("https://elsewhere.example/acs", BINDING_HTTP_POST)]}
                }
            },
        }
    )
    return str(entity_descriptor(config))


def _shift(value: str | None, delta: datetime.timedelta) -> str | None:
    if not value:
        return value
    moment = datetime.datetime.strptime(value, TIME).replace(tzinfo=datetime.UTC) + delta
    return moment.strftime(TIME)


class IdentityProvider:
    def __init__(self, port: int, accounts: dict, host: str = "127.0.0.1"):
        self.base = f"http://{host}:{port}"
        self.entity_id = f"{self.base}/metadata"
        self.folder = tempfile.mkdtemp(prefix="portcullis-idp-")
        self.key_file, self.cert_file = _key_and_cert(self.folder)
        self.accounts = accounts
        self.sp_metadata = {ELSEWHERE: _elsewhere_metadata()}  # by entity id
        self.fault = ""
        self.pending: dict[str, dict] = {}
        self.last_assertion_id = ""
        self.lock = threading.Lock()
        self.server = self._server()

    def _config(self) -> IdPConfig:
        config = IdPConfig()
        config.load(
            {
                "entityid": self.entity_id,
                "xmlsec_binary": shutil.which("xmlsec1"),
                "key_file": self.key_file,
                "cert_file": self.cert_file,
                "metadata": {"inline": list(self.sp_metadata.values())},
                "service": {
                    "idp": {
                        "endpoints": {"single_sign_on_service": [(f"{self.base}/sso/redirect", BINDING_HTTP_REDIRECT)]},
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                        "policy": {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None}},
                    }
                },
            }
        )
        return config

    def _server(self) -> Server:
        return Server(config=self._config())

    def metadata(self) -> str:
        return str(entity_descriptor(self._config()))

    def add_sp(self, metadata: str) -> None:
        with self.lock:
            self.sp_metadata[re.search(r'entityID="([^"]+)"', metadata).group(1)] = metadata
            self.server = self._server()

    # The Web Browser SSO profile -----------------------------------------------------------------------------

    def login_page(self, query: dict) -> str:
        request = self.server.parse_authn_request(query["SAMLRequest"][0], BINDING_HTTP_REDIRECT)
        args = self.server.response_args(request.message, [BINDING_HTTP_POST])
        key = secrets.token_urlsafe(16)
        self.pending[key] = {"args": args, "relay_state": query.get("RelayState", [""])[0]}
        return (
            "<!doctype html><html><head><title>Test IdP</title></head><body><h1>Test identity provider</h1>"
            '<form method="post" action="/login">'
            f'<input type="hidden" name="key" value="{key}">'
            '<label for="login">Login</label> <input id="login" name="login"><br>'
            '<label for="password">Password</label> <input id="password" name="password" type="password"><br>'
            '<label for="mfa">Second factor used</label> <input id="mfa" name="mfa" type="checkbox" value="1"><br>'
            '<button type="submit">Sign in</button></form></body></html>'
        )

    def answer(self, form: dict) -> str:
        pending = self.pending.pop(form["key"][0])
        login = form["login"][0]
        account = self.accounts[login]
        args = dict(pending["args"])
        destination = args.pop("destination")
        args.pop("binding", None)
        identity = {
            "email": [account["email"]] if account.get("email") else [],
            "displayName": [account.get("name", login)],
            "groups": list(account.get("groups", [])),
        }
        authn = {"class_ref": MULTI_FACTOR if form.get("mfa") else PASSWORD, "authn_auth": self.entity_id}
        with self.lock:
            fault, self.fault = self.fault, ""
            unsigned = self.server.create_authn_response(
                identity,
                destination=destination,
                userid=login,
                name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=login),
                authn=authn,
                sign_response=False,
                sign_assertion=False,
                **args,
            )
            document = self._spoiled(samlp.response_from_string(str(unsigned)), fault)
        encoded = base64.b64encode(document.encode()).decode()
        return (
            "<!doctype html><html><head><title>Test IdP</title></head><body>"
            f'<form method="post" action="{html.escape(destination)}" id="answer">'
            f'<input type="hidden" name="SAMLResponse" value="{encoded}">'
            f'<input type="hidden" name="RelayState" value="{html.escape(pending["relay_state"])}">'
            '<button type="submit">Continue</button></form>'
            "<script>document.getElementById('answer').submit()</script></body></html>"
        )

    def _spoiled(self, response, fault: str) -> str:
        """The answer, signed (or not, or spoiled) as the fault says."""
        assertion = response.assertion[0] if isinstance(response.assertion, list) else response.assertion
        if fault == "audience":
            assertion.conditions.audience_restriction[0].audience[0].text = ELSEWHERE
        if fault == "expired":  # made (and expired) an hour ago
            back = datetime.timedelta(hours=-1)
            response.issue_instant = _shift(response.issue_instant, back)
            assertion.issue_instant = _shift(assertion.issue_instant, back)
            assertion.conditions.not_before = _shift(assertion.conditions.not_before, back)
            assertion.conditions.not_on_or_after = _shift(assertion.conditions.not_on_or_after, back)
            for confirmation in assertion.subject.subject_confirmation:
                data = confirmation.subject_confirmation_data
                data.not_on_or_after = _shift(data.not_on_or_after, back)
                data.not_before = _shift(data.not_before, back)
            for statement in assertion.authn_statement:
                statement.authn_instant = _shift(statement.authn_instant, back)
        if fault == "replay-id" and self.last_assertion_id:
            assertion.id = self.last_assertion_id
        self.last_assertion_id = assertion.id
        if fault == "unsigned":
            return str(response)
        sec = self.server.sec
        if fault == "sign-response":
            response.signature = pre_signature_part(response.id, sec.my_cert, 1)
            signed = sec.sign_statement(
                str(response), "urn:oasis:names:tc:SAML:2.0:protocol:Response", node_id=response.id
            )
        else:
            assertion.signature = pre_signature_part(assertion.id, sec.my_cert, 1)
            signed = sec.sign_statement(
                str(response), "urn:oasis:names:tc:SAML:2.0:assertion:Assertion", node_id=assertion.id
            )
        if fault == "tamper":  # a signed answer changed afterwards: another group, hence another role
            signed = signed.replace(">staff<", ">administrators<")
        return signed


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def main() -> None:
    config = json.loads(os.environ["IDP_CONFIG"])
    idp = IdentityProvider(config["port"], config["accounts"], config.get("host", "127.0.0.1"))

    def app(environ, start_response):
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        body = b""
        if method == "POST":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        status, kind, answer = "200 OK", "text/html; charset=utf-8", ""
        try:
            if path == "/metadata":
                kind, answer = "application/samlmetadata+xml", idp.metadata()
            elif path == "/sso/redirect":
                answer = idp.login_page(parse_qs(environ.get("QUERY_STRING", "")))
            elif path == "/login" and method == "POST":
                answer = idp.answer(parse_qs(body.decode()))
            elif path == "/__test__/sp" and method == "POST":
                idp.add_sp(body.decode())
            elif path == "/__test__/accounts" and method == "POST":
                idp.accounts = json.loads(body)
            elif path == "/__test__/fault" and method == "POST":
                idp.fault = json.loads(body)["fault"]
            else:
                status, answer = "404 Not Found", "not found"
        except Exception as error:  # a test reads the reason in the page
            status, kind, answer = "500 Internal Server Error", "text/plain", f"{type(error).__name__}: {error}"
        start_response(status, [("Content-Type", kind)])
        return [answer.encode()]

    server = make_server("127.0.0.1", config["port"], app, server_class=_ThreadingServer, handler_class=_Quiet)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    finally:
        shutil.rmtree(idp.folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
