"""FC-4: RFC 3161 trusted timestamps of checkpoints, from a local time-stamping authority made of
``openssl ts -reply`` behind a tiny HTTP wrapper in this test; verifiers check the token and that the
checkpoint's time is not later than it."""

import json
import subprocess
import sys
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from accounts.scoping import tenant_scope
from audit import keys
from audit.checkpoints import make_checkpoint
from audit.export import write_export
from audit.models import Checkpoint, Timestamp
from audit.verify import verify_tenant
from tests.audit.conftest import fill, sql, triggers_off

ROOT = Path(__file__).resolve().parents[2]
TSA_CONFIG = """[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir = {dir}
serial = $dir/tsaserial
crypto_device = builtin
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
digests = sha256, sha384, sha512
accuracy = secs:1
tsa_name = yes
ess_cert_id_alg = sha256
"""


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_authority(directory: Path, name: str) -> None:
    """A root CA and a TSA certificate (critical timeStamping EKU) signed by it."""
    directory.mkdir()
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    ca = ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"]
    root = ["-keyout", "root.key", "-out", "root.pem", "-days", "3650", "-subj", f"/CN={name} Root"]
    openssl("req", "-x509", *ec, *root, *ca, cwd=directory)
    openssl("req", *ec, "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", f"/CN={name}", cwd=directory)
    (directory / "tsa.ext").write_text(
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n"
    )
    openssl(
        "x509",
        "-req",
        "-in",
        "tsa.csr",
        "-CA",
        "root.pem",
        "-CAkey",
        "root.key",
        "-CAcreateserial",
        "-days",
        "825",
        "-extfile",
        "tsa.ext",
        "-out",
        "tsa.pem",
        cwd=directory,
    )
    (directory / "tsaserial").write_text("01\n")
    (directory / "tsa.cnf").write_text(TSA_CONFIG.format(dir=directory))


@pytest.fixture
def authority(tmp_path):
    """A local TSA over HTTP: each request is answered by `openssl ts -reply` (serialised: its serial file)."""
    directory = tmp_path / "tsa"
    make_authority(directory, "Test TSA")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            return

        def do_POST(self):  # noqa: N802
            query = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                (directory / "req.tsq").write_bytes(query)
                openssl(
                    "ts", "-reply", "-config", "tsa.cnf", "-queryfile", "req.tsq", "-out", "resp.tsr", cwd=directory
                )
                reply = (directory / "resp.tsr").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", directory / "root.pem"
    server.shutdown()
    server.server_close()


@pytest.fixture
def stamped(acme, authority, settings):
    url, root = authority
    settings.AUDIT_TSA_URLS = [url]
    settings.AUDIT_TSA_ROOTS_FILE = str(root)
    fill(acme, 3)
    checkpoint = make_checkpoint(acme)
    return acme, checkpoint, root


def standalone(tenant, tmp_path, *extra):
    export = tmp_path / "export.jsonl"
    with export.open("w", encoding="utf-8") as handle:
        write_export(tenant, handle)
    pinned = tmp_path / "keys.json"
    pinned.write_text(json.dumps({"keys": keys.published_keys()}))
    no_django = (
        "import sys, runpy; sys.modules['django'] = None; sys.argv = ['verify_export', *sys.argv[1:]]; "
        "runpy.run_module('audit.verify_export', run_name='__main__')"
    )
    result = subprocess.run(
        [sys.executable, "-c", no_django, str(export), "--public-keys", str(pinned), *map(str, extra)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    return result.returncode, result.stdout + result.stderr


def test_fc4_each_checkpoint_is_timestamped_and_verifies(stamped, tmp_path):
    tenant, checkpoint, root = stamped
    with tenant_scope(tenant):
        [token] = Timestamp.objects.filter(checkpoint=checkpoint)
    assert token.gen_time >= checkpoint.created_at - timedelta(seconds=1)
    assert verify_tenant(tenant).ok
    assert standalone(tenant, tmp_path, "--tsa-roots", root) == (0, "acme: OK (4 events)\n")


def test_fc4_a_checkpoint_time_later_than_its_timestamp_is_reported(stamped, tmp_path):
    tenant, checkpoint, root = stamped
    with triggers_off():
        sql(
            "UPDATE audit_checkpoint SET created_at = %s WHERE id = %s",
            [checkpoint.created_at + timedelta(days=1), checkpoint.pk],
        )
    assert [p.kind for p in verify_tenant(tenant).problems] == ["bad_time"]
    code, out = standalone(tenant, tmp_path, "--tsa-roots", root)
    assert code == 1 and "bad_time" in out


def test_fc4_a_tampered_or_foreign_token_is_refused(stamped, tmp_path, authority):
    tenant, checkpoint, root = stamped
    other = tmp_path / "other"
    make_authority(other, "Other TSA")  # a verifier trusting another authority's root only
    code, out = standalone(tenant, tmp_path, "--tsa-roots", other / "root.pem")
    assert code == 1 and "bad_timestamp" in out
    with tenant_scope(tenant):
        token = Timestamp.objects.get(checkpoint=checkpoint).token
    forged = token[:-8] + ("A" * 8 if token[-8:] != "A" * 8 else "B" * 8)
    with triggers_off():
        sql("UPDATE audit_timestamp SET token = %s", [forged])
    assert "bad_timestamp" in {p.kind for p in verify_tenant(tenant).problems}


def test_fc4_a_checkpoint_without_its_timestamp_is_reported(stamped, settings):
    tenant, _, _ = stamped
    settings.AUDIT_TSA_URLS = []  # the attacker stops timestamping (or deletes the tokens)
    fill(tenant, 1)
    make_checkpoint(tenant)
    assert [p.kind for p in verify_tenant(tenant).problems] == ["bad_timestamp"]
    with tenant_scope(tenant):
        assert Checkpoint.objects.count() == 2
