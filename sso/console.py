"""Console screens of a tenant's identity providers: settings: view to read; settings: change, after a step-up,
to add, change, map, test and remove. Every change goes through ``sso.services`` (audited)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.lookups import get_in_tenant_or_404
from console.views.common import may_change_settings, refuse_settings_change
from permissions.models import PendingChange
from permissions.services.errors import AccessRefused
from permissions.views import requires
from permissions.vocabulary import Action, SystemModule
from sso import oidc, saml, saml_metadata, services
from sso.endpoints import ProviderUnavailable
from sso.forms import SETTINGS_FIELDS, MappingFormSet, PolicyForm, ProviderForm, ReasonForm
from sso.models import IdentityProvider, SsoPolicy

SETTINGS = SystemModule.SETTINGS


def _can_change(request) -> bool:
    return may_change_settings(request)


def _refused_change(request):
    """None when the user may change now; else the answer (a refusal message, or the step-up)."""
    return refuse_settings_change(request, "sso_console:list")


def _provider(request, provider_id: int) -> IdentityProvider:
    return get_in_tenant_or_404(IdentityProvider.objects.select_related("default_role"), request, pk=provider_id)


def _saved(request, form, act):
    """Run ``act()``; a refusal or an invalid value is shown on the form and nothing changed."""
    try:
        return act()
    except AccessRefused as error:
        form.add_error(None, str(error.code.label))
    except ValidationError as error:
        form.add_error(None, error)
    return None


@requires(SETTINGS, Action.VIEW)
def provider_list(request):
    policy = SsoPolicy.objects.filter(tenant=request.tenant).first()
    context = {
        "providers": IdentityProvider.objects.all(),
        "can_change": _can_change(request),
        "require_sso": bool(policy and policy.require_sso),
    }
    return render(request, "sso/console/list.html", context)


@require_http_methods(["GET", "POST"])
@requires(SETTINGS, Action.VIEW)
def create(request):
    form = ProviderForm(request.POST or None, creating=True)
    if request.method == "POST":
        if (refused := _refused_change(request)) is not None:
            return refused
        if form.is_valid():
            data = {key: form.cleaned_data[key] for key in SETTINGS_FIELDS}
            made = _saved(
                request,
                form,
                lambda: services.create_provider(
                    actor=request.user,
                    tenant=request.tenant,
                    slug=form.cleaned_data["slug"],
                    default_role=form.cleaned_data["default_role"],
                    client_secret=form.cleaned_data["client_secret"],
                    protocol=form.cleaned_data["protocol"] or IdentityProvider.Protocol.OIDC,
                    **data,
                ),
            )
            if made is not None:
                messages.success(request, _("The identity provider was added. Map its groups next."))
                return redirect("sso_console:mappings", provider_id=made.pk)
    return render(request, "sso/console/form.html", {"form": form, "provider": None})


@require_http_methods(["GET", "POST"])
@requires(SETTINGS, Action.VIEW)
def detail(request, provider_id: int):
    provider = _provider(request, provider_id)
    form = ProviderForm(request.POST or None, instance=IdentityProvider.objects.get(pk=provider.pk))
    if request.method == "POST":
        if (refused := _refused_change(request)) is not None:
            return refused
        if form.is_valid():
            data = {key: form.cleaned_data[key] for key in SETTINGS_FIELDS if key in form.cleaned_data}
            saved = _saved(
                request,
                form,
                lambda: services.update_provider(
                    provider,
                    actor=request.user,
                    default_role=form.cleaned_data["default_role"],
                    client_secret=form.cleaned_data.get("client_secret", ""),
                    reason=form.cleaned_data["reason"],
                    **data,
                ),
            )
            if saved is not None:
                messages.success(request, _("The identity provider was saved."))
                return redirect("sso_console:detail", provider_id=provider.pk)
    can_change = _can_change(request)
    if not can_change:
        for field in form.fields.values():
            field.disabled = True
    kwargs = {"tenant_slug": request.tenant.slug, "provider_slug": provider.slug}
    callback = request.build_absolute_uri(reverse("sso:callback", kwargs=kwargs))
    context = {"provider": provider, "form": form, "can_change": can_change, "callback": callback}
    if provider.is_saml:
        context["sp_metadata"] = saml_metadata.sp_entity_id(request.build_absolute_uri, provider)
        context["acs"] = saml_metadata.acs_url(request.build_absolute_uri, provider)
    return render(request, "sso/console/detail.html", context)


@require_http_methods(["GET", "POST"])
@requires(SETTINGS, Action.VIEW)
def mappings(request, provider_id: int):
    """The mapping editor: one row a group, its role and/or organisation; escalations wait for approval."""
    provider = _provider(request, provider_id)
    initial = [{**m, "organisation": m.get("organisation")} for m in provider.mappings]
    formset = MappingFormSet(request.POST or None, initial=initial, prefix="map")
    reason = ReasonForm(request.POST or None)
    if request.method == "POST":
        if (refused := _refused_change(request)) is not None:
            return refused
        if formset.is_valid() and reason.is_valid():
            rows = [m for m in (form.mapping() for form in formset) if m is not None]
            result = _saved(
                request,
                reason,
                lambda: services.set_mappings(provider, rows, actor=request.user, reason=reason.cleaned_data["reason"]),
            )
            if isinstance(result, PendingChange):
                messages.info(request, _("This mapping gives console rights: it waits for a second administrator."))
                return redirect("console:approval", change_id=result.pk)
            if result is not None:
                messages.success(request, _("The group mapping was saved."))
                return redirect("sso_console:detail", provider_id=provider.pk)
    context = {"provider": provider, "formset": formset, "reason": reason, "can_change": _can_change(request)}
    return render(request, "sso/console/mappings.html", context)


@require_http_methods(["GET", "POST"])
@requires(SETTINGS, Action.VIEW)
def test_login(request, provider_id: int):
    """Sign in at the provider as whoever the administrator chooses there, and see what the portal would make
    of it (claims, role, organisation), without signing anyone in or changing anything. POST only (the button
    of the provider's page, where a GET goes back)."""
    provider = _provider(request, provider_id)
    if request.method == "GET":
        return redirect("sso_console:detail", provider_id=provider.pk)
    if (refused := _refused_change(request)) is not None:
        return refused
    from sso.views import _callback_uri, _continue

    try:
        if provider.is_saml:
            url = saml.begin(request, provider, next_url="", purpose="test")
        else:
            url = oidc.begin(
                request, provider, redirect_uri=_callback_uri(request, provider), next_url="", purpose="test"
            )
    except (ProviderUnavailable, saml_metadata.MetadataError) as error:
        messages.error(request, str(error))
        return redirect("sso_console:detail", provider_id=provider.pk)
    return _continue(request, url, _("Continuing to %(name)s…") % {"name": provider.name})


@require_http_methods(["GET", "POST"])
@requires(SETTINGS, Action.VIEW)
def delete(request, provider_id: int):
    provider = _provider(request, provider_id)
    form = ReasonForm(request.POST or None)
    if request.method == "POST":
        if (refused := _refused_change(request)) is not None:
            return refused
        if form.is_valid():
            done = _saved(
                request,
                form,
                lambda: (
                    services.delete_provider(provider, actor=request.user, reason=form.cleaned_data["reason"]) or True
                ),
            )
            if done:
                messages.success(request, _("The identity provider was removed."))
                return redirect("sso_console:list")
    context = {"provider": provider, "form": form, "can_change": _can_change(request)}
    return render(request, "sso/console/delete.html", context)


@require_http_methods(["GET", "POST"])
@requires(SETTINGS, Action.VIEW)
def policy(request):
    """Require single sign-on of everyone but the break-glass administrators (or stop requiring it)."""
    current = SsoPolicy.objects.filter(tenant=request.tenant).first()
    initial = {"require_sso": bool(current and current.require_sso)}
    initial["break_glass"] = list(current.break_glass.all()) if current else []
    form = PolicyForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if (refused := _refused_change(request)) is not None:
            return refused
        if form.is_valid():
            data = form.cleaned_data
            saved = _saved(
                request,
                form,
                lambda: services.set_policy(
                    request.tenant,
                    actor=request.user,
                    require_sso=data["require_sso"],
                    break_glass=data["break_glass"],
                    reason=data["reason"],
                ),
            )
            if saved is not None:
                messages.success(request, _("The single sign-on requirement was saved."))
                return redirect("sso_console:list")
    can_change = _can_change(request)
    if not can_change:
        for field in form.fields.values():
            field.disabled = True
    return render(request, "sso/console/policy.html", {"form": form, "can_change": can_change})
