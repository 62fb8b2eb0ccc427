"""Security lessons: the list (with the reader's completion dates), a lesson and its questions; and, in the
console, the lessons the tenant requires before rights. Every change through ``training.services``."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.lookups import get_in_tenant_or_404
from console.views.common import show_refusal
from permissions import engine
from permissions.services.errors import AccessRefused
from permissions.views import login_only, requires
from permissions.vocabulary import Action, SystemModule, actions_of
from portal import confirmation
from training import lessons
from training import services as training_services
from training.forms import LessonForm, RequirementForm
from training.models import LessonCompletion, TrainingRequirement

GRANTS = SystemModule.GRANTS


@require_GET
@login_only
def lesson_list(request):
    done = {c.lesson: c for c in LessonCompletion.objects.filter(user=request.user)}
    groups = [
        (label, [(lesson, done.get(lesson.key)) for lesson in lessons.LESSONS if lesson.audience == audience])
        for audience, label in lessons.AUDIENCES.items()
    ]
    return render(request, "training/lesson_list.html", {"groups": groups})


@require_http_methods(["GET", "POST"])
@login_only
def lesson(request, lesson_key: str):
    """A lesson (code, the same in every tenant: an unknown key is 404), its questions, and the reader's dates."""
    key = lesson_key
    found = lessons.get(key)
    if found is None:
        raise Http404
    form = LessonForm(request.POST or None, lesson=found)
    wrong = []
    if request.method == "POST" and form.is_valid():
        wrong = [index + 1 for index in training_services.wrong_answers(found, form.answers())]
        try:
            training_services.complete_lesson(request.user, key, form.answers(), attested=form.cleaned_data["attest"])
        except AccessRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("Lesson completed: %(title)s.") % {"title": found.title})
            return redirect("training:lessons")
    completion = LessonCompletion.objects.filter(user=request.user, lesson=key).first()
    context = {"lesson": found, "form": form, "wrong": wrong, "completion": completion}
    return render(request, "training/lesson.html", context)


@require_GET
@requires(GRANTS, Action.VIEW)
def requirement_list(request):
    rows = TrainingRequirement.objects.select_related("role", "module").order_by("lesson", "id")
    for row in rows:
        row.title = lessons.get(row.lesson).title if lessons.get(row.lesson) else row.lesson
        row.action_labels = [str(a.label) for a in actions_of(row.actions)]
    completions = LessonCompletion.objects.select_related("user").order_by("user__email", "lesson")
    for completion in completions:
        completion.title = lessons.get(completion.lesson).title if lessons.get(completion.lesson) else completion.lesson
    context = {
        "rows": rows,
        "completions": completions,
        "can_create": engine.can(request.user, Action.CREATE, GRANTS),
    }
    return render(request, "training/requirements.html", context)


@require_http_methods(["GET", "POST"])
@requires(GRANTS, Action.CREATE)
def create_requirement(request):
    form = RequirementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            training_services.create_requirement(actor=request.user, tenant=request.tenant, **form.cleaned_data)
        except AccessRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("The lesson is now required."))
            return redirect("training:requirements")
    return render(request, "training/requirement_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@requires(GRANTS, Action.DELETE)
def delete_requirement(request, requirement_id: int):
    """POST removes the requirement; GET (after the same lookup: another tenant's id is 404) goes back to the list."""
    requirement = get_in_tenant_or_404(
        TrainingRequirement.objects.select_related("role", "module"), request, pk=requirement_id
    )
    if request.method == "GET":
        return redirect("training:requirements")
    if not confirmation.confirmed(request):
        return confirmation.ask(
            request,
            title=_("Stop requiring this lesson"),
            consequences=[
                _("The lesson is no longer checked before the role or the right it was required for."),
                _("Completions already recorded are kept."),
            ],
            button=_("Stop requiring it"),
            cancel=reverse("training:requirements"),
        )
    try:
        training_services.delete_requirement(requirement, actor=request.user)
    except AccessRefused as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("The lesson is no longer required."))
    return redirect("training:requirements")
