"""Portcullis's own format, as JSON (one document with four lists) or CSV (one table, a ``record`` column
saying what each line is). Both carry the same fields; docs/integration.md."""

from __future__ import annotations

from django.utils.translation import gettext as _

from integration.rows import (
    GRANT,
    ORGANISATION,
    ROLE,
    USER,
    Parsed,
    Upload,
    Where,
    csv_records,
    json_entries,
    split_list,
    truthy,
)

SECTIONS = {"organisations": ORGANISATION, "roles": ROLE, "users": USER, "grants": GRANT}
CSV_COLUMNS = [
    "record",
    "email",
    "full_name",
    "role",
    "organisation",
    "active",
    "name",
    "parent",
    "external_id",
    "description",
    "matrix",
    "module",
    "actions",
    "expires_at",
    "reason",
]


def read(uploads: list[Upload], mapping) -> Parsed:
    parsed = Parsed()
    for upload in uploads:
        if upload.text.lstrip().startswith("{"):
            _read_json(upload, parsed)
        else:
            _read_csv(upload, parsed)
    return parsed


def _fields(kind: str, entry: dict) -> dict:
    """The neutral fields of one entry (CSV values are text, JSON values may be lists and objects)."""
    text = lambda name: str(entry.get(name) or "").strip()  # noqa: E731
    if kind == USER:
        return {
            "email": text("email"),
            "full_name": text("full_name"),
            "role": text("role"),
            "organisation": text("organisation"),
            "active": truthy(entry.get("active"), default=True),
        }
    if kind == ORGANISATION:
        return {"name": text("name"), "external_id": text("external_id"), "parent": text("parent")}
    if kind == ROLE:
        matrix = entry.get("matrix")
        if isinstance(matrix, str):
            matrix = parse_matrix(matrix) if matrix.strip() else None
        return {"name": text("name"), "description": text("description"), "matrix": matrix}
    actions = entry.get("actions")
    return {
        "email": text("email") or text("user"),
        "module": text("module"),
        "actions": split_list(actions) if isinstance(actions, str) else list(actions or []),
        "expires_at": text("expires_at"),
        "reason": text("reason"),
    }


def parse_matrix(text: str) -> dict[str, list[str]]:
    """``"products: view, export; reports: view"`` → ``{"products": ["view", "export"], "reports": ["view"]}``."""
    matrix: dict[str, list[str]] = {}
    for cell in text.split(";"):
        module, _colon, actions = cell.partition(":")
        if module.strip():
            matrix.setdefault(module.strip(), []).extend(split_list(actions, ",|"))
    return matrix


def format_matrix(matrix: dict[str, list[str]]) -> str:
    return "; ".join(f"{key}: {', '.join(actions)}" for key, actions in sorted(matrix.items()))


def _read_json(upload: Upload, parsed: Parsed) -> None:
    try:
        document, lines = json_entries(upload)
    except ValueError as error:
        parsed.problem(Where(upload.name), str(error))
        return
    unknown = sorted(set(document) - set(SECTIONS) - {"format", "version", "tenant", "exported_at"})
    if unknown:
        parsed.problem(Where(upload.name), _("Unknown sections: %(names)s.") % {"names": ", ".join(unknown)})
    for section, kind in SECTIONS.items():
        if section in document and not isinstance(document[section], list):
            parsed.problem(Where(upload.name), _("“%(name)s” must be a list.") % {"name": section})
            continue
        for line, entry in lines.get(section, []):
            where = Where(upload.name, line)
            if not isinstance(entry, dict):
                parsed.problem(where, _("Each entry of “%(name)s” must be an object.") % {"name": section})
                continue
            parsed.add(where, kind, **_fields(kind, entry))


def _read_csv(upload: Upload, parsed: Parsed) -> None:
    headers, records = csv_records(upload)
    if "record" not in headers:
        parsed.problem(Where(upload.name, 1), _("The first line must name the columns, “record” among them."))
        return
    kinds = {USER, ORGANISATION, ROLE, GRANT}
    for line, record in records:
        kind = record.get("record", "").lower()
        if kind not in kinds:
            parsed.problem(
                Where(upload.name, line),
                _("“record” must be user, organisation, role or grant, not “%(value)s”.") % {"value": kind},
            )
            continue
        parsed.add(Where(upload.name, line), kind, **_fields(kind, record))
