"""``/pickers/<name>/?q=…``: the options of one picker as JSON, for the logged-in user and their tenant only.

A user without any of the picker's rights gets 403 (never an empty list that would hide a misconfiguration);
an unknown picker is a 404. The answer is never cached: it depends on the user's rights of the moment.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from api.input import text_problem
from permissions.views import login_only
from portal.pickers import registry


@require_GET
@never_cache
@login_only
def search(request, name: str):
    picker = registry.get(name)
    if picker is None:
        raise Http404
    if not picker.allows(request.user):
        raise PermissionDenied
    text = request.GET.get("q", "").strip()[: registry.MAX_QUERY]
    if text_problem(text):
        text = ""  # a control character matches nothing worth showing; the first options instead
    params = {key: request.GET.get(key, "") for key in picker.params}
    options = picker.search(request, text, params)
    return JsonResponse({"results": [option.as_json() for option in options[: registry.LIMIT]]})
