"""Users: the list (search, filters, pages), one user's access and why, role changes, status, invitations."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts import auth_services, services
from accounts.lookups import get_in_tenant_or_404
from accounts.models import User
from accounts.stepup import mfa_is_recent, resumed_form, step_up_keeping_form
from console.forms.users import InviteForm, RoleChangeForm, StatusForm, UserFilterForm, status_of
from console.matrix import effective_matrix, resource_access
from console.views.common import paginate, show_refusal
from permissions import engine
from permissions.change_summaries import attach_summaries
from permissions.models import Grant, Group, GroupMembership, PendingChange, Resource, Role
from permissions.services import roles as role_services
from permissions.services.checks import require_scope
from permissions.services.errors import AccessRefused
from permissions.services.escalation import escalating_role_ids, role_escalates
from permissions.services.hierarchy import outranks
from permissions.views import get_visible_or_404, requires
from permissions.vocabulary import Action, SystemModule

USERS = SystemModule.USERS


@require_GET
@requires(USERS, Action.VIEW)
def user_list(request):
    """Search by name or e-mail, filter by role, group and status; a constant number of queries a page."""
    roles = Role.objects.order_by("-builtin", "name")
    groups = Group.objects.order_by("name")
    form = UserFilterForm(request.GET or None, roles=roles, groups=groups)
    users = form.filter(
        User.objects.select_related("role")
        .prefetch_related(Prefetch("memberships", queryset=GroupMembership.objects.select_related("group")))
        .order_by("email")
    )
    page, query = paginate(request, users)
    rows = [
        {"user": u, "status": status_of(u), "groups": [m.group.name for m in u.memberships.all()]}
        for u in page.object_list
    ]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": query,
        "can_invite": engine.can(request.user, Action.CREATE, USERS),
    }
    return render(request, "console/user_list.html", context)


def _user_buttons(actor, subject) -> dict:
    """What the actor may do to this user (computed here: templates never decide)."""
    other = actor.pk != subject.pk
    # INS-1: nothing is offered on a user who holds rights the actor does not (the services refuse too).
    change = other and engine.can(actor, Action.CHANGE, USERS) and outranks(actor, subject)
    status = status_of(subject)
    return {
        "change_role": change,
        "deactivate": change and status == "active",
        "reactivate": change and status == "inactive",
        "cancel_invitation": change and status == "invited",
        "resend_invitation": engine.can(actor, Action.CREATE, USERS) and status == "invited",
        "reset_mfa": change and status == "active",
        "login_history": True,
        "grant": other and engine.can(actor, Action.CREATE, SystemModule.GRANTS),
        "revoke": engine.can(actor, Action.DELETE, SystemModule.GRANTS),
    }


@require_GET
@requires(USERS, Action.VIEW)
def user_detail(request, user_id: int):
    """Who this user is, what they can do on every module and why, their grants, groups and last login."""
    subject = get_in_tenant_or_404(User.objects.select_related("role"), request, pk=user_id)
    buttons = _user_buttons(request.user, subject)
    grants = list(
        Grant.objects.filter(user=subject)
        .select_related("module", "resource", "granted_by", "revoked_by")
        .order_by("-created_at")[:50]
    )
    now = timezone.now()
    for grant in grants:
        grant.live = grant.is_active_at(now)
    context = {
        "subject": subject,
        "status": status_of(subject),
        "actions": list(Action),
        "matrix": effective_matrix(subject),
        "resource_paths": resource_access(subject),
        "grants": grants,
        "memberships": GroupMembership.objects.filter(user=subject).select_related("group").order_by("group__name"),
        "pending": attach_summaries(
            PendingChange.objects.filter(status=PendingChange.Status.PENDING, payload__user=subject.pk)
        ),
        "buttons": buttons,
    }
    return render(request, "console/user_detail.html", context)


@require_http_methods(["GET", "POST"])
@requires(USERS, Action.CHANGE)
def change_role(request, user_id: int):
    """Give the user another role. A role with console rights needs a recent MFA step (step-up) and then
    waits for a second administrator's approval (a pending change)."""
    subject = get_in_tenant_or_404(User.objects.select_related("role"), request, pk=user_id)
    roles = Role.objects.exclude(pk=subject.role_id).order_by("-builtin", "name")
    initial = {"role": request.GET.get("role")} if request.method == "GET" else None
    form = RoleChangeForm(request.POST or resumed_form(request), roles=roles, initial=initial)
    if request.method == "POST" and form.is_valid():
        role = form.cleaned_data["role"]
        if role_escalates(role) and not mfa_is_recent(request):
            return step_up_keeping_form(request)
        try:
            result = role_services.change_user_role(
                subject,
                role,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                justification=form.cleaned_data["justification"],
            )
        except AccessRefused as error:
            show_refusal(request, error)
        else:
            if isinstance(result, PendingChange):
                messages.info(request, _("The change waits for a second administrator's approval."))
            else:
                messages.success(request, _("%(name)s now holds the role %(role)s.") % _names(subject, role))
            return redirect("console:user", user_id=subject.pk)
    context = {"subject": subject, "form": form, "escalating_roles": _escalating_names(roles)}
    return render(request, "console/user_role.html", context)


def _names(subject, role):
    return {"name": subject.display_name, "role": role.display_name}


def _escalating_names(roles) -> list[str]:
    ids = {row["role_id"] for row in escalating_role_ids()}
    return [str(role.display_name) for role in roles if role.pk in ids]


@require_http_methods(["GET", "POST"])
@requires(USERS, Action.CHANGE)
def set_status(request, user_id: int):
    """Deactivate (every session of the user ends at once) or reactivate, with a reason."""
    subject = get_in_tenant_or_404(User.objects.all(), request, pk=user_id)
    if subject.pk == request.user.pk:
        raise PermissionDenied  # nobody deactivates themselves from here
    status = status_of(subject)
    form = StatusForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data["reason"]
        name = {"name": subject.display_name}
        try:
            if status == "inactive":
                services.reactivate_user(subject, actor=request.user, reason=reason)
                done = _("%(name)s can log in again.") % name
            else:  # active, or invited: deactivation also cancels the invitation (INS-5)
                services.deactivate_user(subject, actor=request.user, reason=reason)
                if status == "active":
                    done = _("%(name)s was deactivated; their sessions ended.") % name
                else:
                    done = _("The invitation of %(name)s was cancelled; its link no longer works.") % name
        except AccessRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, done)
            return redirect("console:user", user_id=subject.pk)
    return render(request, "console/user_status.html", {"subject": subject, "form": form, "status": status})


@requires(USERS, Action.CREATE)
def resend_invitation(request, user_id: int):
    """A new invitation link (earlier links stop working)."""
    subject = get_in_tenant_or_404(User.objects.all(), request, pk=user_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if status_of(subject) != "invited":
        raise PermissionDenied
    try:
        auth_services.resend_invitation(subject, actor=request.user)
    except auth_services.TooManyRequests:
        messages.error(request, _("Too many invitations were sent to this person lately. Try again in an hour."))
    else:
        messages.success(request, _("A new invitation was sent to %(email)s.") % {"email": subject.email})
    return redirect("console:user", user_id=subject.pk)


@require_http_methods(["GET", "POST"])
@requires(USERS, Action.CREATE)
def invite(request):
    """An inactive account and an e-mailed link. Roles with console rights are not offered here."""
    roles = Role.objects.exclude(pk__in=escalating_role_ids()).order_by("-builtin", "name")
    form = InviteForm(request.POST or None, roles=roles)
    if request.method == "POST" and form.is_valid():
        role = form.cleaned_data["role"]
        try:
            for key, mask in role_services.matrix_of(role).items():
                require_scope(request.user, mask, key)  # nobody hands out more than they hold (AZ-6)
        except AccessRefused as error:
            show_refusal(request, error)
        else:
            try:
                user = services.invite_user(
                    tenant=request.tenant,
                    email=form.cleaned_data["email"],
                    role=role,
                    actor=request.user,
                    full_name=form.cleaned_data["full_name"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("%(email)s was invited.") % {"email": user.email})
                return redirect("console:user", user_id=user.pk)
    return render(request, "console/user_invite.html", {"form": form})


@require_GET
@requires(USERS, Action.VIEW)
def why(request, user_id: int, resource_id: int):
    """Why can (or can't) this user act on this resource: every path, with expiry, for each action."""
    subject = get_in_tenant_or_404(User.objects.select_related("role"), request, pk=user_id)
    resource = get_visible_or_404(request, Action.VIEW, Resource.objects.select_related("module"), pk=resource_id)
    answers = [(action, engine.explain(subject, action, resource)) for action in resource.module.applicable_actions]
    return render(request, "console/user_why.html", {"subject": subject, "resource": resource, "answers": answers})
