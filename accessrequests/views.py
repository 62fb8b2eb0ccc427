"""Access requests: the form, my requests, one request, the approvers' queue and their decisions.

Everyone in a tenant may ask (login_only); deciding is checked by the services (administrators,
owners, never the requester), and a system-module decision also needs a fresh MFA check (step-up).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accessrequests import rules, services
from accessrequests.errors import RequestCode, RequestRefused
from accessrequests.forms import ApproveForm, DenyForm, RequestForm
from accessrequests.models import EXPIRY_WARNING, AccessRequest
from accounts.lookups import get_in_tenant_or_404
from accounts.stepup import mfa_is_recent, step_up_redirect
from permissions import engine
from permissions.models import Grant, GroupMembership, Module, Resource
from permissions.views import login_only
from permissions.vocabulary import Action
from portal import confirmation

PAGE_SIZE = 50


def _tenant_user(request) -> None:
    if request.tenant is None:
        raise Http404


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _own_live_grant(user, grant_id):
    """A live grant of the user (direct or through one of their groups), else None."""
    if grant_id is None:
        return None
    groups = GroupMembership.objects.filter(user=user).values_list("group_id", flat=True)
    grant = (
        Grant.objects.filter(pk=grant_id)
        .filter(Q(user=user) | Q(group_id__in=list(groups)))
        .select_related("module", "resource")
        .first()
    )
    return grant if grant is not None and grant.is_active_at(timezone.now()) else None


def _viewable(user, module, resource_id):
    """The resource when the user may view it (through the read door), else None."""
    if resource_id is None:
        return None
    return Resource.objects.filter(pk=resource_id, module=module).restrict(user, Action.VIEW).first()


def _target_title(user, module, resource_id):
    """The resource's title when the user may view it; otherwise only its number (no leak)."""
    if resource_id is None:
        return None
    resource = _viewable(user, module, resource_id)
    return resource.title if resource is not None else f"#{resource_id}"


def _not_held(user, module, resource_id, actions: list[str]) -> list[str]:
    """The actions to tick at first: those asked for that the user does not hold yet (a right already held is
    never pre-ticked; issue 19)."""
    resource = _viewable(user, module, resource_id)
    held = {a.value for a in rules.current_actions(user, module, resource)}
    return [a for a in actions if a not in held]


@login_only
@require_http_methods(["GET", "POST"])
def new_request(request):
    """The form: prefilled from "request access" links (?module=…&resource=…&actions=…) or ?extend=<grant>."""
    _tenant_user(request)
    user = request.user
    source = request.POST if request.method == "POST" else request.GET
    extends = _own_live_grant(user, _int(source.get("extend")))
    if extends is not None:
        module, resource_id = extends.module, extends.resource_id
        initial_actions = [a.value for a in extends.action_list]
    else:
        module = Module.objects.filter(key=source.get("module", "")).first()
        resource_id = _int(source.get("resource"))
        initial_actions = [a for a in request.GET.getlist("actions") if a in Action.values] or [Action.VIEW.value]
    if module is None:
        modules = Module.objects.order_by("kind", "name")
        return render(request, "accessrequests/choose_module.html", {"modules": modules})
    initial = {
        "module": module.key,
        "resource": resource_id,
        "extend": extends.pk if extends else None,
        "actions": initial_actions if extends else _not_held(user, module, resource_id, initial_actions),
        "duration_days": rules.default_duration(request.tenant),
    }
    if extends is not None:
        initial["reason"] = _("Extension of grant #%(id)s") % {"id": extends.pk}
    form = RequestForm(request.POST or None, initial=initial, tenant=request.tenant, module=module)
    if request.method == "POST" and form.is_valid():
        resource = None
        if resource_id is not None:
            resource = Resource.objects.filter(pk=resource_id, module=module).first()
            if resource is None:
                form.add_error(None, RequestCode.INVALID.label)
        if not form.errors:
            try:
                created = services.submit(
                    actor=user,
                    module=module,
                    resource=resource,
                    actions=form.cleaned_data["actions"],
                    reason=form.cleaned_data["reason"],
                    duration_days=form.cleaned_data["duration_days"],
                    extends=extends,
                )
            except RequestRefused as exc:
                if exc.existing is not None:
                    url = reverse("accessrequests:detail", kwargs={"request_id": exc.existing.pk})
                    form.add_error(
                        None,
                        format_html(
                            '{} <a href="{}">{}</a>',
                            exc.code.label,
                            url,
                            _("Open request #%(id)s") % {"id": exc.existing.pk},
                        ),
                    )
                else:
                    form.add_error(None, exc.code.label)
            else:
                messages.success(request, _("Your request was sent to the approvers."))
                return redirect("accessrequests:detail", request_id=created.pk)
    return render(
        request,
        "accessrequests/new.html",
        {
            "form": form,
            "module": module,
            "resource_title": _target_title(user, module, resource_id),
            "extends": extends,
            "max_days": request.tenant.request_max_days,
        },
    )


@login_only
@require_GET
def my_requests(request):
    """My requests, newest first."""
    _tenant_user(request)
    rows = AccessRequest.objects.filter(requester=request.user).select_related("module", "resource")
    page = Paginator(rows.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "accessrequests/mine.html", {"requests": page.object_list, "page": page})


def _visible_request(request, request_id) -> AccessRequest:
    """The request if ``rules.readable`` lets the user read it (the API's rule too); 404 otherwise (and for
    other tenants)."""
    rows = AccessRequest.objects.select_related("requester", "module", "resource", "decided_by", "first_approver")
    return get_in_tenant_or_404(rules.readable(request.user, rows), request, pk=request_id)


@login_only
@require_GET
def detail(request, request_id: int):
    """One request: its facts, and for an approver the requester's current access, the risk and the decision."""
    _tenant_user(request)
    user = request.user
    found = _visible_request(request, request_id)
    approver = rules.is_approver(user, found)  # never the requester; a reader with requests: view only reads
    open_now = found.is_open_at(timezone.now())
    context = {
        "req": found,
        "approver": approver,
        "mine": found.requester_id == user.pk,
        "open": open_now,
        "title": found.resource.title
        if found.resource_id and (approver or engine.can(user, Action.VIEW, found.resource))
        else None,
        "risks": rules.risks(found),
    }
    if approver:
        context["current"] = rules.current_actions(found.requester, found.module, found.resource)
        if open_now:
            context["approve_form"] = ApproveForm(limit=rules.approval_limit(found))
            context["deny_form"] = DenyForm()
            context["awaiting_second"] = found.first_approver_id is not None
            context["second_needed_from_other"] = found.first_approver_id == user.pk
    return render(request, "accessrequests/detail.html", context)


@login_only
@require_http_methods(["GET", "POST"])
def approve(request, request_id: int):
    """Approve (a system-module request needs step-up and, in the end, two different approvers)."""
    _tenant_user(request)
    found = _visible_request(request, request_id)
    if request.method != "POST":  # the decision is a POST; a GET only shows the request
        return redirect("accessrequests:detail", request_id=found.pk)
    if found.is_system and not mfa_is_recent(request):
        return step_up_redirect(request)
    form = ApproveForm(request.POST, limit=rules.approval_limit(found))
    if not form.is_valid():
        messages.error(request, _("Choose how long the access lasts."))
        return redirect("accessrequests:detail", request_id=found.pk)
    try:
        done = services.approve(
            found, actor=request.user, days=form.cleaned_data["days"], reason=form.cleaned_data["reason"]
        )
    except RequestRefused as exc:
        messages.error(request, exc.code.label)
        return redirect("accessrequests:detail", request_id=found.pk)
    if done.status == AccessRequest.Status.APPROVED:
        messages.success(
            request,
            _("Approved: the access was granted until %(when)s.")
            % {"when": date_format(timezone.localtime(done.grant.expires_at), "DATETIME_FORMAT")},
        )
    else:
        messages.success(request, _("Your approval was recorded; a second approver must approve too."))
    return redirect("accessrequests:queue")


@login_only
@require_http_methods(["GET", "POST"])
def deny(request, request_id: int):
    """Deny with a reason."""
    _tenant_user(request)
    found = _visible_request(request, request_id)
    if request.method != "POST":  # the decision is a POST; a GET only shows the request
        return redirect("accessrequests:detail", request_id=found.pk)
    form = DenyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("A denial needs a reason."))
        return redirect("accessrequests:detail", request_id=found.pk)
    try:
        services.deny(found, actor=request.user, reason=form.cleaned_data["reason"])
    except RequestRefused as exc:
        messages.error(request, exc.code.label)
        return redirect("accessrequests:detail", request_id=found.pk)
    messages.success(request, _("Denied; the requester was told why."))
    return redirect("accessrequests:queue")


@login_only
@require_http_methods(["GET", "POST"])
def cancel(request, request_id: int):
    """The requester withdraws their pending request."""
    _tenant_user(request)
    found = _visible_request(request, request_id)
    if request.method != "POST":  # the decision is a POST; a GET only shows the request
        return redirect("accessrequests:detail", request_id=found.pk)
    if not confirmation.confirmed(request):
        return confirmation.ask(
            request,
            title=_("Withdraw your request"),
            consequences=[
                _("Nobody will decide this request any more; it cannot be reopened."),
                _("You can ask again later with a new request."),
            ],
            button=_("Withdraw the request"),
            cancel=reverse("accessrequests:detail", kwargs={"request_id": found.pk}),
        )
    try:
        services.cancel(found, actor=request.user)
    except RequestRefused as exc:
        messages.error(request, exc.code.label)
    else:
        messages.success(request, _("Request withdrawn."))
    return redirect("accessrequests:detail", request_id=found.pk)


@login_only
@require_GET
def queue(request):
    """Pending requests the user may decide (never their own), oldest first, with access and risk."""
    _tenant_user(request)
    user = request.user
    if not rules.may_approve_anything(user):
        raise PermissionDenied
    rows = (
        rules.decidable(user, AccessRequest.objects.all())
        .select_related("requester", "module", "resource", "first_approver")
        .order_by("created_at", "id")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    rules.prepare_current(page.object_list)
    now = timezone.now()
    items = [
        {
            "req": r,
            "current": rules.current_actions(r.requester, r.module, r.resource),
            "risks": rules.risks(r),
            "mine_first": r.first_approver_id == user.pk,
            "expires_soon": r.expires_soon_at(now),
        }
        for r in page.object_list
    ]
    expiring = rows.filter(pending_until__lte=now + EXPIRY_WARNING).count()
    return render(request, "accessrequests/queue.html", {"items": items, "page": page, "expiring": expiring})
