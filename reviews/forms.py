"""Forms of the review screens; every choice is restricted to the user's tenant (AZ-2)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from permissions.models import Group, Module, Role
from portal.forms import CleanInputMixin
from reviews.models import Recommendation, ReviewPolicy


class PolicyForm(CleanInputMixin, forms.ModelForm):
    scope_roles = forms.MultipleChoiceField(label=_("Roles"), required=False)
    scope_groups = forms.MultipleChoiceField(label=_("Groups"), required=False)
    scope_modules = forms.MultipleChoiceField(label=_("Modules"), required=False)
    reviewers = forms.MultipleChoiceField(label=_("Chosen reviewers"), required=False)
    fallback = forms.ChoiceField(label=_("Fallback reviewer"))

    class Meta:
        model = ReviewPolicy
        fields = [
            "name",
            "include_roles",
            "include_grants",
            "scope_mode",
            "scope_roles",
            "scope_groups",
            "scope_modules",
            "cadence",
            "start_date",
            "duration_days",
            "reviewer_kind",
            "reviewers",
            "unanswered",
            "max_revoke_percent",
            "auto_apply",
            "reminders",
            "justify_keep_flagged",
            "justify_revoke",
            "active",
        ]
        widgets = {"start_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        users = User.objects.filter(is_active=True).order_by("email")
        self.fields["fallback"].choices = [(u.pk, u.email) for u in users]
        if self.instance.pk:
            self.fields["fallback"].initial = self.instance.fallback_reviewer_id
        self.fields["scope_roles"].choices = [(r.pk, r.display_name) for r in Role.objects.all()]
        self.fields["scope_groups"].choices = [(g.pk, g.name) for g in Group.objects.all()]
        self.fields["scope_modules"].choices = [(m.pk, m.key) for m in Module.objects.order_by("key")]
        self.fields["reviewers"].choices = [(u.pk, u.email) for u in users]

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        for key in ("scope_roles", "scope_groups", "scope_modules", "reviewers"):
            data[key] = [int(v) for v in data.get(key) or []]
        data["fallback_reviewer"] = User.objects.filter(pk=int(data.pop("fallback"))).first()
        return data


class ItemFilter(CleanInputMixin, forms.Form):
    campaign = forms.IntegerField(required=False, widget=forms.HiddenInput)
    flagged = forms.BooleanField(label=_("Flagged"), required=False)
    unused = forms.BooleanField(label=_("Unused"), required=False)
    recommendation = forms.ChoiceField(
        label=_("Recommendation"), required=False, choices=[("", _("Any"))] + list(Recommendation.choices)
    )
    pending = forms.BooleanField(label=_("Undecided only"), required=False)

    def apply(self, items):
        if not self.is_valid():
            return items
        data = self.cleaned_data
        if data["campaign"]:
            items = items.filter(campaign_id=data["campaign"])
        if data["flagged"]:
            items = items.filter(flagged=True)
        if data["unused"]:
            items = items.filter(unused=True)
        if data["recommendation"]:
            items = items.filter(recommendation=data["recommendation"])
        if data["pending"]:
            items = items.filter(decision="pending")
        return items
