"""Form widgets of the pickers: the ordinary field, posting the same values with or without JavaScript, marked
with data attributes that ``static/js/pickers.js`` turns into an ARIA 1.2 combobox (a list box of options,
arrow keys, Enter, Escape; several values as removable chips).

- ``PickerTextInput``: one value typed as text (an e-mail); the field itself becomes the combobox.
- ``PickerTextarea``: several values in a text field, one a line (``separator="newline"``) or comma-separated.
- ``PickerSelect`` / ``PickerSelectMultiple``: a native select (its options are the no-script choice); the script
  hides it behind a search box and keeps its selection.
- ``PickerHiddenInput``: an id only a search can reach (one resource among thousands): without the script the
  current choice is shown as text (the page it came from chose it), with it a search box sets the id.
"""

from __future__ import annotations

from django import forms
from django.urls import reverse
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _


def _endpoint(name: str, fixed: dict | None) -> str:
    url = reverse("picker", kwargs={"name": name})
    return f"{url}?{urlencode(fixed)}" if fixed else url


endpoint = lazy(_endpoint, str)


def picker_attrs(
    name: str, *, multiple=False, separator="", free=False, params: dict | None = None, fixed: dict | None = None
) -> dict:
    """The data attributes of a picker: its endpoint (with ``fixed`` query parameters), how values are kept,
    the other fields whose values are sent (``params``: parameter → element id), and its messages (translated)."""
    attrs = {
        "data-picker": endpoint(name, fixed),
        "data-picker-hint": _("Type to search, then choose with the arrow keys and Enter; Escape closes the list."),
        "data-picker-list": _("Suggestions"),
        "data-picker-none": _("Nothing found."),
        "data-picker-found": _("Options found: %s"),
        "data-picker-remove": _("Remove %s"),
    }
    if multiple:
        attrs["data-picker-multiple"] = ""
    if separator:
        attrs["data-picker-separator"] = separator
    if free:
        attrs["data-picker-free"] = ""
    if params:  # query parameters read from other fields of the form: {"module": "id_module"}
        attrs["data-picker-params"] = ",".join(f"{key}={element}" for key, element in params.items())
    return attrs


class _Picker:
    def __init__(self, picker: str, *, attrs=None, **options):
        super().__init__(attrs={**picker_attrs(picker, **options), **(attrs or {})})


class PickerTextInput(_Picker, forms.TextInput):
    """One value typed as text; e-mails get the e-mail keyboard (the server validates the address)."""

    def __init__(self, picker: str, *, attrs=None, **options):
        super().__init__(picker, attrs={"autocomplete": "off", "spellcheck": "false", **(attrs or {})}, **options)


class PickerTextarea(_Picker, forms.Textarea):
    def __init__(self, picker: str, *, separator="newline", attrs=None, **options):
        super().__init__(picker, attrs={"rows": 3, **(attrs or {})}, multiple=True, separator=separator, **options)


class PickerSelect(_Picker, forms.Select):
    pass


class PickerSelectMultiple(_Picker, forms.SelectMultiple):
    def __init__(self, picker: str, *, attrs=None, **options):
        super().__init__(picker, attrs=attrs, multiple=True, **options)


class PickerHiddenInput(_Picker, forms.HiddenInput):
    """An id chosen by searching; shown with its label (``data-picker-label``) as the field's text."""

    is_hidden = False  # a visible field of the form: it has a label, which the script moves to its search box

    def render(self, name, value, attrs=None, renderer=None):
        field = super().render(name, value, attrs, renderer)
        current = self.attrs.get("data-picker-label") or _("None chosen")
        return format_html('{}<span class="picker-current" data-picker-current>{}</span>', field, current)
