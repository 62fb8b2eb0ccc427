"""Review policies: create and change them (validated against the tenant, audited)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

import audit
from accounts.models import User
from audit.events import EventType
from permissions import engine
from permissions.models import Group, Module, Role
from permissions.services.checks import require
from permissions.vocabulary import Action, SystemModule
from reviews.models import ReviewerKind, ReviewPolicy, ScopeMode
from reviews.models.policies import MAX_STAGES
from reviews.services.errors import ReviewRefused

FIELDS = [
    "name",
    "include_roles",
    "include_grants",
    "include_memberships",
    "include_group_grants",
    "include_matrices",
    "include_organisations",
    "include_sharing",
    "scope_mode",
    "scope_roles",
    "scope_groups",
    "scope_modules",
    "cadence",
    "start_date",
    "duration_days",
    "reviewer_kind",
    "reviewers",
    "fallback_reviewer",
    "later_stages",
    "role_owners",
    "escalate_after_days",
    "unanswered",
    "max_revoke_percent",
    "auto_apply",
    "reminders",
    "justify_keep_flagged",
    "justify_revoke",
    "active",
]


def may_review(user) -> bool:
    """An active user who holds reviews: review (the right to use "My reviews")."""
    return bool(user and user.is_active and engine.can(user, Action.REVIEW, SystemModule.REVIEWS))


def _ids(model, values) -> list[int]:
    """Keep only ids of this tenant's rows (AZ-2: a foreign id is refused, not silently dropped)."""
    wanted = sorted({int(v) for v in values or []})
    found = set(model.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    if found != set(wanted):
        raise ReviewRefused(_("Choose roles, groups, modules and reviewers of this tenant."))
    return wanted


def _describe(policy: ReviewPolicy) -> dict:
    out = {name: getattr(policy, name) for name in FIELDS if name != "fallback_reviewer"}
    out["fallback_reviewer"] = audit.person(policy.fallback_reviewer)
    out["start_date"] = policy.start_date.isoformat()
    return out


INCLUDES = (
    "include_roles",
    "include_grants",
    "include_memberships",
    "include_group_grants",
    "include_matrices",
    "include_organisations",
    "include_sharing",
)
MAX_TOTAL_DAYS = 180


def _reviewer(pk) -> User | None:
    """A user of this tenant who may review, or None."""
    user = User.objects.filter(pk=pk).first() if pk else None
    return user if user is not None and may_review(user) else None


def _check_reviewers(kind: str, reviewers: list[int]) -> None:
    if kind not in ReviewerKind.values:
        raise ReviewRefused(_("Choose who reviews."))
    if kind == ReviewerKind.CHOSEN:
        if not reviewers:
            raise ReviewRefused(_("Choose at least one reviewer."))
        for user in User.objects.filter(pk__in=reviewers):
            if not may_review(user):
                raise ReviewRefused(_("%(email)s may not review access.") % {"email": user.email})


def _later_stages(values: dict) -> list[dict]:
    """Stages 2 and 3, checked: who reviews, a fallback who may review, a duration of 3 to 90 days."""
    stages = []
    for spec in values.get("later_stages") or []:
        kind = spec.get("reviewer_kind")
        if kind == ReviewerKind.SELF:
            raise ReviewRefused(_("Self-review is for the first stage only."))
        reviewers = _ids(User, spec.get("reviewers"))
        _check_reviewers(kind, reviewers)
        fallback = spec.get("fallback")
        if _reviewer(fallback) is None:
            raise ReviewRefused(_("Each stage needs a fallback reviewer who may review."))
        days = int(spec.get("duration_days") or 0)
        if not 3 <= days <= 90:
            raise ReviewRefused(_("A stage lasts 3 to 90 days."))
        stages.append({"reviewer_kind": kind, "reviewers": reviewers, "fallback": int(fallback), "duration_days": days})
    if len(stages) + 1 > MAX_STAGES:
        raise ReviewRefused(_("A policy has at most %(count)s stages.") % {"count": MAX_STAGES})
    return stages


def _role_owners(values: dict) -> dict[str, int]:
    """{role id: owner id}, both of this tenant, the owner someone who may review."""
    owners = {int(role): int(user) for role, user in (values.get("role_owners") or {}).items() if user}
    _ids(Role, owners.keys())
    for user in owners.values():
        if _reviewer(user) is None:
            raise ReviewRefused(_("A role's owner must be an active user who may review."))
    return {str(role): user for role, user in sorted(owners.items())}


@transaction.atomic
def save_policy(*, actor, tenant, values: dict, policy: ReviewPolicy | None = None) -> ReviewPolicy:
    """Create (``policy`` None, needs reviews: create) or change (reviews: change) a review policy."""
    if actor is not None and actor.tenant_id != tenant.pk:
        raise ReviewRefused(_("That belongs to another tenant."))
    require(actor, Action.CREATE if policy is None else Action.CHANGE, SystemModule.REVIEWS)
    values = dict(values)
    values["scope_roles"] = _ids(Role, values.get("scope_roles"))
    values["scope_groups"] = _ids(Group, values.get("scope_groups"))
    values["scope_modules"] = _ids(Module, values.get("scope_modules"))
    values["reviewers"] = _ids(User, values.get("reviewers"))
    fallback = values.get("fallback_reviewer")
    if fallback is None or fallback.tenant_id != tenant.pk or not may_review(fallback):
        raise ReviewRefused(_("The fallback reviewer must be an active user of this tenant who may review."))
    if not any(values.get(name) for name in INCLUDES):
        raise ReviewRefused(_("Choose at least one kind of access to review."))
    if values.get("reviewer_kind") == ReviewerKind.SELF and values.get("scope_mode") == ScopeMode.RISKY:
        raise ReviewRefused(_("Self-review is only for low-risk scopes: risky access needs another reviewer."))
    _check_reviewers(values.get("reviewer_kind") or ReviewerKind.ADMINISTRATORS, values["reviewers"])
    values["later_stages"] = _later_stages(values)
    values["role_owners"] = _role_owners(values)
    total = int(values.get("duration_days") or 0) + sum(stage["duration_days"] for stage in values["later_stages"])
    if total > MAX_TOTAL_DAYS:
        raise ReviewRefused(_("All stages together last at most %(days)s days.") % {"days": MAX_TOTAL_DAYS})
    name = (values.get("name") or "").strip()
    if not name or ReviewPolicy.objects.filter(name=name).exclude(pk=getattr(policy, "pk", None)).exists():
        raise ReviewRefused(_("Choose another name."))
    values["name"] = name
    before = None
    if policy is None:
        policy = ReviewPolicy(tenant=tenant, created_by=actor)
    else:
        policy = ReviewPolicy.objects.select_for_update().get(pk=policy.pk)  # the stored values, not the form's
        before = _describe(policy)
    for key in FIELDS:
        if key in values:
            setattr(policy, key, values[key])
    try:
        policy.full_clean(exclude=["tenant", "created_by", "fallback_reviewer"])
    except ValidationError as error:
        raise ReviewRefused("; ".join(error.messages)) from error
    policy.save()
    audit.record(
        EventType.REVIEW_POLICY_CREATED if before is None else EventType.REVIEW_POLICY_CHANGED,
        tenant=tenant,
        actor=actor,
        target=policy,
        before=before,
        after=_describe(policy),
    )
    return policy
