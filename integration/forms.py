from django import forms
from django.utils.translation import gettext_lazy as _

from integration.formats import choices
from portal.forms import CleanInputMixin


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files at once (a CRM exports users, roles and assignments as separate files)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".csv,.json,text/csv,application/json"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)]


class ImportForm(CleanInputMixin, forms.Form):
    format = forms.ChoiceField(label=_("Format"), choices=choices)
    files = MultipleFileField(
        label=_("Files"),
        help_text=_("CSV or JSON; a CRM's users, roles and assignments files may be chosen together."),
    )
    mapping = forms.CharField(
        label=_("Mapping (optional)"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One line each: “CRM name = module: actions” or “CRM name = role: role name”."),
    )


class ExportForm(forms.Form):
    prefix = "export"  # beside the import form on one page: its own ids
    format = forms.ChoiceField(
        label=_("Export format"),
        choices=[
            ("portcullis-json", _("Portcullis JSON")),
            ("portcullis-csv", _("Portcullis CSV")),
            ("zoho", _("Zoho CRM users (CSV)")),
            ("salesforce", _("Salesforce users (CSV)")),
            ("fxiaoke", _("Fxiaoke 员工 (CSV)")),
        ],
    )
