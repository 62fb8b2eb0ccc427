"""The passkey forms: the start of a sign-in (an optional e-mail and organisation) and a passkey's name."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.passkeys.models import Passkey
from portal.forms import CleanInputMixin, column


class SignInStartForm(CleanInputMixin, forms.Form):
    """Empty: usernameless (the browser offers its passkeys); an e-mail: that address's passkeys only."""

    username = forms.EmailField(label=_("Email"), required=False)
    organisation = forms.SlugField(label=_("Organisation"), required=False, max_length=50)

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()

    def clean_organisation(self):
        return self.cleaned_data["organisation"].strip().lower()


class NameForm(CleanInputMixin, forms.Form):
    columns = {"name": column(Passkey, "name")}

    name = forms.CharField(label=_("Name of this passkey"))
