"""Forms of the review screens; every choice is restricted to the user's tenant (AZ-2)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from permissions.models import BuiltinRole, Group, Module, Role
from portal.forms import CleanInputMixin
from portal.pickers.widgets import PickerSelect, PickerSelectMultiple, PickerTextInput
from reviews.models import Recommendation, ReviewerKind, ReviewPolicy

LATER_STAGES = (2, 3)


def _stage_fields(n: int) -> dict:
    """The fields of stage ``n`` (2 or 3): empty "reviewers" means the policy has no such stage."""
    kinds = [("", _("No stage %(n)s") % {"n": n})] + [
        (value, label) for value, label in ReviewerKind.choices if value != ReviewerKind.SELF
    ]
    return {
        f"stage{n}_kind": forms.ChoiceField(
            label=_("Stage %(n)s: reviewers") % {"n": n}, choices=kinds, required=False
        ),
        f"stage{n}_reviewers": forms.MultipleChoiceField(
            label=_("Stage %(n)s: chosen reviewers") % {"n": n},
            required=False,
            widget=PickerSelectMultiple("reviewers"),
        ),
        f"stage{n}_fallback": forms.ChoiceField(
            label=_("Stage %(n)s: fallback reviewer") % {"n": n}, required=False, widget=PickerSelect("reviewers")
        ),
        # The range (3 to 90 days) is the service's to check, with its message.
        f"stage{n}_days": forms.IntegerField(label=_("Stage %(n)s: duration (days)") % {"n": n}, required=False),
    }


class PolicyForm(CleanInputMixin, forms.ModelForm):
    scope_roles = forms.MultipleChoiceField(label=_("Roles"), required=False)
    scope_groups = forms.MultipleChoiceField(label=_("Groups"), required=False, widget=PickerSelectMultiple("groups"))
    scope_modules = forms.MultipleChoiceField(label=_("Modules"), required=False)
    reviewers = forms.MultipleChoiceField(
        label=_("Chosen reviewers"), required=False, widget=PickerSelectMultiple("reviewers")
    )
    fallback = forms.ChoiceField(label=_("Fallback reviewer"), widget=PickerSelect("reviewers"))

    class Meta:
        model = ReviewPolicy
        fields = [
            "name",
            "include_roles",
            "include_grants",
            "include_memberships",
            "include_group_grants",
            "include_matrices",
            "include_organisations",
            "include_sharing",
            "scope_mode",
            "scope_roles",
            "scope_groups",
            "scope_modules",
            "cadence",
            "start_date",
            "duration_days",
            "reviewer_kind",
            "reviewers",
            "escalate_after_days",
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
        self.fields["escalate_after_days"].required = False  # empty: never
        self._add_stages(users)
        self._add_role_owners(users)
        order = list(self.Meta.fields)
        at = order.index("reviewers") + 1
        self.order_fields(order[:at] + ["fallback"] + self._stage_names + order[at:])

    def _add_stages(self, users) -> None:
        stages = list(self.instance.later_stages or []) if self.instance.pk else []
        self._stage_names = []
        for n in LATER_STAGES:
            fields = _stage_fields(n)
            fields[f"stage{n}_reviewers"].choices = [(u.pk, u.email) for u in users]
            fields[f"stage{n}_fallback"].choices = [("", "—")] + [(u.pk, u.email) for u in users]
            if len(stages) >= n - 1:
                spec = stages[n - 2]
                initial = [
                    spec["reviewer_kind"],
                    spec.get("reviewers", []),
                    spec.get("fallback"),
                    spec["duration_days"],
                ]
                for field, value in zip(fields.values(), initial, strict=True):
                    field.initial = value
            self.fields.update(fields)
            self._stage_names += list(fields)

    def _add_role_owners(self, users) -> None:
        """One "owner" choice per role but Administrator: who reviews its matrix for "owners" stages."""
        owners = self.instance.role_owners or {} if self.instance.pk else {}
        for role in Role.objects.all():
            if role.builtin and role.key == BuiltinRole.ADMINISTRATOR:
                continue
            field = forms.ChoiceField(
                label=_("Owner of the role %(role)s") % {"role": role.display_name},
                required=False,
                choices=[("", "—")] + [(u.pk, u.email) for u in users],
                widget=PickerSelect("reviewers"),
            )
            field.initial = owners.get(str(role.pk))
            self.fields[f"role_owner_{role.pk}"] = field

    def _later_stages(self, data: dict) -> list[dict]:
        stages = []
        for n in LATER_STAGES:
            kind = data.pop(f"stage{n}_kind", "")
            reviewers = [int(v) for v in data.pop(f"stage{n}_reviewers", None) or []]
            fallback, days = data.pop(f"stage{n}_fallback", ""), data.pop(f"stage{n}_days", None)
            if kind:
                stages.append(
                    {
                        "reviewer_kind": kind,
                        "reviewers": reviewers,
                        "fallback": int(fallback) if fallback else None,
                        "duration_days": days or 0,
                    }
                )
        return stages

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        for key in ("scope_roles", "scope_groups", "scope_modules", "reviewers"):
            data[key] = [int(v) for v in data.get(key) or []]
        data["fallback_reviewer"] = User.objects.filter(pk=int(data.pop("fallback"))).first()
        data["escalate_after_days"] = data.get("escalate_after_days") or 0
        data["later_stages"] = self._later_stages(data)
        data["role_owners"] = {
            key.removeprefix("role_owner_"): int(data.pop(key))
            for key in list(data)
            if key.startswith("role_owner_") and data[key]
        }
        for key in [k for k in data if k.startswith("role_owner_")]:
            data.pop(key)
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


class DelegationForm(CleanInputMixin, forms.Form):
    to = forms.EmailField(
        label=_("Delegate to (e-mail)"), widget=PickerTextInput("people", attrs={"inputmode": "email"})
    )
    starts = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ends = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), max_length=500)
