"""Groups (customer companies, teams): list, members and owners, the group's grants."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.lookups import get_in_tenant_or_404
from accounts.models import User
from accounts.stepup import mfa_is_recent, resumed_form, step_up_keeping_form
from console.forms.groups import GroupForm, MemberForm
from console.views.common import paginate, show_refusal
from permissions import engine
from permissions.models import Grant, Group, GroupMembership, PendingChange
from permissions.services import groups as group_services
from permissions.services.errors import AccessRefused
from permissions.services.escalation import membership_escalates
from permissions.views import requires
from permissions.vocabulary import Action, SystemModule
from portal import confirmation

GROUPS = SystemModule.GROUPS


@require_GET
@requires(GROUPS, Action.VIEW)
def group_list(request):
    groups = Group.objects.annotate(member_count=Count("memberships")).order_by("name")
    page, query = paginate(request, groups)
    context = {"page": page, "query": query, "can_create": engine.can(request.user, Action.CREATE, GROUPS)}
    return render(request, "console/group_list.html", context)


@require_http_methods(["GET", "POST"])
@requires(GROUPS, Action.CREATE)
def create(request):
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = group_services.create_group(actor=request.user, tenant=request.tenant, **form.cleaned_data)
        except AccessRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("The group %(name)s was created.") % {"name": group.name})
            return redirect("console:group", group_id=group.pk)
    return render(request, "console/group_form.html", {"form": form})


def _group_context(request, group, member_form):
    actor = request.user
    memberships = GroupMembership.objects.filter(group=group).select_related("user").order_by("user__email")
    now = timezone.now()
    grants = list(Grant.objects.filter(group=group).select_related("module", "resource", "granted_by"))
    for grant in grants:
        grant.live = grant.is_active_at(now)
    change = engine.can(actor, Action.CHANGE, GROUPS)
    is_owner = any(m.user_id == actor.pk and m.is_owner for m in memberships)
    return {
        "group": group,
        "memberships": memberships[:200],
        "member_count": memberships.count(),
        "grants": grants,
        "form": member_form,
        "buttons": {
            "manage_members": change or is_owner,
            "set_owner": change,
            "grant": engine.can(actor, Action.CREATE, SystemModule.GRANTS),
            "revoke": engine.can(actor, Action.DELETE, SystemModule.GRANTS),
        },
    }


@require_GET
@requires(GROUPS, Action.VIEW)
def group_detail(request, group_id: int):
    group = get_in_tenant_or_404(Group.objects.all(), request, pk=group_id)
    return render(request, "console/group_detail.html", _group_context(request, group, MemberForm()))


@require_http_methods(["GET", "POST"])
@requires(GROUPS, Action.VIEW)
def add_member(request, group_id: int):
    """Add a user of this tenant (by e-mail). The service decides: owners or groups: change, nobody adds
    themselves, a group holding console rights waits for a second administrator."""
    group = get_in_tenant_or_404(Group.objects.all(), request, pk=group_id)
    form = MemberForm(request.POST or resumed_form(request))
    if request.method == "POST" and form.is_valid():
        user = form.cleaned_data["user"]
        if membership_escalates(group) and not mfa_is_recent(request):
            return step_up_keeping_form(request)
        try:
            result = group_services.add_member(group, user, actor=request.user, owner=form.cleaned_data["owner"])
        except AccessRefused as error:
            show_refusal(request, error)
        else:
            if isinstance(result, PendingChange):
                messages.info(request, _("The change waits for a second administrator's approval."))
            else:
                messages.success(request, _("%(email)s joined %(group)s.") % {"email": user.email, "group": group.name})
            return redirect("console:group", group_id=group.pk)
    return render(request, "console/group_detail.html", _group_context(request, group, form))


@requires(GROUPS, Action.VIEW)
def member(request, group_id: int, user_id: int):
    """POST op=remove | owner | not_owner for one member."""
    group = get_in_tenant_or_404(Group.objects.all(), request, pk=group_id)
    user = get_in_tenant_or_404(User.objects.all(), request, pk=user_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    op = request.POST.get("op")
    if op == "remove" and not confirmation.confirmed(request):
        names = {"name": user.display_name, "group": group.name}
        return confirmation.ask(
            request,
            title=_("Remove %(name)s from %(group)s") % names,
            consequences=[
                _("%(name)s leaves the group %(group)s now.") % names,
                _("They lose what the group's grants give them, unless a role or another grant gives it too."),
                _("The change is recorded in the audit trail; adding them again later is a new membership."),
            ],
            button=_("Remove from the group"),
            cancel=reverse("console:group", kwargs={"group_id": group.pk}),
        )
    try:
        if op == "remove":
            group_services.remove_member(group, user, actor=request.user)
            messages.success(request, _("%(email)s left %(group)s.") % {"email": user.email, "group": group.name})
        elif op in ("owner", "not_owner"):
            group_services.set_owner(group, user, actor=request.user, owner=op == "owner")
            messages.success(request, _("The owners of %(group)s were changed.") % {"group": group.name})
    except AccessRefused as error:
        show_refusal(request, error)
    return redirect("console:group", group_id=group.pk)
