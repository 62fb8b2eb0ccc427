"""FC-4, LOG-4: checkpoints are C2SP signed notes cosigned by witnesses that run as their own processes
(``python -m audit.witness``); a witness refuses a fork, and the portal reports the refusal."""

import base64
import hashlib
import logging
import urllib.request

import pytest

from accounts.scoping import tenant_scope
from audit import keys, merkle, signednote, witnessing
from audit.checkpoints import make_checkpoint
from audit.models import WitnessSubmission
from audit.verify import verify_tenant
from audit.verify_export import log_origin
from tests.audit.conftest import fill, sql, triggers_off, use_witnesses


def post(witness, body: bytes):
    request = urllib.request.Request(witness.url + "/add-checkpoint", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def submissions(tenant):
    with tenant_scope(tenant):
        return list(WitnessSubmission.objects.order_by("pk").select_related("witness", "checkpoint"))


def test_fc4_two_witness_processes_cosign_each_checkpoint(acme, witnesses):
    a, b = witnesses("witness-a"), witnesses("witness-b")
    use_witnesses(acme, a, b, quorum=2)
    fill(acme, 3)
    first = make_checkpoint(acme)
    fill(acme, 4)
    second = make_checkpoint(acme)
    assert [(s.checkpoint.index, s.witness.name, s.status) for s in submissions(acme)] == [
        (0, "witness-a", "cosigned"),
        (0, "witness-b", "cosigned"),
        (1, "witness-a", "cosigned"),
        (1, "witness-b", "cosigned"),
    ]
    # The full note verifies with the log key and both witness keys, each key hash recomputed from its key.
    note = witnessing.cosigned_note(second)
    text, signatures = signednote.split_note(note)
    assert signednote.parse_checkpoint(text).size == second.tree_size == first.tree_size + 4
    for vkey in (keys.log_vkey(acme.pk), a.vkey, b.vkey):
        verifier = signednote.parse_vkey(vkey)
        assert [signednote.check(text, s, verifier) is not None for s in signatures].count(True) == 1
    # Each witness keeps the latest checkpoint it cosigned, outside the portal: its own state file.
    assert a.latest(acme).startswith(text) and a.state.exists()
    assert witnessing.status(acme)["witnessed"]
    assert verify_tenant(acme).ok


def test_fc4_a_witness_refuses_a_fork_with_409_and_the_portal_reports_it(acme, witnesses, caplog, admin_client_acme):
    a = witnesses()
    use_witnesses(acme, a)
    fill(acme, 5)
    seen = make_checkpoint(acme).tree_size
    with triggers_off():  # an attacker cuts the tail with its checkpoints, then the log grows again
        sql("DELETE FROM audit_witnesssubmission WHERE tenant_id = %s", [acme.pk])
        sql("DELETE FROM audit_checkpoint WHERE tenant_id = %s", [acme.pk])
        sql("DELETE FROM audit_auditevent WHERE tenant_id = %s AND seq >= 3", [acme.pk])
    fill(acme, 1)
    with caplog.at_level(logging.ERROR, logger="portcullis.audit"):
        forged = make_checkpoint(acme)
    [refusal] = [s for s in submissions(acme) if s.checkpoint_id == forged.pk]
    assert refusal.status == "refused" and refusal.http_status == 409
    assert "fork" in refusal.detail and f"{seen} events" in refusal.detail
    assert any("witness refused" in r.getMessage() for r in caplog.records)
    assert not witnessing.status(acme)["witnessed"]
    # The audit page says so.
    page = admin_client_acme.get("/audit/").content.decode()
    assert "refused checkpoint 0 (HTTP 409)" in page and a.name in page and "lacks its quorum" in page


def test_fc4_witness_protocol_answers(acme, witnesses):
    """The witness alone, over HTTP: 404 unknown log, 403 unsigned, 409 with its size, 422 bad proof, 200."""
    a = witnesses()
    origin = log_origin(acme.pk)
    key = keys.signing_key().private
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(6)]
    tree = merkle.Tree(leaves)

    def note(size, root=None):
        return signednote.sign_note(signednote.Checkpoint(origin, size, root or tree.root(size)).text, origin, key)

    def body(old, proof, text):
        return ("\n".join([f"old {old}", *(base64.b64encode(h).decode() for h in proof)]) + "\n\n" + text).encode()

    assert post(a, body(0, [], note(3)))[0] == 404  # not a log it witnesses
    a.trust(acme)
    unsigned = signednote.Checkpoint(origin, 3, tree.root(3)).text + "\n\u2014 x AAAAAAAA\n"
    assert post(a, body(0, [], unsigned))[0] == 403
    status, _, line = post(a, body(0, [], note(3)))
    assert status == 200 and line.startswith(f"\u2014 {a.name} ")
    text = signednote.Checkpoint(origin, 3, tree.root(3)).text
    _, [cosignature] = signednote.split_note("x\n\n" + line)
    assert signednote.check(text, cosignature, signednote.parse_vkey(a.vkey)) > 0
    assert post(a, body(0, [], note(5))) == (409, "text/x.tlog.size", "3\n")  # stale old size
    assert post(a, body(3, [bytes(32)], note(5)))[0] == 422  # a proof that does not verify
    other = merkle.node_hash(bytes(32), bytes(32))
    assert post(a, body(3, [], note(3, other)))[0] == 409  # same size, another root: a fork
    assert "REFUSED a fork" in a.stderr()
    assert post(a, body(6, [], note(5)))[0] == 400  # old above the checkpoint's size
    assert post(a, body(3, tree.consistency_proof(3, 6), note(6)))[0] == 200
    latest = a.latest(acme)
    assert signednote.parse_checkpoint(signednote.split_note(latest)[0]).size == 6
    assert hashlib.sha256(origin.encode()).hexdigest()  # the monitoring path is keyed by this hash


def test_an_unreachable_witness_is_recorded_and_the_checkpoint_lacks_its_quorum(acme):
    witnessing.configure(acme, add=("gone", _a_witness_vkey(), "http://127.0.0.1:9/"))
    fill(acme, 1)
    checkpoint = make_checkpoint(acme)
    [submission] = submissions(acme)
    assert submission.status == "unreachable" and submission.checkpoint == checkpoint
    assert witnessing.status(acme)["witnessed"] is False


def _a_witness_vkey():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    return signednote.Verifier("w", signednote.COSIGNATURE_V1, signednote.raw_public(private)).vkey


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"add": ("w", "not a vkey", "http://x/")}, "verifier key"),
        ({"quorum_value": 3}, "quorum"),
        ({"remove": "nobody"}, "no witness"),
    ],
)
def test_witness_configuration_refuses_bad_input_and_changes_nothing(acme, change, message):
    before = witnessing._configuration(acme)
    with pytest.raises(ValueError, match=message):
        witnessing.configure(acme, **change)
    assert witnessing._configuration(acme) == before


def test_witness_configuration_is_audited(acme, capsys):
    from django.core.management import call_command

    from audit.events import EventType
    from audit.models import AuditEvent

    vkey = _a_witness_vkey()
    call_command("audit_witness", "--tenant", "acme", "--add", "w", vkey, "http://127.0.0.1:9/")
    assert "quorum 1 of 1" in capsys.readouterr().out
    with tenant_scope(acme):
        [event] = AuditEvent.objects.filter(event_type=EventType.AUDIT_WITNESSES_CHANGED)
    assert event.after["witnesses"] == {"w": "http://127.0.0.1:9/"}
    call_command("audit_witness", "--tenant", "acme", "--log-vkey")
    assert capsys.readouterr().out.strip() == keys.log_vkey(acme.pk)


def test_fc4_administrators_download_the_latest_cosigned_checkpoint(acme, witnesses, admin_client_acme, acme_basic):
    from tests.conftest import login

    a = witnesses()
    assert admin_client_acme.get("/audit/checkpoint.txt").status_code == 404  # nothing witnessed yet
    use_witnesses(acme, a)
    fill(acme, 2)
    checkpoint = make_checkpoint(acme)
    response = admin_client_acme.get("/audit/checkpoint.txt")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    note = response.content.decode()
    text, signatures = signednote.split_note(note)
    assert signednote.parse_checkpoint(text).size == checkpoint.tree_size
    assert any(signednote.check(text, s, signednote.parse_vkey(a.vkey)) for s in signatures)
    assert 'href="/audit/checkpoint.txt"' in admin_client_acme.get("/audit/").content.decode()
    from django.test import Client

    assert login(Client(), acme_basic).get("/audit/checkpoint.txt").status_code == 403


def test_witness_check_then_update_is_atomic(acme, witnesses):
    """Two concurrent updates from the same old size: exactly one is cosigned, the other gets 409 with the new
    size (a witness never rolls back, as litewitness's race test asks)."""
    from concurrent.futures import ThreadPoolExecutor

    a = witnesses()
    a.trust(acme)
    origin = log_origin(acme.pk)
    key = keys.signing_key().private
    tree = merkle.Tree([merkle.leaf_hash(bytes([i])) for i in range(8)])

    def body(old, size):
        note = signednote.sign_note(signednote.Checkpoint(origin, size, tree.root(size)).text, origin, key)
        proof = tree.consistency_proof(old, size) if old else []
        return ("\n".join([f"old {old}", *(base64.b64encode(h).decode() for h in proof)]) + "\n\n" + note).encode()

    assert post(a, body(0, 3))[0] == 200
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda size: post(a, body(3, size)), (5, 6)))
    assert sorted(status for status, _, _ in answers) == [200, 409]
    [(_, _, size_text)] = [answer for answer in answers if answer[0] == 409]
    latest = signednote.parse_checkpoint(signednote.split_note(a.latest(acme))[0]).size
    assert size_text == f"{latest}\n" and latest in (5, 6)
