"""The request form and the decision forms (choices computed for the tenant at hand)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accessrequests import rules
from permissions.vocabulary import Action
from portal.forms import CleanInputMixin


class RequestForm(CleanInputMixin, forms.Form):
    """Ask for actions on a module (or one resource of it) for a while, with a reason."""

    module = forms.CharField(required=False, widget=forms.HiddenInput)
    resource = forms.IntegerField(required=False, widget=forms.HiddenInput)
    extend = forms.IntegerField(required=False, widget=forms.HiddenInput)
    actions = forms.MultipleChoiceField(label=_("Actions"), widget=forms.CheckboxSelectMultiple)
    duration_days = forms.TypedChoiceField(label=_("For how long"), coerce=int, widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, tenant, module, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actions"].choices = [(a.value, a.label) for a in module.applicable_actions]
        self.fields["duration_days"].choices = [(d, duration_label(d)) for d in rules.allowed_durations(tenant)]
        self.fields["duration_days"].initial = rules.default_duration(tenant)


def duration_label(days: int) -> str:
    """1 day, 1 week, 2 weeks, 30 days …"""
    from django.utils.translation import ngettext

    if days % 7 == 0 and days <= 28:
        weeks = days // 7
        return ngettext("%(n)d week", "%(n)d weeks", weeks) % {"n": weeks}
    return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}


class ApproveForm(CleanInputMixin, forms.Form):
    """Approve, possibly for fewer days than asked."""

    days = forms.TypedChoiceField(label=_("Grant for"), coerce=int)
    reason = forms.CharField(label=_("Note (optional)"), max_length=2000, required=False)

    def __init__(self, *args, limit: int, **kwargs):
        kwargs.setdefault("auto_id", "id_approve_%s")  # shown beside the deny form: ids must differ
        super().__init__(*args, **kwargs)
        choices = sorted({d for d in (1, 7, 14, 30, 90) if d < limit} | {limit})
        self.fields["days"].choices = [(d, duration_label(d)) for d in choices]
        self.fields["days"].initial = limit


class DenyForm(CleanInputMixin, forms.Form):
    """Deny, with a reason the requester reads."""

    reason = forms.CharField(
        label=_("Reason for the denial"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_deny_%s")  # shown beside the approve form: ids must differ
        super().__init__(*args, **kwargs)


ACTION_VALUES = [a.value for a in Action]
