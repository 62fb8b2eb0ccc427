"""Use cases that change tenants and users. Views and commands call these; nothing else writes."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

import audit
from accounts.models import Tenant, User
from accounts.scoping import tenant_scope
from accounts.sessions import end_user_sessions
from audit.events import EventType
from permissions.models import BuiltinRole, Role
from permissions.services.hierarchy import keeps_an_administrator, require_outranks
from permissions.services.setup import setup_tenant


@transaction.atomic
def create_tenant(*, name: str, slug: str, actor: User | None = None) -> Tenant:
    """A new tenant with its three built-in roles."""
    tenant = Tenant(name=name, slug=slug)
    tenant.full_clean()
    tenant.save()
    with tenant_scope(tenant):
        for builtin in BuiltinRole:
            Role.objects.create(tenant=tenant, key=builtin.value, name=str(builtin.label), builtin=True)
    setup_tenant(tenant)  # modules and the built-in role matrices
    audit.record(
        EventType.TENANT_CREATED, tenant=tenant, actor=actor, target=tenant, after={"name": name, "slug": slug}
    )
    return tenant


PROFILE_FIELDS = frozenset({"external_id", "scim_user_name", "given_name", "family_name", "scim_deleted"})


@transaction.atomic
def create_user(
    *,
    tenant: Tenant,
    email: str,
    password: str | None,
    role: Role,
    full_name: str = "",
    is_active: bool = True,
    actor: User | None = None,
    profile: dict | None = None,
) -> User:
    """A user of ``tenant`` holding ``role`` (which must be one of the tenant's). ``profile``: what SCIM
    provisioning also keeps (``external_id``, ``scim_user_name``, ``given_name``, ``family_name``)."""
    if role.tenant_id != tenant.pk:
        raise ValueError("role belongs to another tenant")
    profile = {k: v for k, v in (profile or {}).items() if v}
    if set(profile) - PROFILE_FIELDS:
        raise ValueError(f"unknown profile fields {sorted(set(profile) - PROFILE_FIELDS)}")
    user = User.objects.create_user(
        email, password, tenant=tenant, role=role, full_name=full_name, is_active=is_active, **profile
    )
    audit.record(
        EventType.USER_CREATED,
        tenant=tenant,
        actor=actor,
        target=user,
        after={"email": user.email, "role": role.key, "is_active": is_active, **profile},
    )
    return user


@transaction.atomic
def invite_user(*, tenant: Tenant, email: str, role: Role, actor: User, full_name: str = "") -> User:
    """An inactive account with no usable password, and an e-mailed single-use link valid 72 hours."""
    from accounts.auth_services import send_invitation

    if actor.tenant_id != tenant.pk or role.tenant_id != tenant.pk:
        raise ValueError("actor and role must belong to the tenant")
    refuse_outside_invitation_domains(tenant, email)
    user = User.objects.create_user(email, None, tenant=tenant, role=role, full_name=full_name, is_active=False)
    audit.record(EventType.USER_INVITED, tenant=tenant, actor=actor, target=user, after={"email": user.email})
    send_invitation(user, actor=actor)
    return user


def refuse_outside_invitation_domains(tenant: Tenant, email: str) -> None:
    """The tenant's "allowed e-mail domains for invitations" setting (empty: any domain)."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext

    from accounts.models import lines

    allowed = lines(tenant.invitation_domains)
    domain = email.rpartition("@")[2].strip().lower()
    if allowed and domain not in allowed:
        raise ValidationError(
            {"email": gettext("Invitations go only to these domains: %(domains)s.") % {"domains": ", ".join(allowed)}}
        )


@transaction.atomic
def deactivate_user(user: User, *, actor: User | None, reason: str = "") -> User:
    """The user can do nothing more: every session ends now, no login succeeds, every open e-mailed link
    (an invitation included) stops working and their API keys are revoked for good (INS-5). Refused on
    a user holding rights the actor lacks (INS-1) and on the last active administrator (INS-2).

    A platform operator holds no right of the tenant, so the hierarchy would refuse them everyone; they may
    still suspend an account (containment after a compromise: MFA at their login, the event in the tenant's
    trail with the operator as actor, the last administrator guarded), but never restore or give access."""
    from accounts.auth_services import cancel_open_links
    from api.keys import revoke_keys_of

    if not (actor is not None and actor.is_operator):
        require_outranks(actor, user)
    with keeps_an_administrator(user.tenant_id):
        if _set_active(user, False, actor=actor, reason=reason):
            transaction.on_commit(lambda: end_user_sessions(user))
    cancel_open_links(user, actor=actor, reason=reason)
    revoke_keys_of(user, actor=actor, reason=reason)
    return user


@transaction.atomic
def reactivate_user(user: User, *, actor: User | None, reason: str = "") -> User:
    """Let a deactivated user log in again. Nothing of before comes back: their sessions ended, their
    links were cancelled and their API keys revoked at deactivation (INS-5)."""
    require_outranks(actor, user)
    _set_active(user, True, actor=actor, reason=reason)
    return user


def _set_active(user: User, active: bool, *, actor: User, reason: str) -> bool:
    """Flip ``is_active`` and audit it; False when there was nothing to change."""
    if user.is_active == active:
        return False
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit.record(
        EventType.USER_REACTIVATED if active else EventType.USER_DEACTIVATED,
        tenant=user.tenant,
        actor=actor,
        target=user,
        before={"is_active": not active},
        after={"is_active": active},
        reason=reason,
    )
    return True


def set_language(user: User, language: str) -> None:
    """Remember the user's language for every later request."""
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"unsupported language {language!r}")
    user.language = language
    user.save(update_fields=["language"])


@transaction.atomic
def set_preferences(user: User, *, language: str, time_zone: str) -> bool:
    """The user's own language and time zone (empty: the browser's language, the tenant's zone); audited as a
    change of the user. False when nothing changed."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValueError(f"unsupported language {language!r}")
    if time_zone:
        from accounts.models import validate_timezone

        validate_timezone(time_zone)
    before = {"language": user.language, "time_zone": user.time_zone}
    after = {"language": language, "time_zone": time_zone}
    if before == after:
        return False
    user.language, user.time_zone = language, time_zone
    user.save(update_fields=["language", "time_zone"])
    changed = [key for key in after if before[key] != after[key]]
    audit.record(
        EventType.USER_CHANGED,
        tenant=user.tenant,
        actor=user,
        target=user,
        before={key: before[key] for key in changed},
        after={key: after[key] for key in changed},
    )
    return True


# Settings a tenant administrator may change (never the name's slug, nor whether the tenant is active).
TENANT_SETTINGS = (
    "name",
    "mfa_policy",
    "passkeys_for_administrators",
    "session_idle_minutes",
    "review_cadence",
    "review_duration_days",
    "request_max_days",
    "time_zone",
    "credential_min_length",
    "invitation_domains",
    "console_networks",
    "dormancy_days",
    "dormancy_warning_days",
    "appeal_due_days",
)
_CADENCE_ORDER = ["monthly", "quarterly", "half_yearly", "yearly"]


def weakened_settings(tenant: Tenant, changes: dict) -> list[str]:
    """The settings of ``changes`` that would make the tenant less safe than it is now (four-eyes changes):
    MFA for fewer people, a longer idle timeout, shorter passwords, rarer reviews, longer access requests,
    an invitation domain or console address range added to a list, or a list emptied (anyone, anywhere), dormant
    accounts kept longer (or the policy off), customers' appeals answered later."""
    from accounts.models import lines

    def widened(old: str, new: str) -> bool:
        old_set, new_set = set(lines(old)), set(lines(new))
        return bool(old_set) and (not new_set or bool(new_set - old_set))

    rules = {
        "mfa_policy": lambda old, new: old == Tenant.MfaPolicy.EVERYONE and new != old,
        "passkeys_for_administrators": lambda old, new: old and not new,
        "session_idle_minutes": lambda old, new: int(new) > old,
        "credential_min_length": lambda old, new: int(new) < old,
        "review_cadence": lambda old, new: _CADENCE_ORDER.index(new) > _CADENCE_ORDER.index(old),
        "request_max_days": lambda old, new: int(new) > old,
        "invitation_domains": widened,
        "console_networks": widened,
        # Dormant accounts kept longer (or the policy turned off), customers' appeals answered later.
        "dormancy_days": lambda old, new: bool(old) and (not new or int(new) > old),
        "appeal_due_days": lambda old, new: int(new) > old,
    }
    return [
        field
        for field, value in changes.items()
        if field in rules and value != getattr(tenant, field) and rules[field](getattr(tenant, field), value)
    ]


def _checked(tenant: Tenant, actor: User, changes: dict) -> tuple[Tenant, Tenant]:
    """A locked copy of the tenant with ``changes`` set and validated (nothing saved)."""
    from permissions.services.checks import require
    from permissions.vocabulary import Action, SystemModule

    unknown = set(changes) - set(TENANT_SETTINGS)
    if unknown:
        raise ValueError(f"not a tenant setting: {', '.join(sorted(unknown))}")
    if actor.tenant_id != tenant.pk:
        raise ValueError("only a user of the tenant can change its settings")
    require(actor, Action.CHANGE, SystemModule.SETTINGS)
    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    candidate = Tenant.objects.get(pk=tenant.pk)
    for field, value in changes.items():
        setattr(candidate, field, value)
    candidate.full_clean()
    return locked, candidate


@transaction.atomic
def update_tenant_settings(tenant: Tenant, *, actor: User, reason: str = "", **changes):
    """Change some of the tenant's settings (settings: change), validated with full_clean.

    A change that strengthens (or is neutral) applies at once and audits the changed fields only. A change
    that weakens a setting (``weakened_settings``) becomes a ``PendingChange`` for a second administrator and
    is returned instead; nothing changes until it is approved. A list of console address ranges that would
    shut out the actor's own address is refused.
    """
    locked, candidate = _checked(tenant, actor, changes)
    changes = {
        field: getattr(candidate, field) for field in changes if getattr(candidate, field) != getattr(locked, field)
    }
    if not changes:
        return locked
    _refuse_self_lockout(locked, changes)
    weaker = weakened_settings(locked, changes)
    if weaker:
        from django.utils.translation import gettext

        from permissions.models import PendingChange
        from permissions.services.changes import request_change

        names = ", ".join(str(Tenant._meta.get_field(field).verbose_name) for field in weaker)
        return request_change(
            actor=actor,
            kind=PendingChange.Kind.SETTINGS,
            payload={"changes": changes},
            summary=gettext("Weaker tenant settings: %(names)s") % {"names": names},
            reason=reason,
        )
    return apply_tenant_settings(locked, actor=actor, reason=reason, **changes)


def _refuse_self_lockout(tenant: Tenant, changes: dict) -> None:
    """A console allow-list must keep the address of the person setting it (else nobody could undo it)."""
    from audit.context import current_origin

    if "console_networks" not in changes:
        return
    from accounts.models import networks

    address = current_origin().address
    allowed = networks(changes["console_networks"])
    if allowed and address and not address_in(address, allowed):
        from django.core.exceptions import ValidationError

        raise ValidationError({"console_networks": _lockout_message(address)})


def _lockout_message(address: str) -> str:
    from django.utils.translation import gettext

    return gettext("Your own address (%(address)s) is not in these ranges: you would be shut out.") % {
        "address": address
    }


def address_in(address: str, allowed) -> bool:
    """Whether a client address is in one of the ``allowed`` networks (a malformed address is not)."""
    import ipaddress

    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in allowed)


@transaction.atomic
def apply_tenant_settings(tenant: Tenant, *, actor: User, reason: str = "", approved_by=None, **changes) -> Tenant:
    """Set validated settings and record them (called directly, or when a pending weakening is approved)."""
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    before = {field: getattr(tenant, field) for field in changes}
    for field, value in changes.items():
        setattr(tenant, field, value)
    tenant.full_clean()
    changed = [field for field in changes if getattr(tenant, field) != before[field]]
    if not changed:
        return tenant
    tenant.save(update_fields=changed)
    after = {field: getattr(tenant, field) for field in changed}
    if approved_by is not None:
        after["approved_by"] = audit.person(approved_by)
    audit.record(
        EventType.TENANT_SETTINGS_CHANGED,
        tenant=tenant,
        actor=actor,
        target=tenant,
        before={field: before[field] for field in changed},
        after=after,
        reason=reason,
    )
    return tenant
