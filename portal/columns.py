"""Every column's limits, enforced where every path meets: the model's save (FC-2).

The API, SCIM, the console's forms, imports and commands all save through the ORM, so a ``pre_save``
receiver checks each value against its own column, derived from the model rather than listed by hand:
text no longer than the field's ``max_length`` (SQLite would store it whole, PostgreSQL would raise), no
NUL character nor unpaired surrogate in text or JSON (PostgreSQL refuses both), integers within the
database's range for the column type. A value outside is a ``ValidationError`` naming the field, which the
API answers as a 400 (problem+json / SCIM invalidValue) and which the forms' own cleaning
(``portal.forms.CleanInputMixin``, same limits) reports before a save is ever tried. Nothing is written:
the error is raised before the INSERT/UPDATE, inside the service's transaction.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models.signals import pre_save
from django.utils.translation import gettext as _

_BAD_TEXT = re.compile(r"[\x00\ud800-\udfff]")
_INTEGERS = (models.IntegerField, models.BigIntegerField, models.SmallIntegerField, models.PositiveIntegerField)


def text_limit_problem(value: str, max_length: int | None) -> str | None:
    """Why ``value`` does not fit a text column of ``max_length`` (None: unlimited), or None."""
    if max_length is not None and len(value) > max_length:
        return _("At most %(limit)s characters (this has %(length)s).") % {"limit": max_length, "length": len(value)}
    if _BAD_TEXT.search(value):
        return _("Text may not contain NUL characters or unpaired surrogates.")
    return None


def integer_range(field) -> tuple[int | None, int | None]:
    """The database's range for an integer column (None: unbounded)."""
    return connection.ops.integer_field_range(field.get_internal_type())


def _json_problem(value) -> str | None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _BAD_TEXT.search(item):
                return _("Text may not contain NUL characters or unpaired surrogates.")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return None


def column_problem(field, value) -> str | None:
    """Why ``value`` does not fit ``field``'s column, or None."""
    if value is None:
        return None
    if isinstance(field, models.CharField | models.TextField) and isinstance(value, str):
        return text_limit_problem(value, field.max_length if isinstance(field, models.CharField) else None)
    if isinstance(field, models.JSONField):
        return _json_problem(value)
    if isinstance(field, _INTEGERS) and isinstance(value, int) and not isinstance(value, bool):
        low, high = integer_range(field)
        if (low is not None and value < low) or (high is not None and value > high):
            return _("A number between %(low)s and %(high)s.") % {"low": low, "high": high}
    return None


def check_columns(sender, instance, raw=False, update_fields=None, **kwargs):
    """pre_save: refuse a value that does not fit its column (nothing is written)."""
    if raw:
        return  # fixtures load as they are
    errors = {}
    for field in sender._meta.concrete_fields:
        if update_fields is not None and field.name not in update_fields and field.attname not in update_fields:
            continue
        problem = column_problem(field, getattr(instance, field.attname, None))
        if problem:
            errors[field.name] = [problem]
    if errors:
        raise ValidationError(errors)


def connect() -> None:
    pre_save.connect(check_columns, dispatch_uid="portal.columns.check_columns")
