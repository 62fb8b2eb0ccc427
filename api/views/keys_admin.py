"""The administrators' screen for API keys: list, create (step-up; the token is shown once), revoke."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.stepup import require_recent_mfa
from api import keys
from api.models import ApiKey
from permissions import engine
from permissions.models import Module
from permissions.services.errors import AccessRefused
from permissions.views import requires
from permissions.vocabulary import Action, actions_of
from portal import confirmation
from portal.forms import CleanInputMixin
from portal.grid import Grid, build_grid, scope


class KeyForm(CleanInputMixin, forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("The application that uses the key, so that the list of keys says what each is for."),
    )
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("Scopes"),
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "What the key may do, module by module. Only what you hold yourself can be ticked; the key never "
            "does more than you can."
        ),
    )
    scim = forms.BooleanField(
        label=gettext_lazy("SCIM provisioning"),
        required=False,
        help_text=gettext_lazy(
            "Lets an identity provider provision users and groups over SCIM, within the scopes above."
        ),
    )
    days = forms.IntegerField(
        label=gettext_lazy("Expires after (days)"),
        required=False,
        min_value=1,
        max_value=730,
        help_text=gettext_lazy("Leave empty for a key that never expires. At most 730 days."),
    )
    rate_per_minute = forms.IntegerField(
        label=gettext_lazy("Requests per minute"),
        initial=600,
        min_value=1,
        max_value=1_000_000,
        help_text=gettext_lazy("Calls beyond this number in a minute are refused (HTTP 429) until the minute ends."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.modules = list(Module.objects.order_by("kind", "key"))
        choices = []
        for module in self.modules:
            for act in actions_of(module.actions):
                if engine.can(user, act, module):
                    choices.append((scope(module.key, act), f"{module.display_name}: {act.label}"))
        self.fields["scopes"].choices = choices

    def scope_map(self) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        for value in self.cleaned_data["scopes"]:
            module, act = value.split(":", 1)
            result.setdefault(module, []).append(act)
        return result

    def scope_grid(self) -> Grid:
        """The scopes as a grid (a row per module of which the user holds something, a column per action):
        only the choices of ``scopes`` are offered, the ones posted (or, unbound, none) are ticked."""
        offered = {value for value, _label in self.fields["scopes"].choices}
        ticked = {str(value) for value in self["scopes"].value() or []}
        return build_grid(
            self.modules,
            checked=ticked & offered,
            offered=offered,
            box=lambda module_key, action: ("scopes", scope(module_key, action)),
            offered_rows_only=True,
        )


def _rows(keys_):
    """Each key with its scopes by the modules' and actions' names in the reader's language."""
    keys_ = list(keys_)
    names = {m.key: str(m.display_name) for m in Module.objects.all()} if keys_ else {}
    return [
        {
            "key": key,
            "scopes": {
                names.get(m, m): [str(a.label) for a in actions_of(mask)] for m, mask in sorted(key.scopes.items())
            },
        }
        for key in keys_
    ]


@requires("settings", Action.CHANGE)
def key_list(request):
    rows = _rows(ApiKey.objects.select_related("owner"))
    return render(request, "api/keys.html", {"rows": rows, "now": timezone.now()})


@requires("settings", Action.CHANGE)
@require_recent_mfa
def key_create(request):
    form = KeyForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["days"]
        try:
            issued = keys.create_key(
                actor=request.user,
                name=form.cleaned_data["name"],
                scopes=form.scope_map(),
                scim=form.cleaned_data["scim"],
                rate_per_minute=form.cleaned_data["rate_per_minute"],
                expires_at=timezone.now() + timedelta(days=days) if days else None,
            )
        except AccessRefused as refused:
            form.add_error(None, str(refused))
        else:
            response = render(request, "api/key_created.html", {"key": issued.key, "token": issued.token})
            response["Cache-Control"] = "no-store"
            return response
    return render(request, "api/key_form.html", {"form": form, "grid": form.scope_grid()})


@requires("settings", Action.CHANGE)
def key_revoke(request, key_id: int):
    from accounts.lookups import get_in_tenant_or_404

    key = get_in_tenant_or_404(ApiKey.objects.all(), request, pk=key_id)  # 404 first, whatever the method
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not confirmation.confirmed(request):
        return confirmation.ask(
            request,
            title=_("Revoke the API key %(name)s") % {"name": key.name},
            consequences=[
                _("Every application using this key is refused from now on."),
                _("A revoked key cannot be used again: an application that still needs access needs a new key."),
            ],
            button=_("Revoke the key"),
            cancel=reverse("api:keys"),
        )
    keys.revoke_key(key, actor=request.user, reason=request.POST.get("reason", ""))
    messages.success(request, _("The key is revoked."))
    return redirect("api:keys")
