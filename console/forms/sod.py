"""Forms of the separation-of-duties and required-lesson screens (choices are the request tenant's rows)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from permissions.models import Module, Role, SodRule
from permissions.vocabulary import Action
from portal.forms import CleanInputMixin, column


class SodRuleForm(CleanInputMixin, forms.Form):
    """A rule: two sides, each a role or actions on a module (holding any of them), a severity and a reason."""

    columns = {"name": column(SodRule, "name")}
    name = forms.CharField(label=_("Name"))
    severity = forms.ChoiceField(label=_("Severity"), choices=SodRule.Severity.choices, initial="high")
    reason = forms.CharField(label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
    allow_exceptions = forms.BooleanField(
        label=_("Allow exceptions (a justification and a second administrator's approval)"), required=False
    )
    first_role = forms.ModelChoiceField(label=_("First side: role"), queryset=Role.objects.none(), required=False)
    first_module = forms.ModelChoiceField(label=_("or module"), queryset=Module.objects.none(), required=False)
    first_actions = forms.MultipleChoiceField(
        label=_("any of these actions"), choices=Action.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    second_role = forms.ModelChoiceField(label=_("Second side: role"), queryset=Role.objects.none(), required=False)
    second_module = forms.ModelChoiceField(label=_("or module"), queryset=Module.objects.none(), required=False)
    second_actions = forms.MultipleChoiceField(
        label=_("any of these actions"), choices=Action.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for side in ("first", "second"):
            self.fields[f"{side}_role"].queryset = Role.objects.order_by("name")
            self.fields[f"{side}_module"].queryset = Module.objects.order_by("kind", "key")
