"""The case forms: open a case, a message, a resolution, a grant from the case."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accessrequests.forms import duration_label
from accessrequests.rules import allowed_durations
from appeals.models import Case
from appeals.services import MAX_BODY, MAX_SUBJECT
from portal.forms import CleanInputMixin


class CaseForm(CleanInputMixin, forms.Form):
    """What the case is about, a subject, and what happened."""

    kind = forms.ChoiceField(label=_("What is it about?"), choices=Case.Kind.choices, widget=forms.RadioSelect)
    subject = forms.CharField(label=_("Subject"), max_length=MAX_SUBJECT)
    body = forms.CharField(
        label=_("What happened, and what do you need?"), max_length=MAX_BODY, widget=forms.Textarea(attrs={"rows": 5})
    )


class MessageForm(CleanInputMixin, forms.Form):
    """One message of the conversation."""

    body = forms.CharField(label=_("Message"), max_length=MAX_BODY, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_reply_%s")  # shown beside the resolution forms: ids must differ
        super().__init__(*args, **kwargs)


class ResolveForm(CleanInputMixin, forms.Form):
    """Resolve without giving access: the decision stands, or it was explained."""

    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            (Case.Outcome.UPHELD, Case.Outcome.UPHELD.label),
            (Case.Outcome.EXPLAINED, Case.Outcome.EXPLAINED.label),
        ],
    )
    body = forms.CharField(
        label=_("Answer to the customer"), max_length=MAX_BODY, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_resolve_%s")
        super().__init__(*args, **kwargs)


class GrantForm(CleanInputMixin, forms.Form):
    """Give the customer access from the case (a time-bound grant on the case's module or resource)."""

    actions = forms.MultipleChoiceField(label=_("Actions"), widget=forms.CheckboxSelectMultiple)
    days = forms.TypedChoiceField(label=_("For how long"), coerce=int)
    body = forms.CharField(label=_("Note to the customer (optional)"), max_length=MAX_BODY, required=False)

    def __init__(self, *args, case: Case, **kwargs):
        kwargs.setdefault("auto_id", "id_grant_%s")
        super().__init__(*args, **kwargs)
        self.fields["actions"].choices = [(a.value, a.label) for a in case.module.applicable_actions]
        days = allowed_durations(case.tenant)
        self.fields["days"].choices = [(d, duration_label(d)) for d in days]
        self.fields["days"].initial = min(days, key=lambda d: abs(d - 14))
