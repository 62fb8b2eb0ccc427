"""The guides: one page per persona, readable by anyone signed in (they describe screens, never data)."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from guides.links import guide_for
from permissions.views import login_only


@login_only
@require_GET
def index(request):
    """Every guide, the one for the reader's persona first."""
    first = guide_for(request.user)
    order = [first] + [key for key in ("administrator", "reviewer", "customer") if key != first]
    return render(request, "guides/index.html", {"order": order})


def _guide(persona: str):
    @login_only
    @require_GET
    def view(request):
        return render(request, f"guides/{persona}.html", {"persona": persona})

    view.__name__ = persona
    view.__doc__ = f"The {persona}'s guide."
    return view


administrator = _guide("administrator")
reviewer = _guide("reviewer")
customer = _guide("customer")
