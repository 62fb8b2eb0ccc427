"""FC-2 for forms and for every save: one form mixin (control characters, column lengths from the models)
used by every form of the portal, and column limits checked at every save whatever the path."""

import importlib
import inspect

import pytest
from django import forms
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models

from portal.columns import check_columns
from portal.forms import CleanInputMixin

PROJECT_APPS = (
    *("accounts", "permissions", "console", "reviews", "audit", "vault", "workspace", "accessrequests", "api"),
    "intelligence",
)
FORM_MODULES = [
    "accounts.forms",
    "accessrequests.forms",
    "audit.filters",
    "console.forms.grants",
    "console.forms.groups",
    "console.forms.modules",
    "console.forms.roles",
    "console.forms.users",
    "console.views.approvals",
    "reviews.forms",
    "api.views.keys_admin",
    "intelligence.forms",
]


def _project_forms():
    found = []
    for name in FORM_MODULES:
        module = importlib.import_module(name)
        for _name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, forms.BaseForm) and value.__module__ == name:
                found.append(value)
    return found


def test_every_form_of_the_portal_uses_the_edge_mixin():
    found = _project_forms()
    assert len(found) >= 25, len(found)
    assert [f.__name__ for f in found if not issubclass(f, CleanInputMixin)] == []


def test_form_text_fields_refuse_control_characters_and_take_their_column_length():
    from console.forms.groups import GroupForm
    from console.forms.modules import ResourceForm
    from permissions.models import Group, Resource

    form = GroupForm(data={"name": "a\x1bb", "kind": "team"})
    assert not form.is_valid() and "name" in form.errors
    limit = Group._meta.get_field("name").max_length
    assert not GroupForm(data={"name": "x" * (limit + 1), "kind": "team"}).is_valid()
    assert GroupForm(data={"name": "x" * limit, "kind": "team"}).is_valid()
    title = Resource._meta.get_field("title").max_length
    form = ResourceForm(data={"title": "t" * (title + 1), "attributes": ""})
    assert not form.is_valid() and "title" in form.errors
    assert form.fields["title"].widget.attrs["maxlength"] == str(title)
    assert ResourceForm(data={"title": "ok", "description": "two\nlines\tand a tab", "attributes": ""}).is_valid()


def _text_columns():
    for model in apps.get_models():
        if model._meta.app_label not in PROJECT_APPS:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField) and field.max_length and not field.choices:
                yield model, field


def test_every_text_column_refuses_an_over_long_value_at_save():
    columns = list(_text_columns())
    assert len(columns) >= 30, len(columns)
    for model, field in columns:
        instance = model()
        setattr(instance, field.attname, "x" * (field.max_length + 1))
        with pytest.raises(ValidationError) as refused:
            check_columns(model, instance)
        assert field.name in refused.value.error_dict, (model, field.name)
        setattr(instance, field.attname, "a\x00b")
        with pytest.raises(ValidationError):
            check_columns(model, instance)


@pytest.mark.django_db
def test_an_over_long_save_writes_nothing(acme):
    from accounts.scoping import tenant_scope
    from permissions.models import Group

    with tenant_scope(acme), pytest.raises(ValidationError):
        Group.objects.create(auth_group=Group.new_auth_group(), tenant=acme, name="g" * 151)
    with tenant_scope(acme):
        assert not Group.objects.filter(name__startswith="ggg").exists()
