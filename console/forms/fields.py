from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from portal.pickers.widgets import PickerTextInput


class UserByEmailField(forms.ModelChoiceField):
    """A user of the request's tenant, typed as an e-mail (scales to any tenant size; a user of another
    tenant is simply not found, AZ-2). Give it ``User.objects.all()`` inside the request's scope. The "people"
    picker searches as you type; without JavaScript the e-mail is typed."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", PickerTextInput("people", attrs={"inputmode": "email"}))
        kwargs.setdefault("error_messages", {"invalid_choice": _("No user of your organisation has this email.")})
        super().__init__(queryset=User.objects.none(), to_field_name="email", **kwargs)

    def to_python(self, value):
        return super().to_python((value or "").strip().lower())
