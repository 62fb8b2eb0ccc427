"""The lesson's questions as a form, and the required-lesson form (choices are the tenant's rows)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from permissions.models import Module, Role
from permissions.vocabulary import Action
from portal.forms import CleanInputMixin
from training.lessons import CHOICES, Lesson


class LessonForm(CleanInputMixin, forms.Form):
    """One radio list per question, and the attestation."""

    attest = forms.BooleanField(label=_("I have read this lesson and I will follow it."), required=False)

    def __init__(self, *args, lesson: Lesson, **kwargs):
        super().__init__(*args, **kwargs)
        self.lesson = lesson
        for index, question in enumerate(lesson.questions):
            self.fields[f"q{index}"] = forms.TypedChoiceField(
                label=question.text,
                choices=list(enumerate(question.choices)),
                coerce=int,
                widget=forms.RadioSelect,
                required=False,
                empty_value=None,
            )
        self.order_fields([*(f"q{i}" for i in range(len(lesson.questions))), "attest"])

    def answers(self) -> list[int | None]:
        """The chosen answers in question order (None for a question left out)."""
        return [self.cleaned_data.get(f"q{i}") for i in range(len(self.lesson.questions))]


class RequirementForm(CleanInputMixin, forms.Form):
    """A lesson required before a role, or before any of some actions on a module."""

    lesson = forms.ChoiceField(label=_("Lesson"), choices=CHOICES)
    role = forms.ModelChoiceField(label=_("Before the role"), queryset=Role.objects.none(), required=False)
    module = forms.ModelChoiceField(label=_("or before, on module"), queryset=Module.objects.none(), required=False)
    actions = forms.MultipleChoiceField(
        label=_("any of these actions"), choices=Action.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = Role.objects.order_by("name")
        self.fields["module"].queryset = Module.objects.order_by("kind", "key")
