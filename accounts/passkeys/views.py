"""Passkey pages and the JSON steps of their ceremonies (static/accounts/passkeys.js drives them).

Each ceremony is two POSTs (CSRF-protected; a GET never changes state): ``…/options/`` stores a challenge in
the session (``challenges``) and answers the browser's options; the second POST sends the browser's answer,
which is checked against the challenge taken out of the session (single use).
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

import audit
from accounts.lookups import get_in_tenant_or_404
from accounts.passkeys import challenges, services, signin
from accounts.passkeys.assertions import Outcome, allowed_for_email, options
from accounts.passkeys.forms import NameForm, SignInStartForm
from accounts.passkeys.models import Passkey, b64url
from accounts.passkeys.policy import owes_passkey
from accounts.signals import record_login_succeeded
from accounts.stepup import mark_verified, require_recent_mfa
from audit.events import EventType
from permissions.views import login_only, public

BACKEND = "accounts.backends.EmailBackend"
MAX_BODY = 32 * 1024
STAGES = {"login", "step_up", "policy"}


def _next(request, url: str, default: str = "home") -> str:
    if url and url_has_allowed_host_and_scheme(url, {request.get_host()}, request.is_secure()):
        return url
    return reverse(default)


def _body(request) -> dict:
    """The JSON object a ceremony's second step sends ({} for anything else: it then fails verification)."""
    if len(request.body) > MAX_BODY:
        return {}
    try:
        data = json.loads(request.body)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested deeper than the parser goes (FC-2)
        return {}
    return data if isinstance(data, dict) else {}


def _tenant_user(request):
    if not (request.user.is_authenticated and request.user.tenant_id):
        raise Http404
    return request.user


def _refused(outcome: Outcome | None) -> JsonResponse:
    if outcome is None:
        return JsonResponse({"error": _("The request expired. Try again.")}, status=400)
    if outcome is Outcome.LOCKED:
        return JsonResponse({"error": _("Too many failed attempts. Try again in 15 minutes.")}, status=429)
    # One message for an unknown passkey, a wrong signature, a cloned counter and a deactivated account.
    return JsonResponse({"error": _("This passkey cannot sign you in here.")}, status=400)


# Sign-in (a visitor) -----------------------------------------------------------------------------------------


@public
@require_POST
def login_options(request):
    """Options for a passkey sign-in: usernameless without an e-mail, else that address's passkeys."""
    if request.user.is_authenticated:
        raise Http404
    form = SignInStartForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"error": _("Enter a valid email address, or leave it empty.")}, status=400)
    email, organisation = form.cleaned_data["username"], form.cleaned_data["organisation"]
    allow = allowed_for_email(email, organisation) if email else []
    challenge = challenges.issue(request, challenges.LOGIN, email=email, organisation=organisation)
    return JsonResponse(options(challenge, allow))


@public
@require_POST
def login(request):
    """Check the answer; a passkey is a whole multi-factor login (a new session id, registered, verified)."""
    if request.user.is_authenticated:
        raise Http404
    data = _body(request)
    pending = challenges.take(request, challenges.LOGIN)
    if pending is None:
        return _refused(None)
    result = signin.sign_in(request, pending, data.get("credential"))
    if result.outcome is not Outcome.OK:
        return _refused(result.outcome)
    user = result.user
    auth_login(request, user, backend=BACKEND)  # a new session id (SES-1), registered for "My sessions"
    mark_verified(request, result.passkey)  # MFA satisfied by the passkey; the id rotates again
    record_login_succeeded(user, "passkey")
    return JsonResponse({"redirect": _next(request, str(data.get("next") or ""))})


# Verification (a signed-in user) ------------------------------------------------------------------------------


@login_only
@require_POST
def verify_options(request):
    user = _tenant_user(request)
    allow = [services.descriptor(p) for p in services.passkeys_of(user)]
    if not allow:
        raise Http404
    stage = request.POST.get("stage", "")
    challenge = challenges.issue(request, challenges.VERIFY, stage=stage if stage in STAGES else "step_up")
    return JsonResponse(options(challenge, allow))


@login_only
@require_POST
def verify(request):
    """The MFA step, a step-up or the passkey policy's proof, with one of the user's passkeys."""
    user = _tenant_user(request)
    data = _body(request)
    pending = challenges.take(request, challenges.VERIFY)
    if pending is None:
        return _refused(None)
    result = signin.verify(request, pending, data.get("credential"))
    if result.outcome is not Outcome.OK:
        return _refused(result.outcome)
    was_verified = user.is_verified()
    mark_verified(request, result.passkey)  # rotates the session id (SES-1)
    if was_verified:
        with transaction.atomic():
            audit.record(EventType.STEP_UP, tenant=user.tenant, actor=user, target=user, after={"factor": "passkey"})
    else:
        record_login_succeeded(user, "passkey")
    return JsonResponse({"redirect": _next(request, str(data.get("next") or ""))})


@login_only
@require_GET
def confirm(request):
    """The passkey policy's page: a session verified otherwise proves one of the user's passkeys."""
    user = _tenant_user(request)
    next_url = _next(request, request.GET.get("next", ""))
    if not services.has_passkey(user):
        return redirect(f"{reverse('accounts:passkey_add')}?{urlencode({'next': next_url})}")
    return render(request, "accounts/passkeys/confirm.html", {"next": next_url, "owes": owes_passkey(user)})


# Registration, rename, removal --------------------------------------------------------------------------------


def _fresh_proof_needed(request, user):
    from accounts.mfa.views import fresh_proof_redirect

    return fresh_proof_redirect(request, user)


@login_only
@require_GET
def add(request):
    """The page to add a passkey (a recent verification first, as for an authenticator app)."""
    user = _tenant_user(request)
    needed = _fresh_proof_needed(request, user)
    if needed is not None:
        return needed
    context = {
        "form": NameForm(initial={"name": _("Passkey")}),
        "next": _next(request, request.GET.get("next", ""), "accounts:security"),
        "owes": owes_passkey(user),
    }
    return render(request, "accounts/passkeys/add.html", context)


@login_only
@require_POST
def register_options(request):
    user = _tenant_user(request)
    needed = _fresh_proof_needed(request, user)
    if needed is not None:
        # The add page itself sends the user to the step-up (or the password) and back.
        return JsonResponse(
            {"error": _("Confirm it is you first."), "redirect": reverse("accounts:passkey_add")}, status=403
        )
    handle = services.user_handle_for(user)
    challenge = challenges.issue(request, challenges.REGISTER, handle=b64url(handle))
    return JsonResponse(services.registration_options(user, challenge, handle))


@login_only
@require_POST
def register(request):
    """Keep the new passkey; the session counts as verified with it (it was just proved, with user
    verification), which also satisfies the passkey policy."""
    user = _tenant_user(request)
    data = _body(request)
    pending = challenges.take(request, challenges.REGISTER)
    if pending is None or _fresh_proof_needed(request, user) is not None:
        return _refused(None)
    was_verified = user.is_verified()
    try:
        passkey = services.register(user, pending, data.get("credential"), name=str(data.get("name") or ""))
    except services.PasskeyError as error:
        return JsonResponse({"error": _registration_error(error.code)}, status=400)
    mark_verified(request, passkey)
    if not was_verified:
        record_login_succeeded(user, "passkey")
    messages.success(request, _("Your passkey was added."))
    return JsonResponse({"redirect": _next(request, str(data.get("next") or ""), "accounts:security")})


def _registration_error(code: str) -> str:
    if code == "name":
        return _("Give the passkey a name of at most 64 characters.")
    if code == "duplicate":
        return _("This passkey is already registered.")
    return _("The passkey could not be registered. Try again.")


def _own_passkey(request, passkey_id: int) -> Passkey:
    user = _tenant_user(request)
    return get_in_tenant_or_404(Passkey.objects.filter(user=user, confirmed=True), request, pk=passkey_id)


@login_only
@require_http_methods(["GET", "POST"])
def rename(request, passkey_id: int):
    passkey = _own_passkey(request, passkey_id)
    form = NameForm(request.POST or None, initial={"name": passkey.name})
    if request.method == "POST" and form.is_valid():
        try:
            services.rename(passkey, form.cleaned_data["name"], actor=request.user)
        except services.PasskeyError:
            form.add_error("name", _("Give the passkey a name of at most 64 characters."))
        else:
            messages.success(request, _("The passkey was renamed."))
            return redirect("accounts:security")
    return render(request, "accounts/passkeys/rename.html", {"form": form, "passkey": passkey})


@login_only
@require_http_methods(["GET", "POST"])
@require_recent_mfa
def remove(request, passkey_id: int):
    """MFA-10: removing a passkey needs a recent verification and sends a notice."""
    passkey = _own_passkey(request, passkey_id)
    if request.method == "POST":
        try:
            services.remove(passkey, actor=request.user)
        except services.PasskeyError as error:
            messages.error(request, _removal_error(error.code))
        else:
            messages.success(request, _("The passkey was removed."))
        return redirect("accounts:security")
    return render(request, "accounts/passkeys/remove.html", {"passkey": passkey})


def _removal_error(code: str) -> str:
    if code == "required":
        return _("This is your only passkey and your organisation requires one.")
    return _("This is your only sign-in factor and your organisation requires one.")
