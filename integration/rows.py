"""What every format is read into: rows of intended state, each with the file and line it came from, and the
problems found on the way (a problem always names its file and line, or the file alone)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

#: Limits of one import (docs/integration.md): bytes of all files together, files, rows of all files together.
MAX_BYTES = 2 * 1024 * 1024
MAX_FILES = 5
MAX_ROWS = 5000

USER, ORGANISATION, ROLE, GRANT = "user", "organisation", "role", "grant"
KINDS = (ORGANISATION, ROLE, USER, GRANT)  # the order a plan applies them in


class TooLarge(Exception):
    """The upload is over a limit: nothing was read further, nothing changes."""


@dataclass(frozen=True)
class Upload:
    """One uploaded file: its name and its text."""

    name: str
    text: str


@dataclass(frozen=True)
class Where:
    """A file and a line of it (0: the file as a whole)."""

    source: str
    line: int = 0

    def __str__(self) -> str:
        if not self.line:
            return self.source
        return _("%(file)s, line %(line)d") % {"file": self.source, "line": self.line}


@dataclass
class Row:
    """One intended state: ``kind`` (user, organisation, role, grant) and its fields. ``implied``: a role or an
    organisation only named by a user row (a CRM profile), never overriding a row that describes it."""

    where: Where
    kind: str
    data: dict
    implied: bool = False


@dataclass(frozen=True)
class Problem:
    where: Where
    message: str

    def as_dict(self) -> dict:
        return {"file": self.where.source, "line": self.where.line, "message": self.message}


@dataclass
class Parsed:
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def add(self, where: Where, kind: str, implied: bool = False, **data) -> None:
        self.rows.append(Row(where, kind, data, implied))

    def problem(self, where: Where, message: str) -> None:
        self.problems.append(Problem(where, message))

    def extend(self, other: Parsed) -> None:
        self.rows.extend(other.rows)
        self.problems.extend(other.problems)


def decode(name: str, raw: bytes) -> Upload:
    """UTF-8 (with or without a byte-order mark), else GB18030 (Chinese spreadsheets save CSV in it)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return Upload(name, raw.decode(encoding))
        except UnicodeDecodeError:
            continue
    raise ValueError(_("%(file)s is neither UTF-8 nor GB18030 text.") % {"file": name})


def check_sizes(sizes: list[int]) -> None:
    """Refuse too many files or too many bytes before anything is read (``TooLarge``)."""
    if not sizes:
        raise TooLarge(_("Choose at least one file."))
    if len(sizes) > MAX_FILES:
        raise TooLarge(_("At most %(count)d files at a time.") % {"count": MAX_FILES})
    if sum(sizes) > MAX_BYTES:
        raise TooLarge(_("The files are too large: at most %(size)d KiB together.") % {"size": MAX_BYTES // 1024})


def header_key(name: str) -> str:
    """A column header compared without case, spaces around or a byte-order mark."""
    return (name or "").strip().lstrip("\ufeff").strip().strip('"').lower()


def csv_records(upload: Upload) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """(the normalised headers, [(line, {header: value})]) of a CSV file; blank records skipped."""
    reader = csv.reader(io.StringIO(upload.text, newline=""))
    headers: list[str] = []
    records = []
    for values in reader:
        if not headers:
            headers = [header_key(v) for v in values]
            continue
        if not any(v.strip() for v in values):
            continue
        records.append((reader.line_num, dict(zip(headers, (v.strip() for v in values), strict=False))))
    return headers, records


def json_entries(upload: Upload) -> tuple[dict, dict[str, list[tuple[int, object]]]]:
    """The document, and for each top-level list its entries with the line each starts on."""
    try:
        document = json.loads(upload.text)
    except json.JSONDecodeError as error:
        raise ValueError(
            _("%(file)s, line %(line)d: not valid JSON (%(error)s).")
            % {"file": upload.name, "line": error.lineno, "error": error.msg}
        ) from error
    if not isinstance(document, dict):
        raise ValueError(_("%(file)s: the JSON document must be an object.") % {"file": upload.name})
    return document, _entry_lines(upload.text)


def _entry_lines(text: str) -> dict[str, list[tuple[int, object]]]:
    """Walk the top-level object once more to find where each entry of each list starts (the text is valid)."""
    decoder, found, at = json.JSONDecoder(), {}, text.index("{") + 1

    def skip(i: int) -> int:
        while i < len(text) and text[i] in " \t\r\n,:":
            i += 1
        return i

    at = skip(at)
    while at < len(text) and text[at] != "}":
        key, at = decoder.raw_decode(text, at)
        at = skip(at)
        if text[at] == "[":
            entries, at = [], skip(at + 1)
            while text[at] != "]":
                value, end = decoder.raw_decode(text, at)
                entries.append((text.count("\n", 0, at) + 1, value))
                at = skip(end)
            found[key], at = entries, skip(at + 1)
        else:
            _value, at = decoder.raw_decode(text, at)
            at = skip(at)
    return found


def split_list(value: str, separators: str = ",;，；、|") -> list[str]:
    """``"a, b；c"`` → ``["a", "b", "c"]`` (commas, semicolons, Chinese list marks, bars)."""
    parts, current = [], ""
    for char in value or "":
        if char in separators:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def truthy(value, default: bool = True) -> bool:
    """Active flags as CRMs write them: true/false, 1/0, yes/no, Active/Inactive, 启用/停用."""
    text = str(value).strip().lower() if value is not None else ""
    if not text:
        return default
    if text in {
        "false",
        "0",
        "no",
        "n",
        "inactive",
        "deactive",
        "deactivated",
        "disabled",
        "deleted",
        "停用",
        "禁用",
        "离职",
        "已停用",
    }:
        return False
    return True
