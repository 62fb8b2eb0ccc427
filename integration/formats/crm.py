"""What the CRM readers share: a profile becomes a role and a hierarchy position an organisation, each
implied by the first user row naming it; the mapping turns permission sets into grants."""

from __future__ import annotations

from django.utils.translation import gettext as _

from integration.rows import GRANT, ORGANISATION, ROLE, USER, Parsed, Where


def add_user(parsed: Parsed, where: Where, mapping, *, email, full_name, role, organisation, active) -> None:
    """A user row and the role and organisation it names (implied rows, created when the tenant lacks them)."""
    role = mapping.role_for(role) if role else ""
    if role and active:  # an inactive person is not imported: what only they name is not created either
        parsed.add(where, ROLE, implied=True, name=role, description="", matrix=None)
    if organisation and active:
        parsed.add(where, ORGANISATION, implied=True, name=organisation, external_id="", parent="")
    parsed.add(where, USER, email=email, full_name=full_name, role=role, organisation=organisation, active=active)


def add_rights(
    parsed: Parsed, where: Where, mapping, *, email: str, name: str, expires_at: str = "", source: str
) -> None:
    """The grants a mapped CRM permission set (or extra role) gives ``email``; a problem when it has no mapping."""
    rights = mapping.rights_of(name)
    if not rights:
        parsed.problem(
            where,
            _("“%(name)s” has no mapping: add a line “%(name)s = module: actions” (or leave the row out).")
            % {"name": name},
        )
        return
    for module, actions in rights:
        parsed.add(
            where,
            GRANT,
            email=email,
            module=module,
            actions=actions,
            expires_at=expires_at,
            reason=_("Imported from %(source)s: %(name)s") % {"source": source, "name": name},
        )


def unknown_file(parsed: Parsed, name: str, expected: str) -> None:
    parsed.problem(
        Where(name, 1), _("The columns of this file are not those of %(expected)s.") % {"expected": expected}
    )
