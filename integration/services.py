"""Import: read → plan → run. A dry run runs every operation inside a transaction that is always rolled back
(each in its own savepoint, so every refusal is found and named by its row); applying runs the same operations
in one transaction that commits only when no row has a problem, with one ``integration.import_applied`` event
beside the events of the services it called. One bad row: nothing is applied."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

import audit
from audit.events import EventType
from integration import ops
from integration.formats import READERS
from integration.mapping import parse_mapping
from integration.plan import Plan, build
from integration.rows import Parsed, Problem, Upload, Where
from permissions.services.errors import AccessRefused


@dataclass
class Report:
    """What an import did or would do: operations with their outcome, problems by file and line, and who
    gains or loses what (the impact preview)."""

    format: str
    digest: str
    operations: list = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    effects: list[tuple[str, list[str], list[str]]] = field(default_factory=list)
    applied: bool = False
    dry_run: bool = True

    @property
    def ok(self) -> bool:
        return not self.problems

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for op, outcome in zip(self.operations, self.outcomes, strict=False):
            if outcome in (ops.APPLIED, ops.PENDING):
                counts[f"{op.kind}s"] = counts.get(f"{op.kind}s", 0) + 1
                if outcome == ops.PENDING:
                    counts["pending"] = counts.get("pending", 0) + 1
        return counts

    def as_dict(self) -> dict:
        return {
            "format": self.format,
            "dry_run": self.dry_run,
            "applied": self.applied,
            "sha256": self.digest,
            "problems": [p.as_dict() for p in self.problems],
            "operations": [
                {
                    "file": op.where.source,
                    "line": op.where.line,
                    "kind": op.kind,
                    "summary": op.summary(),
                    "outcome": outcome,
                }
                for op, outcome in zip(self.operations, self.outcomes, strict=False)
            ],
            "effects": [{"email": email, "gains": gains, "loses": loses} for email, gains, loses in self.effects],
            "counts": self.counts(),
        }


class _RollBack(Exception):
    pass


def digest_of(uploads: list[Upload], format_key: str, mapping_text: str) -> str:
    sha = hashlib.sha256(format_key.encode())
    for upload in uploads:
        sha.update(b"\0" + upload.name.encode() + b"\0" + upload.text.encode())
    sha.update(b"\0" + (mapping_text or "").encode())
    return sha.hexdigest()


def read(uploads: list[Upload], format_key: str, mapping_text: str = "") -> Parsed:
    """The rows of the uploads in ``format_key`` (problems of the mapping named as the mapping's lines)."""
    if format_key not in READERS:
        raise ValueError(_("Unknown format."))
    mapping, mapping_problems = parse_mapping(mapping_text)
    parsed = READERS[format_key][1](uploads, mapping)
    for message in mapping_problems:
        parsed.problem(Where(_("Mapping")), message)
    return parsed


def run_import(
    *, tenant, actor, uploads: list[Upload], format_key: str, mapping_text: str = "", dry_run: bool = True
) -> Report:
    """Dry run (``dry_run``, the default) or apply. Inside the tenant's scope (the request's, or the caller's)."""
    report = Report(format=format_key, digest=digest_of(uploads, format_key, mapping_text), dry_run=dry_run)
    plan = build(read(uploads, format_key, mapping_text))
    report.operations = plan.operations
    report.problems = list(plan.problems)
    planned = {op.name.lower(): op.matrix for op in plan.operations if isinstance(op, ops.CreateRole)}
    report.effects = _effects(plan, ops.Context(tenant, actor, planned))
    try:
        with transaction.atomic():
            _run(plan, ops.Context(tenant, actor, planned), report)
            if dry_run or report.problems:
                raise _RollBack
            audit.record(
                EventType.IMPORT_APPLIED,
                tenant=tenant,
                actor=actor,
                target=tenant,
                after={"format": format_key, "sha256": report.digest, "files": len(uploads), **report.counts()},
            )
            report.applied = True
    except _RollBack:
        pass
    report.problems.sort(key=lambda p: (p.where.source, p.where.line))
    return report


def _run(plan: Plan, ctx: ops.Context, report: Report) -> None:
    """Each operation in its savepoint: a refusal is recorded against its row and the others still run (so a
    dry run names every problem); the caller rolls the whole back when there is any."""
    for op in plan.operations:
        try:
            with transaction.atomic():
                report.outcomes.append(op.run(ctx))
        except AccessRefused as error:
            from console.views.common import refusal_text

            _failed(report, op, refusal_text(error))
        except ValidationError as error:
            _failed(report, op, " ".join(error.messages))
        except ValueError as error:
            _failed(report, op, str(error))


def _failed(report: Report, op, message: str) -> None:
    report.outcomes.append("refused")
    report.problems.append(Problem(op.where, message))


def _effects(plan: Plan, ctx: ops.Context) -> list[tuple[str, list[str], list[str]]]:
    """Per person, what they would gain and lose (one line each, in e-mail order)."""
    merged: dict[str, tuple[list[str], list[str]]] = {}
    for op in plan.operations:
        for email, gains, loses in op.effects(ctx):
            entry = merged.setdefault(email, ([], []))
            entry[0].extend(g for g in gains if g not in entry[0])
            entry[1].extend(loss for loss in loses if loss not in entry[1])
    return [(email, gains, loses) for email, (gains, loses) in sorted(merged.items()) if gains or loses]
