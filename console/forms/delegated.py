"""Forms of the organisation administrator's screens (roles limited to those they may assign)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from permissions.models import Role
from portal.forms import CleanInputMixin, column


class InviteMemberForm(CleanInputMixin, forms.Form):
    columns = {"full_name": column(User, "full_name")}
    email = forms.EmailField(label=_("Email"))
    full_name = forms.CharField(label=_("Full name"), required=False)
    role = forms.ModelChoiceField(label=_("Role"), queryset=Role.objects.none())

    def __init__(self, *args, roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = Role.objects.filter(pk__in=[r.pk for r in roles])


class MemberActionForm(CleanInputMixin, forms.Form):
    """One member (among the organisation's only) and what to do: another role, or deactivation."""

    user = forms.ModelChoiceField(queryset=User.objects.none(), widget=forms.HiddenInput)
    op = forms.ChoiceField(choices=[("role", "role"), ("deactivate", "deactivate")], widget=forms.HiddenInput)
    role = forms.ModelChoiceField(label=_("Role"), queryset=Role.objects.none(), required=False)

    def __init__(self, *args, members, roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = members
        self.fields["role"].queryset = Role.objects.filter(pk__in=[r.pk for r in roles])


class AssignableRoleForm(CleanInputMixin, forms.Form):
    """A role to add to the tenant's list of roles organisations may assign (those not on it, without console
    rights), or one on the list to remove (``op``)."""

    op = forms.ChoiceField(choices=[("add", "add"), ("remove", "remove")], widget=forms.HiddenInput, initial="add")
    role = forms.ModelChoiceField(label=_("Role"), queryset=Role.objects.none())

    def __init__(self, *args, roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = Role.objects.filter(pk__in=[r.pk for r in roles]).order_by("-builtin", "name")
