"""The viewer's filter form: actor, target user, event type, date range, text."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.events import EventType
from audit.models import AuditEvent, PersonalValue
from portal.forms import CleanInputMixin


class EventFilterForm(CleanInputMixin, forms.Form):
    """Filters of the audit log; every field optional."""

    actor = forms.TypedChoiceField(label=_("Actor"), required=False, coerce=int, empty_value=None)
    target_user = forms.TypedChoiceField(label=_("Target user"), required=False, coerce=int, empty_value=None)
    event_type = forms.ChoiceField(label=_("Event"), required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(label=_("Text"), required=False, max_length=200)

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        people = [("", _("Anyone"))] + [(u.pk, u.email) for u in users]
        self.fields["actor"].choices = people
        self.fields["target_user"].choices = people
        self.fields["event_type"].choices = [("", _("Any event"))] + list(EventType.choices)

    def filter(self, events):
        """``events`` narrowed by the valid filters (an invalid form filters nothing more)."""
        if not self.is_valid():
            return events
        data = self.cleaned_data
        if data["actor"] is not None:
            events = events.filter(actor_id=data["actor"])
        if data["target_user"] is not None:
            events = events.filter(target_type="accounts.user", target_id=str(data["target_user"]))
        if data["event_type"]:
            events = events.filter(event_type=data["event_type"])
        if data["date_from"]:
            events = events.filter(occurred_at__date__gte=data["date_from"])
        if data["date_to"]:
            events = events.filter(occurred_at__date__lte=data["date_to"])
        if data["q"]:
            text = data["q"]
            # JSON text of the clear values: a match on a salt (hex) is harmless, the salt is not secret.
            people = PersonalValue.objects.filter(values__icontains=text).values("seq")
            events = events.filter(Q(canonical__icontains=text) | Q(seq__in=people))
        return events


def diff(before, after) -> list[dict]:
    """Rows of a before/after comparison: field, old value, new value, changed or not."""
    if before is None and isinstance(after, dict):
        before = {}
    if after is None and isinstance(before, dict):
        after = {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        if before is None and after is None:
            return []
        return [{"field": "", "before": before, "after": after, "changed": before != after}]
    rows = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        rows.append({"field": key, "before": old, "after": new, "changed": old != new})
    return rows


__all__ = ["AuditEvent", "EventFilterForm", "diff"]
