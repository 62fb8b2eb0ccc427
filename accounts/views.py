"""Login, logout, passwords, sessions, login history, invitations and password reset (thin views)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language

from accounts import auth_services, services, throttles
from accounts.auth_models import EmailToken
from accounts.forms import EmailForm, LoginForm
from accounts.lookups import get_in_tenant_or_404
from accounts.models import User
from accounts.policy import needs_mfa_step
from accounts.signals import record_login_succeeded
from permissions.views import PUBLIC, login_only, public, requires
from permissions.vocabulary import Action, SystemModule
from portal import confirmation

BACKEND = "accounts.backends.EmailBackend"
TENANT_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$")


def mfa_step_url(user, next_url: str) -> str:
    """Where a password-only session goes next: the MFA step, or enrolment for a user with no factor."""
    from accounts.mfa.services import has_any_factor

    name = "accounts:mfa_verify" if has_any_factor(user) else "accounts:mfa_enrol"
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


class LoginView(auth_views.LoginView):
    """Email and password; then the MFA step wherever the tenant's policy (or the user) has one."""

    authz = PUBLIC
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def tenant_slug(self) -> str:
        """The organisation named by the tenant's own login URL, ``/accounts/login/?organisation=<slug>``."""
        value = self.request.GET.get("organisation", "")
        return value if TENANT_SLUG.match(value) else ""

    def get_initial(self):
        initial = super().get_initial()
        if self.tenant_slug():
            initial["organisation"] = self.tenant_slug()
        return initial

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context.get("form")
        context["ask_organisation"] = bool(
            self.tenant_slug() or (form is not None and form.has_error("__all__", "ambiguous"))
        )
        from sso.directory import providers_of_tenant  # single sign-on: the tenant's buttons (sso/)

        context["sso_providers"] = providers_of_tenant(self.tenant_slug())
        context["sso_organisation"] = self.tenant_slug()
        return context

    def form_valid(self, form):
        user = form.get_user()
        auth_login(self.request, user)  # a new session id (SES-1), registered for "My sessions"
        if user.tenant_id and needs_mfa_step(user):
            return redirect(mfa_step_url(user, self.get_success_url()))
        if user.tenant_id:
            record_login_succeeded(user, "password")
        return redirect(self.get_success_url())


class LogoutView(auth_views.LogoutView):
    """POST only (Django's default): a GET never ends a session."""

    authz = PUBLIC


@public
@require_POST
def set_language(request):
    """Switch language; for a logged-in user the choice is remembered on their account."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and response.status_code == 302 and language:
        try:
            services.set_language(request.user, language)
        except ValueError:
            pass
    return response


def _tenant_user_required(request):
    if not (request.user.is_authenticated and request.user.tenant_id):
        raise Http404


@login_only
@require_http_methods(["GET", "POST"])
def password_change(request):
    """AUTH-4: the current password is required; the user's other sessions end."""
    _tenant_user_required(request)
    form = PasswordChangeForm(request.user, request.POST or None)
    # INS-7: the current password cannot be guessed here either: 5 wrong ones in 15 minutes lock the change
    # (as a login is locked), and while locked no password is checked at all.
    failures = throttles.PASSWORD_CHANGE_FAILURES
    if request.method == "POST" and throttles.exhausted(failures, request.user.pk):
        messages.error(request, _("Too many wrong passwords. Try again in 15 minutes."))
        return render(request, "accounts/password_change.html", {"form": PasswordChangeForm(request.user)}, status=429)
    if request.method == "POST" and not form.is_valid() and "old_password" in form.errors:
        throttles.hit(failures, request.user.pk)
    if request.method == "POST" and form.is_valid():
        throttles.clear(failures, request.user.pk)
        old_key = request.session.session_key
        ended = auth_services.change_password(
            request.user,
            current=form.cleaned_data["old_password"],
            new=form.cleaned_data["new_password1"],
            actor=request.user,
            keep_session_key=old_key,
        )
        update_session_auth_hash(request, request.user)  # keeps this session; cycles its id
        from accounts.sessions import rekey

        rekey(request, old_key)
        messages.success(request, _("Your password was changed. Other sessions ended: %(count)d.") % {"count": ended})
        return redirect("accounts:security")
    return render(request, "accounts/password_change.html", {"form": form})


@login_only
@require_http_methods(["GET", "POST"])
def my_sessions(request):
    """The user's active sessions (browser, address, last seen), and "end the others"."""
    _tenant_user_required(request)
    if request.method == "POST" and not confirmation.confirmed(request):
        return confirmation.ask(
            request,
            title=_("End your other sessions"),
            consequences=[
                _("Every other browser or device signed in as you is logged out now; this one stays signed in."),
                _("Each of them must log in again, with your password and second factor."),
            ],
            button=_("End the other sessions"),
            cancel=reverse("accounts:sessions"),
        )
    if request.method == "POST":
        ended = auth_services.end_other_sessions(
            request.user, actor=request.user, keep_session_key=request.session.session_key
        )
        messages.success(request, _("Other sessions ended: %(count)d.") % {"count": ended})
        return redirect("accounts:sessions")
    from accounts.sessions import digest
    from accounts.useragent import describe_browser

    current = digest(request.session.session_key or "")
    rows = [
        {
            "browser": describe_browser(row.user_agent),
            "address": row.address,
            "started": row.created_at,
            "last_seen": row.last_seen,
            "current": row.key_digest == current,
        }
        for row in auth_services.active_sessions(request.user)
    ]
    return render(request, "accounts/sessions.html", {"sessions": rows})


@login_only
def my_login_history(request):
    _tenant_user_required(request)
    rows = auth_services.login_history(request.user)
    return render(request, "accounts/login_history.html", {"rows": rows, "subject": request.user, "own": True})


@requires(SystemModule.USERS, Action.VIEW)
def user_login_history(request, user_id: int):
    """Someone allowed to view users reads the login history of one of their tenant's users."""
    _tenant_user_required(request)
    subject = get_in_tenant_or_404(User.objects.all(), request, pk=user_id)
    rows = auth_services.login_history(subject)
    return render(request, "accounts/login_history.html", {"rows": rows, "subject": subject, "own": False})


# Links from e-mails. The token moves from the URL into the session at once, so it does not linger in
# the address bar, the history or a Referer header (as Django's PasswordResetConfirmView does).
TOKEN_SESSION_KEY = "portcullis_link_token"


def _open_link(request, token: str, purpose: str, next_name: str):
    if request.user.is_authenticated:
        raise Http404  # a link for a new password is never used from inside a session
    if auth_services.find_token(token, purpose) is None:
        # The holder of the link learns why it stopped working (cancelled, superseded, used, expired).
        why = auth_services.why_unusable(token, purpose)
        return render(request, "accounts/link_invalid.html", {"why": why}, status=404)
    request.session[TOKEN_SESSION_KEY] = token
    return redirect(next_name)


def _linked_token(request, purpose: str) -> EmailToken | None:
    if request.user.is_authenticated:
        return None
    return auth_services.find_token(request.session.get(TOKEN_SESSION_KEY, ""), purpose)


@public
@require_http_methods(["GET"])
def invitation(request, token: str):
    return _open_link(request, token, EmailToken.Purpose.INVITATION, "accounts:invitation_accept")


@public
@require_http_methods(["GET", "POST"])
def invitation_accept(request):
    """An invitee chooses a password; then enrols an authenticator (the MFA policy sends them there)."""
    link = _linked_token(request, EmailToken.Purpose.INVITATION)
    if link is None:
        return render(request, "accounts/link_invalid.html", status=404)
    form = SetPasswordForm(link.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = auth_services.accept_invitation(link, form.cleaned_data["new_password1"])
        except (ValueError, ValidationError):
            return render(request, "accounts/link_invalid.html", status=404)
        request.session.pop(TOKEN_SESSION_KEY, None)
        auth_login(request, user, backend=BACKEND)
        return redirect(mfa_step_url(user, reverse("home")))
    return render(request, "accounts/set_password.html", {"form": form, "invitee": link.user, "invitation": True})


@public
@require_http_methods(["GET", "POST"])
def password_reset(request):
    """Ask for a reset link. The same answer whether or not the address has an account."""
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # INS-7: the answer is built before anything looks the address up, and is the same page every time;
        # the look-up and the e-mail happen after the response is sent. Both limits count every request the
        # same way, whether or not the address has an account.
        email = form.cleaned_data["email"].strip().lower()
        within = throttles.hit(throttles.RESET_PER_ADDRESS, request.client_address)
        within = throttles.hit(throttles.RESET_PER_ACCOUNT, email) and within
        response = render(request, "accounts/password_reset_sent.html")
        if within:
            throttles.after_response(response, lambda: auth_services.request_password_reset(email))
        return response
    return render(request, "accounts/password_reset.html", {"form": form})


@public
@require_http_methods(["GET"])
def password_reset_confirm(request, token: str):
    return _open_link(request, token, EmailToken.Purpose.PASSWORD_RESET, "accounts:password_reset_set")


@public
@require_http_methods(["GET", "POST"])
def password_reset_set(request):
    """Choose a new password from a reset link. It ends in the MFA step, never in a full session."""
    link = _linked_token(request, EmailToken.Purpose.PASSWORD_RESET)
    if link is None:
        return render(request, "accounts/link_invalid.html", status=404)
    form = SetPasswordForm(link.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = auth_services.reset_password(link, form.cleaned_data["new_password1"])
        except (ValueError, ValidationError):
            return render(request, "accounts/link_invalid.html", status=404)
        request.session.pop(TOKEN_SESSION_KEY, None)
        if needs_mfa_step(user):
            auth_login(request, user, backend=BACKEND)  # password-only: the policy allows only the MFA step
            return redirect(mfa_step_url(user, reverse("home")))
        messages.success(request, _("Your password was changed. Log in with it now."))
        return redirect("accounts:login")
    return render(request, "accounts/set_password.html", {"form": form, "invitee": link.user, "invitation": False})
