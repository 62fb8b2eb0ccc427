"""Single sign-on pages (thin): home-realm discovery, start, the provider's answer, logout."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Tenant
from accounts.scoping import dangerously_unscoped, tenant_scope
from permissions.views import public
from sso import directory, logins, oidc, provisioning
from sso.endpoints import ProviderUnavailable
from sso.models import IdentityProvider
from sso.refusals import Refusal, SsoRefused


def _provider(request, tenant_slug: str, provider_slug: str) -> IdentityProvider:
    """An enabled provider of an active tenant, found inside that tenant's scope only; else 404."""
    with dangerously_unscoped():  # the tenant is named by the URL, before anyone is logged in
        tenant = Tenant.objects.filter(slug=tenant_slug, is_active=True).first()
    if tenant is None:
        raise Http404
    user = request.user
    if user.is_authenticated and user.tenant_id and user.tenant_id != tenant.pk:
        raise Http404  # a session of one tenant never signs in, or tests, at another tenant's provider
    with tenant_scope(tenant):
        provider = IdentityProvider.objects.select_related("tenant", "default_role").filter(slug=provider_slug).first()
    if provider is None or not provider.enabled:
        raise Http404
    return provider


def _callback_uri(request, provider) -> str:
    return request.build_absolute_uri(
        reverse("sso:callback", kwargs={"tenant_slug": provider.tenant.slug, "provider_slug": provider.slug})
    )


def _safe_next(request, value: str) -> str:
    if value and url_has_allowed_host_and_scheme(value, {request.get_host()}, request.is_secure()):
        return value
    return reverse("home")


def _continue(request, target: str, text: str):
    """A page that goes on to ``target`` by itself: after a form's POST, a redirect to another origin would be
    stopped by the form-action rule of our Content Security Policy; a navigation from a page is not."""
    return render(request, "sso/continue.html", {"target": target, "text": text})


def refused(request, reason: Refusal, *, status: int = 403):
    return render(
        request, "sso/refused.html", {"message": SsoRefused(reason).message, "reason": reason.value}, status=status
    )


@public
@require_GET
def start(request, tenant_slug: str, provider_slug: str):
    """Send the browser to the provider (a new state, nonce and PKCE verifier for this login)."""
    provider = _provider(request, tenant_slug, provider_slug)
    try:
        url = oidc.begin(
            request,
            provider,
            redirect_uri=_callback_uri(request, provider),
            next_url=_safe_next(request, request.GET.get("next", "")),
        )
    except ProviderUnavailable:
        return refused(request, Refusal.UNAVAILABLE, status=502)
    return redirect(url)


@public
@require_GET
def callback(request, tenant_slug: str, provider_slug: str):
    """The provider's answer: check it, sign the person in (provisioned and mapped), or say why not."""
    provider = _provider(request, tenant_slug, provider_slug)
    with tenant_scope(provider.tenant):
        try:
            entry = oidc.take_pending(request, provider, request.GET.get("state", ""))
            if request.GET.get("error") or not request.GET.get("code"):
                raise SsoRefused(Refusal.PROVIDER_ERROR)
            claims = oidc.exchange(
                provider, entry, code=request.GET["code"], redirect_uri=_callback_uri(request, provider)
            )
            if entry.get("purpose") == "test":
                return _test_result(request, provider, claims)
            user = provisioning.sign_in(provider, claims)
        except SsoRefused as refusal:
            if refusal.reason is not Refusal.STATE:
                # An answer to no sign-in of this browser is noise anyone can send (and a GET): not recorded.
                logins.record_refusal(provider, refusal.reason.value)
            return refused(request, refusal.reason)
        if request.user.is_authenticated:
            auth_logout(request)  # whoever was logged in in this browser, a sign-in starts a new session
        needs_mfa = logins.open_session(request, provider, user, claims)
    if needs_mfa:
        from accounts.views import mfa_step_url

        return redirect(mfa_step_url(user, entry["next"]))
    return redirect(entry["next"])


def _test_result(request, provider, claims: dict):
    """The console's test login: what the portal would make of this sign-in; nobody is signed in, nothing changes."""
    from permissions import engine
    from permissions.vocabulary import Action, SystemModule

    if not (request.user.is_authenticated and engine.can(request.user, Action.VIEW, SystemModule.SETTINGS)):
        raise Http404
    groups = provisioning.groups_of(provider, claims)
    _maps, organisation = provisioning.mapped_organisation(provider, groups)
    context = {
        "provider": provider,
        "claims": sorted((key, value) for key, value in claims.items() if not key.startswith("_")),
        "groups": sorted(groups),
        "role": provisioning.mapped_role(provider, groups),
        "organisation": organisation,
        "mfa": provisioning.provider_mfa_satisfied(provider, claims),
    }
    return render(request, "sso/console/test_result.html", context)


@public
@require_POST
def discover(request):
    """Home-realm discovery: the provider of the address's domain (in the named organisation when given)."""
    email = request.POST.get("email", "").strip().lower()
    found = directory.providers_for_email(email, request.POST.get("organisation", ""))
    if len(found) == 1:
        provider = found[0]
        target = reverse("sso:start", kwargs={"tenant_slug": provider.tenant.slug, "provider_slug": provider.slug})
        target = f"{target}?{urlencode({'next': _safe_next(request, request.POST.get('next', ''))})}"
        return _continue(request, target, _("Continuing to %(name)s…") % {"name": provider.name})
    if found:
        messages.info(request, _("Several organisations sign in with this domain: name yours."))
    else:
        messages.info(request, _("No single sign-on is set up for this address. Log in with your password."))
    return redirect(f"{reverse('accounts:login')}")


@public
@require_POST
def logout(request):
    """The top bar's logout: end the portal session; for a session a provider opened, then send the browser to
    the provider's end-session endpoint (RP-initiated logout) when it offers one."""
    held = request.session.get(logins.SSO_SESSION) or {}
    provider = None
    if request.user.is_authenticated and request.user.tenant_id and held:
        with tenant_scope(request.user.tenant):
            provider = IdentityProvider.objects.select_related("tenant").filter(pk=held.get("provider")).first()
    auth_logout(request)
    if provider is None:
        return redirect("accounts:login")
    url = oidc.logout_url(
        provider,
        id_token=held.get("id_token", ""),
        post_logout_redirect_uri=request.build_absolute_uri(reverse("accounts:login")),
    )
    if not url:
        return redirect("accounts:login")
    return _continue(
        request,
        url,
        _("You are logged out here. Continuing to %(name)s to log out there too…") % {"name": provider.name},
    )
