"""Appeals and complaints: my cases, a new case, one case with its conversation, and the approvers' queue.

Every logged-in user may open a case about their own access (login_only); reading is ``rules.readable``
(a foreign or unreadable id is a 404), acting is checked again by the services."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accessrequests.models import AccessRequest
from accessrequests.rules import current_actions
from accounts.lookups import get_in_tenant_or_404
from appeals import rules, services
from appeals.errors import CaseRefused
from appeals.forms import CaseForm, GrantForm, MessageForm, ResolveForm
from appeals.models import Case
from permissions.models import Grant, Module
from permissions.views import login_only
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


@login_only
@require_GET
def my_cases(request):
    """My cases, newest first."""
    _tenant_user(request)
    rows = Case.objects.filter(customer=request.user).select_related("module")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "appeals/mine.html", {"cases": page.object_list, "page": page})


def _about(request) -> dict:
    """What the new case is about, from the link that led here (a notice, a denied request): only the user's own
    grant or request is taken; anything else is ignored (no leak of what exists)."""
    user, source = request.user, request.GET
    grant = Grant.objects.filter(pk=_int(source.get("grant"))).select_related("module").first()
    if grant is not None and not services.owns_grant(user, grant):
        grant = None
    asked = AccessRequest.objects.filter(
        pk=_int(source.get("request")),
        requester=user,
        status__in=[AccessRequest.Status.DENIED, AccessRequest.Status.EXPIRED],
    )
    access_request = asked.select_related("module").first()
    module = (grant or access_request).module if (grant or access_request) else None
    module = module or Module.objects.filter(key=source.get("module", "")).first()
    return {"grant": grant, "request": access_request, "module": module}


def _ask_again_link(about: dict) -> str:
    """The access request form, prefilled with what was lost or denied."""
    from django.urls import reverse

    source, query = about["grant"] or about["request"], {}
    if about["module"] is not None:
        query["module"] = about["module"].key
    if source is not None:
        if source.resource_id:
            query["resource"] = source.resource_id
        query["actions"] = [a.value for a in source.action_list]
    return reverse("accessrequests:new") + ("?" + urlencode(query, doseq=True) if query else "")


def _initial(about: dict, kind: str) -> dict:
    if about["request"] is not None:
        subject = _("Request #%(id)s was denied") % {"id": about["request"].pk}
        return {"kind": Case.Kind.DENIAL, "subject": subject}
    if about["grant"] is not None:
        return {"kind": Case.Kind.REVOCATION, "subject": _("Grant #%(id)s was taken away") % {"id": about["grant"].pk}}
    return {"kind": kind if kind in Case.Kind.values else Case.Kind.MISSING}


@login_only
@require_http_methods(["GET", "POST"])
def new_case(request):
    """The form (prefilled from a notice's or a denied request's link: ?grant=…, ?request=…, ?module=…)."""
    _tenant_user(request)
    about = _about(request)
    form = CaseForm(request.POST or None, initial=_initial(about, request.GET.get("kind", "")))
    if request.method == "POST" and form.is_valid():
        try:
            case = services.open_case(actor=request.user, **form.cleaned_data, **about)
        except CaseRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("Your case was sent to the approvers; they answer by %(due)s.")
                % {"due": date_format(timezone.localtime(case.due_at), "DATETIME_FORMAT")},
            )
            return redirect("appeals:detail", case_id=case.pk)
    context = {"form": form, "about": about, "ask_again": _ask_again_link(about)}
    return render(request, "appeals/new.html", context)


def _visible_case(request, case_id) -> Case:
    rows = Case.objects.select_related("customer", "module", "resource", "request", "grant", "result_grant", "tenant")
    return get_in_tenant_or_404(rules.readable(request.user, rows), request, pk=case_id)


@login_only
@require_GET
def detail(request, case_id: int):
    """One case: its conversation, and what the reader may do (answer, resolve, grant, close)."""
    _tenant_user(request)
    case = _visible_case(request, case_id)
    user = request.user
    handler = rules.is_handler(user, case)
    customer = case.customer_id == user.pk
    deciding = handler and case.is_live
    context = {
        "case": case,
        "conversation": list(case.messages.select_related("author")),
        "customer": customer,
        "handler": handler,
        "overdue": case.is_overdue_at(timezone.now()),
        "reply_form": MessageForm() if (customer or handler) and case.state != Case.State.CLOSED else None,
        "resolve_form": ResolveForm() if deciding else None,
        "grant_form": GrantForm(case=case) if deciding and case.module and not case.module.is_system else None,
        "may_close": case.state != Case.State.CLOSED and (customer or (handler and case.state == Case.State.RESOLVED)),
    }
    if handler and case.module is not None:
        context["current"] = current_actions(case.customer, case.module, case.resource)
    return render(request, "appeals/detail.html", context)


def _act(request, case_id: int, act, confirm=None) -> object:
    """A POST action on a visible case: ``act(case)`` runs the service; a refusal is shown on the case."""
    _tenant_user(request)
    case = _visible_case(request, case_id)
    if request.method == "POST" and confirm is not None and not confirmation.confirmed(request):
        return confirm(case)
    if request.method == "POST":
        try:
            done = act(case)
        except CaseRefused as exc:
            messages.error(request, str(exc))
        else:
            if done:
                messages.success(request, done)
    return redirect("appeals:detail", case_id=case.pk)


def _form_or_refuse(form):
    if not form.is_valid():
        raise CaseRefused(" ".join(str(e) for errors in form.errors.values() for e in errors))
    return form.cleaned_data


@login_only
@require_http_methods(["GET", "POST"])
def reply(request, case_id: int):
    """A message from the customer or an approver (a GET only shows the case)."""

    def act(case):
        services.reply(case, actor=request.user, body=_form_or_refuse(MessageForm(request.POST))["body"])
        return _("Your message was added.")

    return _act(request, case_id, act)


@login_only
@require_http_methods(["GET", "POST"])
def resolve(request, case_id: int):
    """An approver resolves the case without giving access."""

    def act(case):
        data = _form_or_refuse(ResolveForm(request.POST))
        services.resolve(case, actor=request.user, outcome=data["outcome"], body=data["body"])
        return _("The case is resolved; the customer was told.")

    return _act(request, case_id, act)


@login_only
@require_http_methods(["GET", "POST"])
def grant(request, case_id: int):
    """An approver gives the customer access from the case."""

    def act(case):
        if case.module is None or case.module.is_system:
            raise CaseRefused(_("No access can be given from this case."))
        data = _form_or_refuse(GrantForm(request.POST, case=case))
        services.grant_from_case(
            case, actor=request.user, actions=data["actions"], days=data["days"], body=data["body"]
        )
        return _("Access given; the case is resolved and the customer was told.")

    return _act(request, case_id, act)


@login_only
@require_http_methods(["GET", "POST"])
def close(request, case_id: int):
    """The customer closes (or withdraws) their case; an approver closes a resolved one."""

    def act(case):
        services.close(case, actor=request.user)
        return _("The case is closed.")

    def confirm(case):
        return confirmation.ask(
            request,
            title=_("Close the case"),
            consequences=[
                _("The case is closed: nobody answers or decides it any more, and it cannot be reopened."),
                _("A new case can be opened later about the same access."),
            ],
            button=_("Close the case"),
            cancel=reverse("appeals:detail", kwargs={"case_id": case.pk}),
        )

    return _act(request, case_id, act, confirm)


@login_only
@require_GET
def queue(request):
    """The cases the user handles: waiting ones first, the most overdue on top."""
    _tenant_user(request)
    user = request.user
    if not rules.may_handle_anything(user):
        raise PermissionDenied
    show_all = request.GET.get("all") == "1"
    rows = rules.handled(user, Case.objects.select_related("customer", "module"))
    if not show_all:
        rows = rows.filter(state__in=[Case.State.OPEN, Case.State.ANSWERED])
    rows = rows.order_by("due_at", "id") if not show_all else rows.order_by("-created_at", "-id")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    items = [{"case": c, "overdue": c.is_overdue_at(now)} for c in page.object_list]
    return render(request, "appeals/queue.html", {"items": items, "page": page, "show_all": show_all})
