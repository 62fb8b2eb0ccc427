"""The user's own preferences (issue 19, item 6): language and time zone. Every date of the portal is shown in
the chosen zone, in the one date format (``portal.formats``), the zone named after the time."""

from __future__ import annotations

import zoneinfo
from functools import cache

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts import services
from permissions.views import login_only
from portal.forms import CleanInputMixin


@cache
def zone_names() -> list[str]:
    """The IANA zones a person may choose: regions and cities, and UTC (not the legacy aliases)."""
    return sorted(name for name in zoneinfo.available_timezones() if "/" in name and not name.startswith("Etc/"))


class PreferencesForm(CleanInputMixin, forms.Form):
    language = forms.ChoiceField(label=gettext_lazy("Language"), required=False)
    time_zone = forms.ChoiceField(
        label=gettext_lazy("Time zone"),
        required=False,
        help_text=gettext_lazy("Every date and time is shown in this zone, with the zone's abbreviation."),
    )

    def __init__(self, *args, tenant_zone: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("As my browser asks"))] + [
            (code, name) for code, name in settings.LANGUAGES
        ]
        default = _("My organisation's: %(zone)s") % {"zone": tenant_zone}
        self.fields["time_zone"].choices = [("", default), ("UTC", "UTC")] + [(name, name) for name in zone_names()]


@login_only
@require_http_methods(["GET", "POST"])
def preferences(request):
    user = request.user
    if not user.tenant_id:
        return redirect("home")
    initial = {"language": user.language, "time_zone": user.time_zone}
    form = PreferencesForm(request.POST or None, initial=initial, tenant_zone=request.tenant.time_zone)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if services.set_preferences(user, language=data["language"], time_zone=data["time_zone"]):
            if user.language:
                translation.activate(user.language)
            messages.success(request, _("Your preferences were saved."))
        return redirect("accounts:preferences")
    timezone.activate(user.shown_time_zone)
    context = {"form": form, "zone": user.shown_time_zone, "now": timezone.now()}
    return render(request, "accounts/preferences.html", context)
