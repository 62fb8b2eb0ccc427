import json

from django import forms
from django.utils.translation import gettext_lazy as _

from permissions.vocabulary import BUSINESS_ACTIONS, Action


class ModuleForm(forms.Form):
    key = forms.SlugField(
        label=_("Key"), max_length=50, help_text=_("Lowercase letters, digits and -; fixed once made.")
    )
    name = forms.CharField(label=_("Name"), max_length=100)
    actions = forms.MultipleChoiceField(
        label=_("Applicable actions"),
        choices=[(a.value, a.label) for a in BUSINESS_ACTIONS],
        initial=[a.value for a in BUSINESS_ACTIONS],
        widget=forms.CheckboxSelectMultiple,
    )
    sensitive = forms.CharField(
        label=_("Sensitive attribute names"),
        required=False,
        help_text=_("Comma-separated, e.g. cost_price, supplier. Masked for anyone without View sensitive fields."),
    )

    def clean_actions(self):
        return [Action(a) for a in self.cleaned_data["actions"]]

    def clean_sensitive(self):
        return sorted({name.strip() for name in self.cleaned_data["sensitive"].split(",") if name.strip()})


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


class ResourceForm(forms.Form):
    """Title, description, external id and attributes; never the owner, module or tenant (AZ-4)."""

    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    external_id = forms.CharField(label=_("External id"), max_length=200, required=False)
    attributes = forms.CharField(
        label=_("Attributes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "class": "mono"}),
        help_text=_("One per line: name = value. Masked values (••••) are kept as they are."),
    )

    def clean_attributes(self):
        return parse_attributes(self.cleaned_data["attributes"])
