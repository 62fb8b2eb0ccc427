"""Single sign-on pages (thin): home-realm discovery, start, the provider's answer, logout."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.lookups import get_in_tenant_or_404
from accounts.models import Tenant
from accounts.scoping import dangerously_unscoped, tenant_scope
from permissions.views import login_only, public
from sso import directory, logins, oidc, provisioning, saml, saml_metadata, stepup
from sso.endpoints import ProviderUnavailable
from sso.models import ExternalIdentity, IdentityProvider
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
    if provider.is_saml:
        try:
            with tenant_scope(provider.tenant):
                url = saml.begin(request, provider, next_url=_safe_next(request, request.GET.get("next", "")))
        except saml_metadata.MetadataError:
            return refused(request, Refusal.UNAVAILABLE, status=502)
        return redirect(url)
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


def _conclude(request, provider, entry: dict, claims: dict):
    """What a checked answer of the provider (OpenID Connect or SAML) leads to: a test sign-in's result, a
    step-up passed, or the person signed in (provisioned and mapped). Raises SsoRefused."""
    if entry.get("purpose") == "test":
        return _test_result(request, provider, claims)
    if entry.get("purpose") == "stepup":
        stepup.complete(request, provider, claims)
        return redirect(entry["next"])
    user = provisioning.sign_in(provider, claims)
    return _signed_in(request, provider, user, claims, entry["next"])


def _refusal(request, provider, refusal: SsoRefused):
    """The refusal page; recorded in the login history unless it answers no sign-in of this browser (noise
    anyone can send)."""
    if refusal.reason is not Refusal.STATE:
        logins.record_refusal(provider, refusal.reason.value)
    return refused(request, refusal.reason)


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
            outcome = _conclude(request, provider, entry, claims)
        except SsoRefused as refusal:
            return _refusal(request, provider, refusal)
    return outcome


def _signed_in(request, provider, user, claims: dict, next_url: str):
    with tenant_scope(provider.tenant):
        if request.user.is_authenticated:
            auth_logout(request)  # whoever was logged in in this browser, a sign-in starts a new session
        needs_mfa = logins.open_session(request, provider, user, claims)
    if needs_mfa:
        from accounts.views import mfa_step_url

        return redirect(mfa_step_url(user, next_url))
    return redirect(next_url)


def _saml_provider(request, tenant_slug: str, provider_slug: str) -> IdentityProvider:
    provider = _provider(request, tenant_slug, provider_slug)
    if not provider.is_saml:
        raise Http404
    return provider


@public
@require_GET
def saml_sp_metadata(request, tenant_slug: str, provider_slug: str):
    """The portal's SAML service-provider metadata for this tenant's provider (its URL is our entity id)."""
    provider = _saml_provider(request, tenant_slug, provider_slug)
    try:
        document = saml_metadata.sp_metadata(request.build_absolute_uri, provider)
    except saml_metadata.MetadataError:
        return refused(request, Refusal.UNAVAILABLE, status=502)
    return HttpResponse(document, content_type="application/samlmetadata+xml")


@public
@csrf_exempt  # the identity provider's page posts here (SAML HTTP-POST binding); the answer is signed and
def saml_acs(request, tenant_slug: str, provider_slug: str):  # must name a request this portal sent, once
    """The assertion consumer service (POST): check the answer, then send the browser on to ``saml_finish``, where
    its session (a same-site request: SameSite=Lax cookies are sent) proves it started this sign-in."""
    provider = _saml_provider(request, tenant_slug, provider_slug)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    with tenant_scope(provider.tenant):
        try:
            answered = saml.receive(request, provider, request.POST.get("SAMLResponse", ""))
        except SsoRefused as refusal:
            if not refusal.noise:
                logins.record_refusal(provider, refusal.reason.value)
            else:  # an answer to no request of this provider is noise anyone can post: logged, not recorded
                saml.log.info("saml answer to no request of %s refused (%s)", provider.method, refusal.reason.value)
            return refused(request, refusal.reason)
    kwargs = {"tenant_slug": provider.tenant.slug, "provider_slug": provider.slug}
    target = f"{reverse('sso:saml_finish', kwargs=kwargs)}?{urlencode({'request': answered.request_id})}"
    return _see_other(target)


def _see_other(target: str):
    response = HttpResponse(status=303)
    response["Location"] = target
    return response


@public
@require_GET
def saml_finish(request, tenant_slug: str, provider_slug: str):
    """Sign in the person the checked answer names (provisioned and mapped), in the browser that started it."""
    provider = _saml_provider(request, tenant_slug, provider_slug)
    with tenant_scope(provider.tenant):
        try:
            entry, claims = saml.take(request, provider, request.GET.get("request", ""))
            outcome = _conclude(request, provider, entry, claims)
        except SsoRefused as refusal:
            return _refusal(request, provider, refusal)
    return outcome


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


@login_only
def step_up(request, provider_id: int):
    """The step-up page's "Sign in again with …" (POST): a fresh sign-in at the person's own provider
    (sso/stepup.py). Another tenant's provider is not found, whatever the method."""
    provider = get_in_tenant_or_404(IdentityProvider.objects.select_related("tenant"), request, pk=provider_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not (
        provider.enabled
        and provider.provider_mfa
        and ExternalIdentity.objects.filter(provider=provider, user=request.user).exists()
    ):
        raise Http404
    next_url = _safe_next(request, request.POST.get("next", ""))
    try:
        if provider.is_saml:
            url = saml.begin(request, provider, next_url=next_url, purpose="stepup", fresh=True)
        else:
            redirect_uri = _callback_uri(request, provider)
            url = oidc.begin(
                request, provider, redirect_uri=redirect_uri, next_url=next_url, purpose="stepup", fresh=True
            )
    except (ProviderUnavailable, saml_metadata.MetadataError):
        return refused(request, Refusal.UNAVAILABLE, status=502)
    return _continue(request, url, _("Continuing to %(name)s…") % {"name": provider.name})


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
    if provider is None or provider.is_saml:  # SAML single logout is not offered (docs/sso.md)
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
