"""MFA pages: the login step, step-up, enrolment, the security page, removing a factor, backup codes,
and an administrator's "reset this user's MFA"."""

from __future__ import annotations

import time

from django.contrib import messages
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

import audit
from accounts.forms import CodeForm, EnrolForm, PasswordForm, ReasonForm
from accounts.lookups import get_in_tenant_or_404
from accounts.mfa import services
from accounts.mfa.models import BackupCodeDevice, Outcome, TotpDevice
from accounts.models import User
from accounts.passkeys.services import has_passkey, passkeys_of
from accounts.policy import auth_age_seconds, mfa_required
from accounts.sessions import AUTH_AT, rotate
from accounts.signals import record_login_succeeded
from accounts.stepup import (
    RECENT_SECONDS,
    mark_verified,
    mfa_is_recent,
    require_recent_mfa,
    step_up_options,
    step_up_redirect,
)
from audit.events import EventType
from console.views.common import show_refusal
from permissions.services.errors import AccessRefused
from permissions.views import login_only, public, requires
from permissions.vocabulary import Action, SystemModule
from portal import confirmation

PENDING_DEVICE = "portcullis_pending_totp"


def _next(request, default: str = "home") -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(url, {request.get_host()}, request.is_secure()):
        return url
    return reverse(default)


def _tenant_user(request):
    user = request.user
    if not (user.is_authenticated and user.tenant_id):
        raise Http404
    return user


def _refusal(outcome: Outcome) -> str:
    if outcome is Outcome.THROTTLED:
        return _("Too many wrong codes. Wait a little, then try again.")
    return _("That code is not correct.")  # the same words for a wrong and a replayed code


def _code_page(request, *, step_up: bool):
    user = _tenant_user(request)
    devices = services.mfa_user_devices(user)
    has_codes = any(isinstance(d, TotpDevice) for d in devices)
    others = step_up_options(request, user) if step_up else []
    if not has_codes and not has_passkey(user) and not others:
        return redirect(f"{reverse('accounts:mfa_enrol')}?next={_next(request)}")
    if not step_up and user.is_verified():
        return redirect(_next(request))
    form = CodeForm(request.POST or None, devices=devices)
    error = None
    if request.method == "POST" and form.is_valid():
        was_verified = user.is_verified()
        outcome, device, remaining = services.verify(
            user, form.cleaned_data["device"], form.cleaned_data["code"], stage="step_up" if step_up else "login"
        )
        if outcome is Outcome.OK:
            mark_verified(request, device)  # rotates the session id (SES-1)
            factor = "backup_code" if isinstance(device, BackupCodeDevice) else "totp"
            if step_up or was_verified:
                with transaction.atomic():
                    audit.record(
                        EventType.STEP_UP, tenant=user.tenant, actor=user, target=user, after={"factor": factor}
                    )
            else:
                record_login_succeeded(user, factor)
            if remaining is not None:
                messages.warning(
                    request,
                    _("You used a backup code. Backup codes left: %(count)d. Create new ones on the security page.")
                    % {"count": remaining},
                )
            return redirect(_next(request))
        error = _refusal(outcome)
    template = "accounts/mfa_stepup.html" if step_up else "accounts/mfa_verify.html"
    context = {"form": form, "error": error, "next": _next(request), "has_codes": has_codes}
    context["passkey_stage"] = ("step_up" if step_up else "login") if has_passkey(user) else None
    context["other_options"] = others
    return render(request, template, context, status=200)


@public
@require_http_methods(["GET", "POST"])
def mfa_verify(request):
    """The MFA step of the login."""
    return _code_page(request, step_up=False)


@login_only
@require_http_methods(["GET", "POST"])
def stepup(request):
    """Step-up: a fresh code before a sensitive action, then back to it."""
    return _code_page(request, step_up=True)


@login_only
@require_http_methods(["GET", "POST"])
def reauthenticate(request):
    """Re-enter the password (for a user without an authenticator who wants to enrol one later)."""
    user = _tenant_user(request)
    form = PasswordForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        # Through authenticate(), so wrong passwords here count towards the lockout too (AUTH-2).
        again = authenticate(request, username=user.email, password=form.cleaned_data["password"])
        if again is not None and again.pk == user.pk:
            rotate(request)
            request.session[AUTH_AT] = time.time()
            return redirect(_next(request))
        error = _("The password is not correct.")
    return render(request, "accounts/reauth.html", {"form": form, "error": error, "next": _next(request)})


def _recently_authenticated(request, user) -> bool:
    """MFA-10: enrolling needs a fresh proof: a recent MFA step, or (no factor yet) a recent password."""
    if services.has_any_factor(user):
        return mfa_is_recent(request)
    age = auth_age_seconds(request)
    return mfa_is_recent(request) or (age is not None and age <= RECENT_SECONDS)


def fresh_proof_redirect(request, user):
    """Where to prove oneself before adding a factor (an authenticator app, a passkey), or None when the
    session's proof is recent enough (MFA-10)."""
    if _recently_authenticated(request, user):
        return None
    if services.has_any_factor(user):
        # A password-only session never adds a factor to an account that has one (MFA-9, MFA-10).
        if not user.is_verified():
            return redirect(f"{reverse('accounts:mfa_verify')}?next={request.path}")
        return step_up_redirect(request)
    return redirect(f"{reverse('accounts:reauth')}?next={request.path}")


@public
@require_http_methods(["GET", "POST"])
def mfa_enrol(request):
    """Add an authenticator app: QR code and secret, active only after a correct code."""
    user = _tenant_user(request)
    needed = fresh_proof_redirect(request, user)
    if needed is not None:
        return needed
    if request.method == "POST" and request.POST.get("op") == "start":
        with transaction.atomic():
            device = services.start_enrolment(user, name=str(_("Authenticator app")))
        request.session[PENDING_DEVICE] = device.pk
        return redirect(f"{request.path}?{urlencode({'next': _next(request)})}")
    device = _pending_device(request, user)
    if device is None:  # a GET never creates one (SES-2): the page offers to start
        return render(request, "accounts/mfa_enrol.html", {"next": _next(request)})
    form = EnrolForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        was_verified = user.is_verified()
        outcome, codes = services.confirm_enrolment(
            device, form.cleaned_data["code"], actor=user, name=form.cleaned_data["name"]
        )
        if outcome is Outcome.OK:
            request.session.pop(PENDING_DEVICE, None)
            device.refresh_from_db()
            mark_verified(request, device)
            if not was_verified:
                record_login_succeeded(user, "totp")
            messages.success(request, _("Your authenticator app is set up."))
            if codes:
                return render(request, "accounts/backup_codes.html", {"codes": codes, "next": _next(request)})
            return redirect(_next(request, "accounts:security"))
        error = _refusal(outcome)
    key = device.key_bytes()
    context = {
        "form": form,
        "error": error,
        "secret": services.base32_secret(key),
        "qr": services.qr_data_uri(services.otpauth_uri(user, key)),
        "next": _next(request),
    }
    return render(request, "accounts/mfa_enrol.html", context)


def _pending_device(request, user) -> TotpDevice | None:
    """The authenticator this session started to set up (POST ``op=start``), not yet confirmed."""
    pending_id = request.session.get(PENDING_DEVICE)
    if not pending_id:
        return None
    return TotpDevice.objects.filter(pk=pending_id, user=user, confirmed=False).first()


@login_only
def security(request):
    """The user's factors, backup codes left, and links to password, sessions and login history."""
    user = _tenant_user(request)
    devices = list(TotpDevice.objects.filter(user=user, confirmed=True).order_by("created_at"))
    backup = BackupCodeDevice.objects.filter(user=user).first()
    context = {
        "devices": devices,
        # With an authenticator, backup codes can be created even if none were made yet (e.g. an authenticator
        # added by an administrator or the demo data): the card shows 0 left and the button.
        "backup_remaining": backup.remaining() if backup else (0 if devices else None),
        "mfa_required": mfa_required(user),
        "passkeys": passkeys_of(user),
    }
    return render(request, "accounts/security.html", context)


@login_only
@require_http_methods(["GET", "POST"])
@require_recent_mfa
def remove_device(request, device_id: int):
    """MFA-10: removing a factor needs a recent verification and sends a notice."""
    user = _tenant_user(request)
    device = get_in_tenant_or_404(TotpDevice.objects.filter(user=user, confirmed=True), request, pk=device_id)
    if request.method == "POST":
        try:
            services.remove_device(device, actor=user, mfa_required=mfa_required(user))
        except services.MfaError:
            messages.error(request, _("This is your only authenticator and your organisation requires one."))
            return redirect("accounts:security")
        messages.success(request, _("The authenticator was removed."))
        return redirect("accounts:security")
    return render(request, "accounts/mfa_remove.html", {"device": device})


@login_only
@require_POST
@require_recent_mfa
def regenerate_backup_codes(request):
    """Ten new backup codes, shown once (needs a recent verification)."""
    user = _tenant_user(request)
    if not services.has_confirmed_device(user):
        raise Http404
    if not confirmation.confirmed(request):
        return confirmation.ask(
            request,
            title=_("Create new backup codes"),
            consequences=[
                _("Every backup code you still have stops working now."),
                _("Ten new codes are shown once, on the next page: keep them somewhere safe."),
            ],
            button=_("Create new backup codes"),
            cancel=reverse("accounts:security"),
            danger=False,
        )
    codes = services.regenerate_backup_codes(user, actor=user)
    return render(request, "accounts/backup_codes.html", {"codes": codes, "next": reverse("accounts:security")})


@requires(SystemModule.USERS, Action.CHANGE)
@require_http_methods(["GET", "POST"])
@require_recent_mfa
def reset_user_mfa(request, user_id: int):
    """An administrator removes every factor of one of their users (step-up, audited, notice sent)."""
    actor = _tenant_user(request)
    subject = get_in_tenant_or_404(User.objects.all(), request, pk=user_id)
    if subject.pk == actor.pk:
        raise PermissionDenied  # one's own factors are managed on the security page, not reset
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reset_mfa(subject, actor=actor, reason=form.cleaned_data["reason"])
        except AccessRefused as error:
            show_refusal(request, error)  # INS-1: the subject holds rights the actor does not
        else:
            messages.success(request, _("The MFA of %(name)s was reset.") % {"name": subject.display_name})
            return redirect("accounts:user_history", user_id=subject.pk)
    return render(request, "accounts/user_mfa_reset.html", {"form": form, "subject": subject})
