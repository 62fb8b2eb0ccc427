"""Helpers shared by the console views: pagination, refusals shown as messages, step-up redirects."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.utils.html import format_html
from django.utils.translation import gettext as _

from permissions.services.errors import DETAILED, AccessRefused, ErrorCode

PAGE_SIZE = 25


def paginate(request, queryset, size: int = PAGE_SIZE):
    """The requested page and the query string of the other parameters (for the page links)."""
    page = Paginator(queryset, size).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


class Window:
    """A page of a list that is never counted (a module may hold a million resources): the rows of page
    ``number`` and whether another page follows, read as one query of ``size + 1`` rows."""

    def __init__(self, queryset, number: int, size: int):
        self.number = number
        rows = list(queryset[(number - 1) * size : number * size + 1])
        self.has_next = len(rows) > size
        self.object_list = rows[:size]
        self.has_previous = number > 1
        self.next_page_number = number + 1
        self.previous_page_number = number - 1

    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous


def window(request, queryset, size: int = PAGE_SIZE):
    """Like ``paginate`` without a count: for lists that may be very long."""
    raw = request.GET.get("page", "1")
    # ASCII digits only, and a page whose offset stays far inside the database's range (FC-2: an offset
    # beyond bigint was a 500); anything else is the first page, as Django's paginator does.
    number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else 1
    number = max(1, number)
    query = request.GET.copy()
    query.pop("page", None)
    return Window(queryset, number, size), query.urlencode()


def refusal_text(error: AccessRefused) -> str:
    """The coded refusal in the reader's language (out-of-scope names what the actor lacks)."""
    text = str(error.code.label)
    detail = str(error)
    if error.code == ErrorCode.INVALID and detail and detail != text:
        text = f"{text} ({detail})"  # the service's detail of an invalid change
    elif error.code in DETAILED and detail and detail != text:
        text = detail  # the rule or lesson that refuses, named
    if error.missing:
        text += " " + _("Missing: %(actions)s.") % {"actions": ", ".join(str(a.label) for a in error.missing)}
    return text


def show_refusal(request, error: AccessRefused) -> None:
    """Nothing changed: say why (with a link to what lifts the refusal, when there is one)."""
    if error.link:
        messages.error(
            request, format_html('{} <a href="{}">{}</a>', refusal_text(error), error.link, _("Open the lesson"))
        )
    else:
        messages.error(request, refusal_text(error))


def may_change_settings(request) -> bool:
    """The tenant's settings (webhooks, identity providers, …) may be changed by this user."""
    from permissions import engine
    from permissions.vocabulary import Action, SystemModule

    return engine.can(request.user, Action.CHANGE, SystemModule.SETTINGS)


def refuse_settings_change(request, back: str):
    """None when the user may change the tenant's settings now; else the answer: a refusal message and
    ``back`` (a URL name), or the step-up page (a recent MFA verification is asked for every change)."""
    from django.shortcuts import redirect

    from accounts.stepup import mfa_is_recent, step_up_redirect

    if not may_change_settings(request):
        show_refusal(request, AccessRefused(ErrorCode.NOT_ALLOWED))
        return redirect(back)
    if not mfa_is_recent(request):
        return step_up_redirect(request)
    return None
