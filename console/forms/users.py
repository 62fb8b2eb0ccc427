from django import forms
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from console.forms.grants import justification_field
from permissions.models import Group, Role
from portal.forms import CleanInputMixin, column


class Status:
    ACTIVE = "active"
    INACTIVE = "inactive"
    INVITED = "invited"
    CHOICES = [("", _("Any status")), (ACTIVE, _("Active")), (INACTIVE, _("Inactive")), (INVITED, _("Invited"))]


def status_of(user) -> str:
    """Active, invited (inactive, never set a password) or inactive (deactivated)."""
    if user.is_active:
        return Status.ACTIVE
    return Status.INVITED if not user.has_usable_password() else Status.INACTIVE


class UserFilterForm(CleanInputMixin, forms.Form):
    q = forms.CharField(label=_("Name or email"), required=False, max_length=200)
    role = forms.ModelChoiceField(
        label=_("Role"), queryset=Role.objects.none(), required=False, empty_label=_("Any role")
    )
    group = forms.ModelChoiceField(
        label=_("Group"), queryset=Group.objects.none(), required=False, empty_label=_("Any group")
    )
    status = forms.ChoiceField(label=_("Status"), choices=Status.CHOICES, required=False)

    def __init__(self, *args, roles, groups, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = roles
        self.fields["group"].queryset = groups

    def filter(self, users):
        if not self.is_valid():
            return users
        data = self.cleaned_data
        if data["q"]:
            users = users.filter(Q(email__icontains=data["q"]) | Q(full_name__icontains=data["q"]))
        if data["role"]:
            users = users.filter(role=data["role"])
        if data["group"]:
            users = users.filter(memberships__group=data["group"])
        if data["status"] == Status.ACTIVE:
            users = users.filter(is_active=True)
        elif data["status"] == Status.INVITED:
            users = users.filter(is_active=False, password__startswith=UNUSABLE_PASSWORD_PREFIX)
        elif data["status"] == Status.INACTIVE:
            users = users.filter(is_active=False).exclude(password__startswith=UNUSABLE_PASSWORD_PREFIX)
        return users


class InviteForm(CleanInputMixin, forms.Form):
    email = forms.EmailField(label=_("Email"))
    columns = {"full_name": column(User, "full_name")}
    full_name = forms.CharField(label=_("Full name"), required=False)
    role = forms.ModelChoiceField(label=_("Role"), queryset=Role.objects.none())

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = roles
        self.fields["role"].help_text = _(
            "Roles with console rights are not offered: invite the person, then change their role "
            "(a second administrator approves it)."
        )

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        # E-mails are unique per tenant: only this tenant's users are looked at (the scoped manager), so an
        # address that has an account in another tenant is invited like a fresh one (INS-7).
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError(_("This email cannot be invited."))
        return email


class RoleChangeForm(CleanInputMixin, forms.Form):
    role = forms.ModelChoiceField(label=_("New role"), queryset=Role.objects.none())
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    justification = justification_field()

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = roles


class StatusForm(CleanInputMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
