"""Export: the tenant's organisations, roles (with matrices), users and live direct grants on whole modules, in
Portcullis's CSV or JSON (which import reads back unchanged: a round trip is a no-op) or in the shape of a CRM's
users file. Each section only when the actor may view it; one ``integration.exported`` event."""

from __future__ import annotations

import csv
import io
import json

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

import audit
from accounts.models import User
from accounts.organisations import Organisation
from audit.events import EventType
from integration.formats.native import CSV_COLUMNS, format_matrix
from permissions import engine
from permissions.models import Grant, Role
from permissions.services.checks import require
from permissions.services.roles import matrix_of
from permissions.vocabulary import Action, SystemModule, actions_of

#: export format key → (file name, content type)
EXPORTS = {
    "portcullis-json": ("portcullis.json", "application/json"),
    "portcullis-csv": ("portcullis.csv", "text/csv; charset=utf-8"),
    "zoho": ("zoho-users.csv", "text/csv; charset=utf-8"),
    "salesforce": ("salesforce-users.csv", "text/csv; charset=utf-8"),
    "fxiaoke": ("fxiaoke-员工.csv", "text/csv; charset=utf-8"),
}


def _state(actor) -> dict:
    may = lambda module: engine.can(actor, Action.VIEW, module)  # noqa: E731
    state: dict = {"format": "portcullis", "version": 1}
    if may(SystemModule.GROUPS):
        state["organisations"] = [
            {"name": o.name, "external_id": o.external_id or "", "parent": o.parent.name if o.parent_id else ""}
            for o in Organisation.objects.select_related("parent").order_by("name")
        ]
    if may(SystemModule.ROLES):
        state["roles"] = [
            {
                "name": r.name,
                "description": r.description,
                "matrix": {k: [a.value for a in actions_of(m)] for k, m in sorted(matrix_of(r).items())},
            }
            for r in Role.objects.order_by("-builtin", "name")
        ]
    state["users"] = [
        {
            "email": u.email,
            "full_name": u.full_name,
            "role": u.role.name if u.role_id else "",
            "organisation": u.organisation.name if u.organisation_id else "",
            "active": u.is_active or not u.has_usable_password(),  # invited counts as active; deactivated not
        }
        for u in User.objects.select_related("role", "organisation").order_by("email")
    ]
    if may(SystemModule.GRANTS):
        state["grants"] = _grants()
    return state


def _grants() -> list[dict]:
    now = timezone.now()
    live = Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    rows = Grant.objects.filter(live, user__isnull=False, resource__isnull=True).select_related("user", "module")
    return [
        {
            "email": g.user.email,
            "module": g.module.key,
            "actions": [a.value for a in actions_of(g.actions)],
            "expires_at": g.expires_at.isoformat() if g.expires_at else "",
            "reason": g.reason,
        }
        for g in rows.order_by("user__email", "module__key", "pk")
    ]


def _native_csv(state: dict) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for section, record in (
        ("organisations", "organisation"),
        ("roles", "role"),
        ("users", "user"),
        ("grants", "grant"),
    ):
        for entry in state.get(section, []):
            row = {"record": record, **entry}
            if "matrix" in row:
                row["matrix"] = format_matrix(row["matrix"])
            if "actions" in row:
                row["actions"] = ", ".join(row["actions"])
            if "active" in row:
                row["active"] = "true" if row["active"] else "false"
            writer.writerow(row)
    return out.getvalue()


def _split(name: str) -> tuple[str, str]:
    first, _space, last = name.strip().rpartition(" ")
    return (first, last) if first else ("", last)


def _crm_csv(state: dict, key: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if key == "zoho":
        writer.writerow(["First Name", "Last Name", "Email", "Role", "Profile", "Status"])
        for u in state["users"]:
            first, last = _split(u["full_name"])
            status = "Active" if u["active"] else "Deactive"
            writer.writerow([first, last, u["email"], u["organisation"], u["role"], status])
    elif key == "salesforce":
        writer.writerow(["Username", "FirstName", "LastName", "Email", "IsActive", "Profile.Name", "UserRole.Name"])
        for u in state["users"]:
            first, last = _split(u["full_name"])
            active = "true" if u["active"] else "false"
            writer.writerow([u["email"], first, last, u["email"], active, u["role"], u["organisation"]])
    else:
        writer.writerow(["姓名", "手机号", "邮箱", "主属部门", "角色", "状态"])
        for u in state["users"]:
            writer.writerow(
                [u["full_name"], "", u["email"], u["organisation"], u["role"], "启用" if u["active"] else "停用"]
            )
    return out.getvalue()


@transaction.atomic
def export(*, tenant, actor, format_key: str) -> tuple[str, str, bytes]:
    """(file name, content type, bytes) of the tenant's state; needs users: export."""
    require(actor, Action.EXPORT, SystemModule.USERS)
    if format_key not in EXPORTS:
        raise ValueError(format_key)
    state = _state(actor)
    if format_key == "portcullis-json":
        body = json.dumps(state, ensure_ascii=False, indent=2) + "\n"
    elif format_key == "portcullis-csv":
        body = _native_csv(state)
    else:
        body = _crm_csv(state, format_key)
    audit.record(
        EventType.EXPORTED,
        tenant=tenant,
        actor=actor,
        target=tenant,
        after={"format": format_key, **{k: len(v) for k, v in state.items() if isinstance(v, list)}},
    )
    name, content_type = EXPORTS[format_key]
    return name, content_type, ("\ufeff" + body if format_key in ("zoho", "salesforce", "fxiaoke") else body).encode()
