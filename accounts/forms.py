from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from portal.forms import CleanInputMixin


class LoginForm(CleanInputMixin, AuthenticationForm):
    """Email and password. One message for every failure, so it never tells which accounts exist."""

    username = forms.EmailField(
        label=_("Email"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "username"})
    )
    organisation = forms.SlugField(
        label=_("Organisation"),
        required=False,
        help_text=_("Only when asked: the short name of your organisation."),
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    error_messages = {
        "invalid_login": _("The email or password is not correct."),
        "inactive": _("The email or password is not correct."),
        "ambiguous": _("This address has accounts in several organisations: enter the short name of yours."),
    }

    def clean(self):
        from django.contrib.auth import authenticate

        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            self.user_cache = authenticate(
                self.request,
                username=username,
                password=password,
                tenant_slug=self.cleaned_data.get("organisation") or "",
            )
            if self.user_cache is None:
                if getattr(self.request, "portcullis_login_ambiguous", False):
                    raise forms.ValidationError(self.error_messages["ambiguous"], code="ambiguous")
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        from sso.policy import refuse_password_login  # the tenant may require single sign-on (sso/)

        refuse_password_login(user)


class CodeForm(CleanInputMixin, forms.Form):
    """A one-time code, checked against the one device the user picked (django-otp #110/#186)."""

    device = forms.ChoiceField(label=_("Verify with"))
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
    )

    def __init__(self, *args, devices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["device"].choices = [(d.persistent_id, device_label(d)) for d in devices]
        if len(self.fields["device"].choices) == 1:
            self.fields["device"].widget = forms.HiddenInput()
        if devices:
            self.fields["device"].initial = devices[0].persistent_id


def device_label(device) -> str:
    from accounts.mfa.models import BackupCodeDevice

    if isinstance(device, BackupCodeDevice):
        return str(_("A backup code"))
    return str(_("Authenticator app: %(name)s") % {"name": device.name})


class EnrolForm(CleanInputMixin, forms.Form):
    name = forms.CharField(label=_("Name of this authenticator"), max_length=64, initial=_("Authenticator app"))
    code = forms.CharField(
        label=_("Code shown by the app"),
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class PasswordForm(CleanInputMixin, forms.Form):
    """Re-authentication with the current password."""

    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class EmailForm(CleanInputMixin, forms.Form):
    email = forms.EmailField(label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class ReasonForm(CleanInputMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
