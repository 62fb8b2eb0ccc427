"""Helpers of the import tests: the sample files of docs/samples, a run in a tenant's scope, and the tenant's
state as plain values (users, organisations, custom roles, live grants, pending changes) to compare exactly."""

from __future__ import annotations

from pathlib import Path

from accounts.models import User
from accounts.organisations import Organisation
from accounts.scoping import tenant_scope
from integration import services
from integration.rows import Upload, decode
from permissions.models import Grant, PendingChange, Role
from permissions.vocabulary import actions_of

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"


def sample(name: str) -> Upload:
    return decode(name, (SAMPLES / name).read_bytes())


def mapping(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def run(tenant, actor, uploads, format_key, mapping_text="", dry_run=False):
    with tenant_scope(tenant):
        return services.run_import(
            tenant=tenant,
            actor=actor,
            uploads=uploads,
            format_key=format_key,
            mapping_text=mapping_text,
            dry_run=dry_run,
        )


def state(tenant, *, skip=("admin@acme.example",)) -> dict:
    with tenant_scope(tenant):
        users = {
            u.email: (u.full_name, u.role.name, u.organisation.name if u.organisation_id else "", u.is_active)
            for u in User.objects.select_related("role", "organisation").exclude(email__in=skip)
        }
        organisations = {o.name: o.parent.name if o.parent_id else "" for o in Organisation.objects.all()}
        roles = sorted(Role.objects.filter(builtin=False).values_list("name", flat=True))
        grants = sorted(
            (
                g.user.email,
                g.module.key,
                tuple(a.value for a in actions_of(g.actions)),
                g.expires_at.date().isoformat() if g.expires_at else "",
            )
            for g in Grant.objects.filter(revoked_at__isnull=True).select_related("user", "module")
        )
        pending = sorted(
            (c.kind, User.objects.get(pk=c.payload["user"]).email, Role.objects.get(pk=c.payload["role"]).key)
            for c in PendingChange.objects.filter(status=PendingChange.Status.PENDING)
        )
    return {"users": users, "organisations": organisations, "roles": roles, "grants": grants, "pending": pending}


def problems(report) -> list[tuple[str, int]]:
    return [(p.where.source, p.where.line) for p in report.problems]
