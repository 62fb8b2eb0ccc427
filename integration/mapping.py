"""The mapping an administrator gives with a CRM file: what a CRM permission set (or an extra Fxiaoke role)
gives in Portcullis, and which Portcullis role a CRM profile stands for. One line each:

    Reports_Export = reports: view, export        (rights: a grant on a module)
    System Administrator = role: Administrator    (a profile or CRM role held as this Portcullis role)

Names are compared without case; a name may have several rights lines (several modules). The keyword ``role``
may be written ``角色``, and the full-width ``＝`` and ``：`` of Chinese input are read as ``=`` and ``:``."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from integration.rows import split_list

MAX_LINES = 200
ROLE_KEYWORDS = frozenset({"role", "角色"})
_FULL_WIDTH = str.maketrans({"＝": "=", "：": ":", "，": ","})


@dataclass
class Mapping:
    rights: dict[str, list[tuple[str, list[str]]]] = field(default_factory=dict)  # name → [(module key, actions)]
    roles: dict[str, str] = field(default_factory=dict)  # CRM name → Portcullis role name

    def role_for(self, name: str) -> str:
        return self.roles.get(name.strip().lower(), name.strip())

    def rights_of(self, name: str) -> list[tuple[str, list[str]]] | None:
        return self.rights.get(name.strip().lower())


def parse_mapping(text: str) -> tuple[Mapping, list[str]]:
    """The mapping, and the problems of its lines (each naming its line)."""
    mapping, problems = Mapping(), []
    lines = (text or "").splitlines()
    if len(lines) > MAX_LINES:
        return mapping, [_("The mapping has more than %(count)d lines.") % {"count": MAX_LINES}]
    for number, line in enumerate(lines, start=1):
        line = line.translate(_FULL_WIDTH).strip()
        if not line or line.startswith("#"):
            continue
        name, equals, target = line.partition("=")
        kind, colon, rest = target.partition(":")
        if not (equals and colon and name.strip() and rest.strip()):
            problems.append(
                _("Mapping, line %(line)d: write “CRM name = module: actions” or “CRM name = role: role name”.")
                % {"line": number}
            )
            continue
        key, kind = name.strip().lower(), kind.strip()
        if kind.lower() in ROLE_KEYWORDS:
            mapping.roles[key] = rest.strip()
        else:
            mapping.rights.setdefault(key, []).append((kind.lower(), [a.lower() for a in split_list(rest)]))
    return mapping, problems
