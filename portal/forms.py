"""The forms' edge (FC-2): one mixin every form of the portal uses, so bad input is a form error.

``CleanInputMixin`` gives every text field of a form the same rules as the API's edge (``api.input``): no
control character (TAB, LF and CR are white space) and no unpaired surrogate; and a text field stored in a
column takes that column's ``max_length`` from the model (a ModelForm's own fields, or the form's
``columns``: form field → model field), never a number typed again by hand. ``portal.columns`` checks the
same limits at every save, for the paths that bypass a form.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models

from api.input import text_problem


def clean_text(value) -> None:
    """Validator: no control characters nor unpaired surrogates."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise ValidationError(problem, code="control_characters")


def column(model, name: str) -> models.Field:
    """The model field a form field is stored in (for ``CleanInputMixin.columns``)."""
    return model._meta.get_field(name)


class CleanInputMixin:
    """Text fields refuse control characters and take their column's max_length (see module docstring)."""

    columns: dict[str, models.Field] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        model = getattr(getattr(self, "_meta", None), "model", None)
        for name, field in self.fields.items():
            if not isinstance(field, forms.CharField):
                continue
            field.validators.append(clean_text)
            stored = self.columns.get(name)
            if stored is None and model is not None:
                try:
                    stored = model._meta.get_field(name)
                except Exception:  # noqa: BLE001 (a form-only field)
                    stored = None
            limit = getattr(stored, "max_length", None) if isinstance(stored, models.CharField) else None
            if limit and (field.max_length is None or field.max_length > limit):
                field.max_length = limit
                field.validators.append(MaxLengthValidator(limit))
                field.widget.attrs["maxlength"] = str(limit)
