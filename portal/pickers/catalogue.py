"""The pickers of the console and the review screens. Each search is one query (two for attribute names), inside
the tenant scope, limited to ``LIMIT`` rows; a resource is searched only among those the user may view."""

from __future__ import annotations

from django.db.models import Q

from accounts.models import User
from api.input import as_ascii_id
from permissions.models import Group, Module, Resource
from permissions.vocabulary import Action, SystemModule
from portal.pickers.registry import LIMIT, Option, Picker, register

A, S = Action, SystemModule

#: Who chooses people by e-mail: grants, group and organisation members, module and resource owners, delegates.
PEOPLE_RIGHTS = (
    (S.GRANTS, A.CREATE),
    (S.GROUPS, A.VIEW),
    (S.MODULES, A.CHANGE),
    (S.REVIEWS, A.REVIEW),
    (S.USERS, A.CHANGE),  # the dormancy exceptions
)
#: Who chooses reviewers (and the groups a review policy covers): the review policies' authors.
REVIEW_POLICY_RIGHTS = ((S.REVIEWS, A.CREATE), (S.REVIEWS, A.CHANGE))


def _people(text: str):
    users = User.objects.filter(is_active=True)
    if text:
        users = users.filter(Q(email__icontains=text) | Q(full_name__icontains=text))
    return users.order_by("email").values_list("pk", "email", "full_name")[:LIMIT]


def people_by_email(request, text: str, params: dict) -> list[Option]:
    return [Option(email, name or email, email if name else "") for _pk, email, name in _people(text)]


def people_by_id(request, text: str, params: dict) -> list[Option]:
    return [Option(str(pk), email, name) for pk, email, name in _people(text)]


def groups(request, text: str, params: dict) -> list[Option]:
    rows = Group.objects.all()
    if text:
        rows = rows.filter(Q(name__icontains=text) | Q(description__icontains=text))
    return [Option(str(pk), name) for pk, name in rows.order_by("name").values_list("pk", "name")[:LIMIT]]


def resources(request, text: str, params: dict) -> list[Option]:
    """Resources the user may view (the engine's read door), of one module when ``module`` names one."""
    rows = Resource.objects.restrict(request.user, Action.VIEW)
    module_id = as_ascii_id(params.get("module"))
    if module_id is not None:
        rows = rows.filter(module_id=module_id)
    if text:
        rows = rows.filter(title__icontains=text)
    rows = rows.select_related("module").order_by("title", "pk")[:LIMIT]
    return [Option(str(row.pk), row.title, str(row.module.display_name)) for row in rows]


#: How many of a module's resources are read for the names of their attributes (one bounded query).
ATTRIBUTE_SAMPLE = 200


def attribute_names(request, text: str, params: dict) -> list[Option]:
    """Names of a module's attributes: its sensitive ones and those of its (visible) resources."""
    module_id = as_ascii_id(params.get("module"))
    module = Module.objects.filter(pk=module_id).first() if module_id is not None else None
    if module is None:
        return []
    names = set(module.sensitive_attributes or ())
    sample = Resource.objects.restrict(request.user, Action.VIEW).filter(module=module).order_by("-pk")
    for attributes in sample.values_list("attributes", flat=True)[:ATTRIBUTE_SAMPLE]:
        names.update(attributes or {})
    wanted = text.lower()
    return [Option(name, name) for name in sorted(names) if wanted in name.lower()][:LIMIT]


register(Picker("people", PEOPLE_RIGHTS, people_by_email))
register(Picker("reviewers", REVIEW_POLICY_RIGHTS, people_by_id))
register(Picker("groups", ((S.GRANTS, A.CREATE), (S.GROUPS, A.VIEW), *REVIEW_POLICY_RIGHTS), groups))
register(Picker("resources", ((S.GRANTS, A.CREATE),), resources, params=("module",)))
register(Picker("attributes", ((S.MODULES, A.CREATE), (S.MODULES, A.CHANGE)), attribute_names, params=("module",)))
