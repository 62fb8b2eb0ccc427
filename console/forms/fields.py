from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User


class UserByEmailField(forms.ModelChoiceField):
    """A user of the request's tenant, typed as an e-mail (scales to any tenant size; a user of another
    tenant is simply not found, AZ-2). Give it ``User.objects.all()`` inside the request's scope."""

    widget = forms.EmailInput

    def __init__(self, **kwargs):
        kwargs.setdefault("error_messages", {"invalid_choice": _("No user of your organisation has this email.")})
        super().__init__(queryset=User.objects.none(), to_field_name="email", **kwargs)

    def to_python(self, value):
        return super().to_python((value or "").strip().lower())
