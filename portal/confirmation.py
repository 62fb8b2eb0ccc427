"""Confirm before a destructive or irreversible action (issue 19, item 6), without any script.

A button that removes, revokes, ends or deactivates posts its form as before; the view asks ``confirmed(request)``
and, until the person has confirmed, answers with ``ask(...)``: a page that says what will happen and posts the very
same fields again with ``confirmed=yes``. Nothing changes before that second post; a cancel link goes back.

    if not confirmation.confirmed(request):
        return confirmation.ask(request, title=..., consequences=[...], button=..., cancel=url)
"""

from __future__ import annotations

from django.shortcuts import render

FIELD = "confirmed"
_NOT_CARRIED = {"csrfmiddlewaretoken", FIELD}


def confirmed(request) -> bool:
    """Whether this POST comes from the confirmation page."""
    return request.method == "POST" and request.POST.get(FIELD) == "yes"


def ask(request, *, title: str, consequences: list[str], button: str, cancel: str, danger: bool = True):
    """The confirmation page of this POST: what will happen, then the same fields posted again, confirmed."""
    carried = [(key, value) for key in request.POST if key not in _NOT_CARRIED for value in request.POST.getlist(key)]
    context = {
        "title": title,
        "consequences": consequences,
        "button": button,
        "cancel": cancel,
        "danger": danger,
        "carried": carried,
        "action": request.get_full_path(),
    }
    return render(request, "portal/confirm.html", context)
