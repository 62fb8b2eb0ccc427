"""The standalone verifier's parallel pass (audit/verify_parallel.py) gives the sequential verifier's answer:
it accepts an intact export on its own, and on every kind of tampering steps aside so that the sequential
reading names the problems. Each export is split into chunks of a few events, so chunk boundaries fall
between tampered events and their neighbours."""

import json

import pytest

from audit import verify_parallel
from audit.checkpoints import make_checkpoint
from audit.verify_export import Trust, verify_file, verify_lines
from tests.audit.conftest import fill, triggers_off
from tests.audit.test_tampering import CASES, export_of, found

PROCESSES = 2


@pytest.fixture
def log(acme):
    """Twelve events under a signed checkpoint (as test_tampering's log), then three more after it."""
    fill(acme, 11)
    make_checkpoint(acme)
    return acme


def write(tmp_path, lines, name="export.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def both(path, keys=None, trust=None):
    """(the sequential verdict, the parallel verdict, whether the parallel pass answered by itself)."""
    with open(path, encoding="utf-8") as handle:
        sequential = verify_lines(handle, keys, trust)
    alone = verify_parallel.verify(path, keys, trust, PROCESSES)
    chosen = verify_file(path, keys, trust, processes=PROCESSES, parallel_from=0)
    return sequential, chosen, alone


def test_an_intact_export_with_proofs_is_accepted_by_the_parallel_pass_alone(log, tmp_path):
    fill(log, 3)  # three events after the checkpoint: no proof for them
    path = write(tmp_path, export_of(log, proofs=True))
    sequential, chosen, alone = both(path)
    assert sequential[1] == [] and sequential[0]["events"] == 15
    assert alone is not None and alone == sequential == chosen


def test_an_intact_export_without_proofs_is_accepted_by_the_parallel_pass_alone(log, tmp_path):
    path = write(tmp_path, export_of(log))
    sequential, chosen, alone = both(path)
    assert alone is not None and alone == sequential == chosen and sequential[1] == []


@pytest.mark.parametrize("proofs", [False, True], ids=["plain", "proofs"])
@pytest.mark.parametrize(("tamper", "expected"), CASES, ids=[c[0].__name__ for c in CASES])
def test_on_tampering_in_the_database_both_passes_give_the_same_problems(log, tmp_path, tamper, expected, proofs):
    with triggers_off():
        tamper(log)
    path = write(tmp_path, export_of(log, proofs=proofs))
    sequential, chosen, alone = both(path)
    assert expected in found(sequential[1])
    assert chosen == sequential
    # The parallel pass steps aside on a problem in the events; a problem the checker finds after them (a log
    # cut with its checkpoint's events, say) it reports itself, the same.
    assert alone is None or alone == sequential


def _edit(lines, index, change):
    record = json.loads(lines[index])
    change(record)
    edited = list(lines)
    edited[index] = json.dumps(record)
    return edited


def _events(lines):
    return [n for n, line in enumerate(lines) if '"record": "event"' in line or '"record":"event"' in line]


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r.__setitem__("chain_hash", "00" * 32),
        lambda r: r.__setitem__("leaf_hash", "11" * 32),
        lambda r: r["proof"]["path"].__setitem__(0, "22" * 32),
        lambda r: r["proof"].__setitem__("path", ["\n".join(r["proof"]["path"][:2])] + r["proof"]["path"][2:]),
        lambda r: r["proof"].__setitem__("tree_size", r["proof"]["tree_size"] + 1),
        lambda r: r.__setitem__("seq", r["seq"] + 1),
    ],
    ids=["chain", "leaf", "proof-step", "proof-steps-joined", "proof-size", "position"],
)
def test_an_edited_event_anywhere_is_left_to_the_sequential_reading(log, tmp_path, change):
    """Edited in the file, at every position: the first, last and inner events of every chunk."""
    lines = export_of(log, proofs=True)
    for index in _events(lines):
        path = write(tmp_path, _edit(lines, index, change), name=f"edit-{index}.jsonl")
        try:
            sequential, chosen, alone = both(path)
        except ValueError:  # a proof step the sequential reading cannot decode: it cannot read the input
            assert verify_parallel.verify(path, None, None, PROCESSES) is None
            continue
        assert sequential[1], f"the sequential reading found no problem in event line {index}"
        assert chosen == sequential and alone is None


def test_an_event_without_its_proof_gets_the_same_verdict(log, tmp_path):
    """Proofs are optional per event: without one, nothing is wrong, and both passes say so."""
    lines = export_of(log, proofs=True)
    for index in _events(lines):
        path = write(tmp_path, _edit(lines, index, lambda r: r.pop("proof")), name=f"bare-{index}.jsonl")
        sequential, chosen, alone = both(path)
        assert sequential[1] == [] and chosen == sequential and alone in (None, sequential)


@pytest.mark.parametrize(
    "edit",
    [
        lambda lines, at: lines[:at] + ['{"record": "note", "text": "between events"}'] + lines[at:],
        lambda lines, at: lines[:at] + [lines[at] + "   "] + lines[at + 1 :],
        lambda lines, at: lines[:at] + [lines[at].replace(',"seq"', ',\r"seq"', 1)] + lines[at + 1 :],
    ],
    ids=["unknown-record", "trailing-blanks", "carriage-return"],
)
def test_lines_read_differently_are_left_to_the_sequential_reading(log, tmp_path, edit):
    lines = export_of(log, proofs=True)
    edited = edit(lines, _events(lines)[5])
    assert edited != lines
    path = write(tmp_path, edited)
    try:
        with open(path, encoding="utf-8") as handle:
            sequential = verify_lines(handle)
    except ValueError:
        sequential = None  # the sequential reading cannot read it (a line cut at the carriage return)
    assert verify_parallel.verify(path, None, None, PROCESSES) is None
    if sequential is not None:
        assert verify_file(path, processes=PROCESSES, parallel_from=0) == sequential


def test_roots_of_trust_are_judged_the_same_way(log, tmp_path):
    """A checkpoint kept outside the log, larger than the export: a rollback, found by both."""
    kept = export_of(log, proofs=False)
    note = next(json.loads(line)["note"] for line in kept if '"checkpoint"' in line)
    fill(log, 2)
    make_checkpoint(log)
    larger = next(json.loads(line)["note"] for line in export_of(log) if '"index": 1' in line or '"index":1' in line)
    path = write(tmp_path, kept)
    trust = Trust(checkpoints=[larger, note])
    sequential, chosen, alone = both(path, trust=trust)
    assert "rollback" in {p.kind for p in sequential[1]}
    assert chosen == sequential and alone == sequential
