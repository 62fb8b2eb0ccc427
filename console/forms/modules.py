import json

from django import forms
from django.utils.translation import gettext_lazy as _

from permissions.attributes import names_text, parse_names
from permissions.models import Module, Resource
from permissions.vocabulary import BUSINESS_ACTIONS, Action
from portal.forms import CleanInputMixin, column
from portal.pickers.widgets import PickerTextarea, PickerTextInput


def _attribute_picker(module=None) -> PickerTextInput:
    """Attribute names, comma-separated; the picker suggests the module's own (none yet for a new module)."""
    fixed = {"module": module.pk} if module is not None else None
    return PickerTextInput("attributes", multiple=True, separator="comma", free=True, fixed=fixed)


class ModuleForm(CleanInputMixin, forms.Form):
    columns = {"key": column(Module, "key"), "name": column(Module, "name")}
    key = forms.SlugField(label=_("Key"), help_text=_("Lowercase letters, digits and -; fixed once made."))
    name = forms.CharField(label=_("Name"))
    name_zh = forms.CharField(label=_("Name in Chinese"), required=False, max_length=100)
    actions = forms.MultipleChoiceField(
        label=_("Applicable actions"),
        choices=[(a.value, a.label) for a in BUSINESS_ACTIONS],
        initial=[a.value for a in BUSINESS_ACTIONS],
        widget=forms.CheckboxSelectMultiple,
    )
    sensitive = forms.CharField(
        label=_("Sensitive attribute names"),
        required=False,
        help_text=_(
            "Comma-separated attribute keys, as the resources store them. Masked for anyone without View sensitive "
            "fields."
        ),
        widget=_attribute_picker(),
    )

    def clean_actions(self):
        return [Action(a) for a in self.cleaned_data["actions"]]

    def clean_sensitive(self):
        return _names(self.cleaned_data["sensitive"])


def _names(text: str) -> list[str]:
    return sorted({name.strip() for name in text.split(",") if name.strip()})


MAX_OWNERS = 20


class ModuleSettingsForm(CleanInputMixin, forms.Form):
    """A module's name (custom modules only), sensitive attribute names and owners (by e-mail)."""

    columns = {"name": column(Module, "name")}
    name = forms.CharField(label=_("Name"))
    name_zh = forms.CharField(label=_("Name in Chinese"), required=False, max_length=100)
    attribute_names = forms.CharField(
        label=_("Attribute display names"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line: key = English name | Chinese name. Shown instead of the key on every page."),
    )
    sensitive = forms.CharField(
        label=_("Sensitive attribute names"),
        required=False,
        help_text=_("Comma-separated. Values are moved into or out of encrypted storage for every resource."),
    )
    owners = forms.CharField(
        label=_("Owners"),
        required=False,
        widget=PickerTextarea("people", free=True),
        help_text=_("E-mail addresses, one per line or comma-separated. Owners approve access requests for it."),
    )

    def __init__(self, *args, module, **kwargs):
        self.module = module
        owners = "\n".join(sorted(u.email for u in module.owners.all()))
        initial = {
            "name": module.name,
            "name_zh": module.name_zh,
            "attribute_names": names_text(module.attribute_names),
            "sensitive": ", ".join(module.sensitive_attributes or ()),
            "owners": owners,
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["sensitive"].widget = _attribute_picker(module)
        if module.kind != "custom":
            for name in ("name", "name_zh"):
                self.fields[name].disabled = True
                self.fields[name].help_text = _("The names of built-in modules come with the product.")

    def clean_attribute_names(self):
        try:
            return parse_names(self.cleaned_data["attribute_names"])
        except ValueError as error:
            raise forms.ValidationError(
                _("Line %(line)s: write key = English name | Chinese name."), params={"line": error.args[0]}
            ) from None

    def clean_sensitive(self):
        return _names(self.cleaned_data["sensitive"])

    def clean_owners(self):
        from functools import reduce
        from operator import or_

        from django.db.models import Q

        from accounts.models import User

        text = self.cleaned_data["owners"].replace("\n", ",")
        emails = sorted({e.strip().lower() for e in text.split(",") if e.strip()})
        if len(emails) > MAX_OWNERS:
            raise forms.ValidationError(_("At most %(n)s owners."), params={"n": MAX_OWNERS})
        if not emails:
            return []
        matches = User.objects.filter(reduce(or_, (Q(email__iexact=e) for e in emails)), is_active=True)
        found = {u.email.lower(): u for u in matches}
        unknown = [e for e in emails if e not in found]
        if unknown:
            raise forms.ValidationError(
                _("No active user of this tenant has these addresses: %(emails)s"),
                params={"emails": ", ".join(unknown)},
            )
        return [found[e] for e in emails]


class ResourceOwnerForm(CleanInputMixin, forms.Form):
    """Who owns the resource (an e-mail of this tenant; empty: nobody)."""

    owner = forms.EmailField(
        label=_("Owner"),
        required=False,
        help_text=_("The owner decides access requests for this resource. Leave empty for none."),
        widget=PickerTextInput("people", attrs={"inputmode": "email"}),
    )

    def clean_owner(self):
        from accounts.models import User

        email = (self.cleaned_data["owner"] or "").strip()
        if not email:
            return None
        owner = User.objects.filter(email__iexact=email, is_active=True).first()
        if owner is None:
            raise forms.ValidationError(
                _("No active user of this tenant has these addresses: %(emails)s"), params={"emails": email}
            )
        return owner


def parse_attributes(text: str) -> dict:
    """``name = value`` lines as a dict; a value that reads as JSON (a number, true) keeps its type."""
    result = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise forms.ValidationError(_("Line %(n)s: write name = value."), params={"n": number})
        value = value.strip()
        try:
            parsed = json.loads(value)
            value = parsed if isinstance(parsed, int | float | bool) else value
        except ValueError:
            pass
        result[name.strip()] = value
    return result


def format_attributes(attributes: dict) -> str:
    return "\n".join(f"{name} = {value}" for name, value in attributes.items())


class ResourceForm(CleanInputMixin, forms.Form):
    """Title, description, external id and attributes; never the owner, module or tenant (AZ-4)."""

    columns = {"title": column(Resource, "title"), "external_id": column(Resource, "external_id")}
    title = forms.CharField(label=_("Title"))
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    external_id = forms.CharField(label=_("External id"), required=False)
    attributes = forms.CharField(
        label=_("Attributes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "class": "mono"}),
        help_text=_("One per line: name = value. Masked values (••••) are kept as they are."),
    )

    def clean_attributes(self):
        return parse_attributes(self.cleaned_data["attributes"])


class ResourceOrganisationForm(CleanInputMixin, forms.Form):
    """Which organisation owns the resource (sharing rules give its members access); empty: none."""

    organisation = forms.ModelChoiceField(label=_("Owner organisation"), queryset=None, required=False)

    def __init__(self, *args, **kwargs):
        from accounts.models import Organisation

        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.order_by("name")
