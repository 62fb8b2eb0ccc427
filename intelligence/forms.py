from django import forms
from django.utils.translation import gettext_lazy as _

from permissions.models import Role
from portal.forms import CleanInputMixin, column


class AdoptRoleForm(CleanInputMixin, forms.Form):
    """The name of the role a mined proposal becomes, and why."""

    columns = {"name": column(Role, "name")}
    name = forms.CharField(label=_("Name of the new role"))
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class ReasonForm(CleanInputMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)
