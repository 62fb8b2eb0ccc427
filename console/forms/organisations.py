"""Forms of the organisation and sharing-rule screens (choices are the request tenant's rows only)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation, User
from console.forms.fields import UserByEmailField
from permissions.models import Module, Role, SharingRule
from permissions.vocabulary import BUSINESS_ACTIONS, ModuleKind
from portal.forms import CleanInputMixin, column


class OrganisationForm(CleanInputMixin, forms.Form):
    columns = {"name": column(Organisation, "name"), "external_id": column(Organisation, "external_id")}
    name = forms.CharField(label=_("Name"))
    external_id = forms.CharField(label=_("External id"), required=False)
    parent = forms.ModelChoiceField(
        label=_("Parent organisation"), queryset=Organisation.objects.none(), required=False
    )
    status = forms.ChoiceField(label=_("Status"), choices=Organisation.Status.choices, initial="active")

    def __init__(self, *args, editing=None, **kwargs):
        super().__init__(*args, **kwargs)
        parents = Organisation.objects.order_by("name")
        if editing is not None:
            parents = parents.exclude(pk=editing.pk)
        else:
            del self.fields["status"]
        self.fields["parent"].queryset = parents


class OrganisationMemberForm(CleanInputMixin, forms.Form):
    user = UserByEmailField(label=_("Email of the user"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.all()


class SharingRuleForm(CleanInputMixin, forms.Form):
    columns = {"name": column(SharingRule, "name")}
    name = forms.CharField(label=_("Name"))
    kind = forms.ChoiceField(label=_("Kind of rule"), choices=SharingRule.Kind.choices)
    module = forms.ModelChoiceField(label=_("Module"), queryset=Module.objects.none())
    actions = forms.MultipleChoiceField(
        label=_("Actions"), choices=[(a.value, a.label) for a in BUSINESS_ACTIONS], widget=forms.CheckboxSelectMultiple
    )
    include_children = forms.BooleanField(label=_("Include child organisations"), required=False)
    organisation = forms.ModelChoiceField(
        label=_("Members of organisation"), queryset=Organisation.objects.none(), required=False
    )
    target_organisation = forms.ModelChoiceField(
        label=_("Records owned by organisation"), queryset=Organisation.objects.none(), required=False
    )
    role = forms.ModelChoiceField(label=_("or holders of role"), queryset=Role.objects.none(), required=False)
    attribute_key = forms.CharField(label=_("Attribute"), required=False, max_length=64)
    attribute_value = forms.CharField(label=_("equals"), required=False, max_length=200)
    expires_at = forms.DateTimeField(
        label=_("Expires"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )
    reason = forms.CharField(label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["module"].queryset = Module.objects.exclude(kind=ModuleKind.SYSTEM).order_by("key")
        for name in ("organisation", "target_organisation"):
            self.fields[name].queryset = Organisation.objects.order_by("name")
        self.fields["role"].queryset = Role.objects.order_by("name")
