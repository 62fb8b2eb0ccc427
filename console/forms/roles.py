from django import forms
from django.utils.translation import gettext_lazy as _

from permissions.models import Role
from permissions.vocabulary import Action
from portal.forms import CleanInputMixin, column


class RoleNameForm(CleanInputMixin, forms.Form):
    columns = {"name": column(Role, "name")}
    name = forms.CharField(label=_("Name"))
    name_zh = forms.CharField(label=_("Name in Chinese"), required=False, max_length=100)


class ReasonOptionalForm(CleanInputMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


def cell_name(module_key: str, action) -> str:
    """The checkbox name of one matrix cell."""
    return f"cell:{module_key}:{Action(action).value}"


def cell_box(module_key: str, action) -> tuple[str, str]:
    """The (name, value) of one matrix cell's checkbox (``portal.grid.build_grid``'s ``box``)."""
    return cell_name(module_key, action), "1"


def matrix_from_post(data, modules) -> dict[str, list[str]]:
    """The matrix a POST asks for: only applicable (module, action) cells of the tenant's modules count."""
    matrix: dict[str, list[str]] = {}
    for module in modules:
        for action in module.applicable_actions:
            if data.get(cell_name(module.key, action)):
                matrix.setdefault(module.key, []).append(action.value)
    return matrix
