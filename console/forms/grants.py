from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from console.forms.fields import UserByEmailField
from permissions.models import Group, Module, Resource
from permissions.vocabulary import Action
from portal.forms import CleanInputMixin
from portal.pickers.widgets import PickerHiddenInput, PickerSelect

EXPIRY_PRESETS = [
    ("", _("Never")),
    ("1", _("In 1 day")),
    ("7", _("In 7 days")),
    ("30", _("In 30 days")),
    ("90", _("In 90 days")),
    ("custom", _("On a date…")),
]


def justification_field() -> forms.CharField:
    """The optional justification of a separation-of-duties exception (the forms of changes that give access)."""
    return forms.CharField(
        label=_("Justification of a separation-of-duties exception"),
        help_text=_("Only when a rule that allows exceptions asks for one: a second administrator reads it."),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class GrantForm(CleanInputMixin, forms.Form):
    """To a user (by e-mail) or a group; on a module or one resource; actions; reason; optional expiry."""

    user = UserByEmailField(label=_("User (email)"), required=False)
    group = forms.ModelChoiceField(
        label=_("or group"), queryset=Group.objects.none(), required=False, widget=PickerSelect("groups")
    )
    module = forms.ModelChoiceField(label=_("Module"), queryset=Module.objects.none(), required=False)
    resource = forms.ModelChoiceField(
        label=_("Resource"),
        queryset=Resource.objects.none(),
        required=False,
        widget=PickerHiddenInput("resources", params={"module": "id_module"}),
        help_text=_("Optional: one resource of the module (search by its title); none gives the whole module."),
    )
    actions = forms.MultipleChoiceField(label=_("Actions"), choices=Action.choices, widget=forms.CheckboxSelectMultiple)
    reason = forms.CharField(label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
    expiry = forms.ChoiceField(label=_("Expires"), choices=EXPIRY_PRESETS, required=False)
    expires_on = forms.DateTimeField(
        label=_("Expiry date and time"),
        required=False,
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "data-show-if": "id_expiry:custom"}, format="%Y-%m-%dT%H:%M"
        ),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )
    justification = justification_field()

    def __init__(self, *args, reader, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.all()
        self.fields["group"].queryset = Group.objects.order_by("name")
        self.fields["module"].queryset = Module.objects.order_by("kind", "key")
        # Only a resource the granter may view can be named (NetBox's restricted form fields): any other id is
        # "not a valid choice", exactly like another tenant's.
        self.fields["resource"].queryset = Resource.objects.select_related("module").restrict(reader, Action.VIEW)

    def clean(self):
        data = super().clean()
        if bool(data.get("user")) == bool(data.get("group")):
            raise forms.ValidationError(_("Choose one user or one group."))
        resource = data.get("resource")
        if resource is not None:
            data["module"] = resource.module
        if data.get("module") is None:
            self.add_error("module", _("Choose a module."))
        preset = data.get("expiry")
        if preset == "custom":
            if not data.get("expires_on"):
                self.add_error("expires_on", _("Choose the expiry date and time."))
            data["expires_at"] = data.get("expires_on")
        elif preset:
            data["expires_at"] = timezone.now() + timedelta(days=int(preset))
        else:
            data["expires_at"] = None
        return data


class RevokeForm(CleanInputMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
