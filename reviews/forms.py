"""Forms of the review screens; every choice is restricted to the user's tenant (AZ-2)."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from permissions.models import BuiltinRole, Group, Module, Role
from portal.forms import CleanInputMixin
from portal.pickers.widgets import PickerSelect, PickerSelectMultiple, PickerTextInput
from reviews.models import Decision, ItemKind, Recommendation, ReviewerKind, ReviewPolicy

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
        self.fields["scope_modules"].choices = [(m.pk, m.display_name) for m in Module.objects.order_by("kind", "key")]
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


#: The evidence flags a reviewer filters on (docs/reviews.md, "The reviewer's workspace").
FLAGS = [
    ("", _("Any")),
    ("flagged", _("Any flag")),
    ("unused", _("Unused for 90 days")),
    ("unlike_peers", _("Unlike their peers")),
    ("sod", _("Separation-of-duties conflict")),
]
STATUSES = [("", _("Any")), ("undecided", _("Undecided")), ("decided", _("Decided"))]
#: "Unlike peers": held by fewer than 30% of the user's peers (``evidence.rare``; items opened before that key
#: was stored carry only the percentage, which is compared instead).
UNLIKE_PEERS = Q(evidence__rare=True) | (
    ~Q(evidence__has_key="rare") & Q(evidence__peer_percent__gte=0, evidence__peer_percent__lt=30)
)


class ItemFilter(CleanInputMixin, forms.Form):
    """The reviewer's filter bar: every field optional; an invalid value filters nothing out (never an error)."""

    campaign = forms.IntegerField(required=False, widget=forms.HiddenInput)
    q = forms.CharField(
        label=_("Person"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name or e-mail")}),
    )
    recommendation = forms.ChoiceField(
        label=_("Recommendation"), required=False, choices=[("", _("Any"))] + list(Recommendation.choices)
    )
    flag = forms.ChoiceField(label=_("Flag"), required=False, choices=FLAGS)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("Any"))] + list(ItemKind.choices))
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUSES)

    FIELDS = ("q", "recommendation", "flag", "kind", "status")

    def apply(self, items):
        """``items`` narrowed to what the filter asks (an invalid filter narrows nothing)."""
        if not self.is_valid():
            return items
        data = self.cleaned_data
        if data["q"].strip():
            text = data["q"].strip()
            items = items.filter(Q(user__email__icontains=text) | Q(user__full_name__icontains=text))
        if data["recommendation"]:
            items = items.filter(recommendation=data["recommendation"])
        flag = data["flag"]
        if flag == "flagged":
            items = items.filter(flagged=True)
        elif flag == "unused":
            items = items.filter(unused=True)
        elif flag == "unlike_peers":
            items = items.filter(UNLIKE_PEERS)
        elif flag == "sod":
            items = items.filter(evidence__has_key="sod")
        if data["kind"]:
            items = items.filter(kind=data["kind"])
        if data["status"] == "undecided":
            items = items.filter(decision=Decision.PENDING)
        elif data["status"] == "decided":
            items = items.exclude(decision=Decision.PENDING)
        return items

    def active(self) -> list[tuple[str, str]]:
        """(label, shown value) of each filter in use, for the bulk confirmation's "matching the filter"."""
        if not self.is_valid():
            return []
        out = []
        for name in self.FIELDS:
            value = self.cleaned_data.get(name)
            if not value:
                continue
            field = self.fields[name]
            shown = dict(field.choices).get(value, value) if hasattr(field, "choices") else value
            out.append((str(field.label), str(shown)))
        return out

    def params(self) -> list[tuple[str, str]]:
        """The filter as (name, value) pairs to carry in a form or a link (only the fields in use)."""
        if not self.is_valid():
            return []
        return [(name, str(self.cleaned_data[name])) for name in self.FIELDS if self.cleaned_data.get(name)]


class DelegationForm(CleanInputMixin, forms.Form):
    to = forms.EmailField(
        label=_("Delegate to (e-mail)"), widget=PickerTextInput("people", attrs={"inputmode": "email"})
    )
    starts = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ends = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), max_length=500)
