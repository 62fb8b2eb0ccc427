"""Issue 19, the module × action grids (portal.grid): the role matrix's cells and an API key's scope grid, where
only the scopes the user holds are offered and a cell that does not apply to its module reads "not applicable"."""

from accounts.scoping import tenant_scope
from api.views.keys_admin import KeyForm
from console.forms.roles import cell_box
from permissions.models import Module
from permissions.vocabulary import BUSINESS_ACTIONS, SYSTEM_ACTIONS, Action, mask_of
from portal.grid import build_grid, scope, scopes_of
from tests.console.conftest import role_with
from tests.factories import UserFactory


def modules():
    """Two modules, unsaved: audit (view, export) and products (the business actions)."""
    return [
        Module(key="audit", kind="system", actions=mask_of(SYSTEM_ACTIONS["audit"])),
        Module(key="products", kind="business", actions=mask_of(BUSINESS_ACTIONS)),
    ]


def states(grid) -> dict[str, str]:
    return {scope(row.module.key, cell.action): cell.state for row in grid.rows for cell in row.cells}


def test_a_role_matrix_grid_has_a_cell_per_action_and_marks_what_does_not_apply():
    matrix = {"audit": mask_of(["view"]), "products": mask_of(["view", "export"])}
    grid = build_grid(modules(), checked=scopes_of(matrix), box=cell_box)
    assert [column.action for column in grid.columns] == list(Action)
    assert all(column.offered for column in grid.columns if column.action not in (Action.REVIEW, Action.APPROVE))
    assert not any(column.offered for column in grid.columns if column.action in (Action.REVIEW, Action.APPROVE))
    found = states(grid)
    assert found["audit:view"] == "yes" and found["audit:export"] == "no"
    assert found["audit:delete"] == found["audit:review"] == found["products:review"] == "na"
    assert found["products:view"] == found["products:export"] == "yes" and found["products:change"] == "no"
    assert "off" not in found.values() and not grid.has_unheld  # the role editor offers every applicable cell
    audit_view = grid.rows[0].cells[0]
    assert (audit_view.name, audit_view.value, audit_view.id) == ("cell:audit:view", "1", "grid-audit-view")
    assert not grid.rows[0].cells[2].offered  # audit: change does not apply, so it is no box


def test_only_offered_scopes_are_boxes_and_a_module_with_none_offered_has_no_row():
    offered = {"products:view", "products:export"}
    grid = build_grid(
        modules(), checked={"products:view", "products:change"}, offered=offered, box=cell_box, offered_rows_only=True
    )
    assert [row.module.key for row in grid.rows] == ["products"]
    found = states(grid)
    assert found["products:view"] == "yes" and found["products:export"] == "no"
    assert found["products:delete"] == "off"  # applies, not the reader's to give
    assert found["products:change"] == "yes"  # granted already, shown as a mark: not the reader's to change
    assert found["products:review"] == "na"
    assert {scope("products", c.action) for c in grid.rows[0].cells if c.offered} == offered
    assert [c.action for c in grid.columns if c.offered] == [Action.VIEW, Action.EXPORT]
    assert grid.has_unheld


def test_the_key_form_offers_only_the_scopes_the_user_holds(acme):
    role = role_with(acme, "Integrations", {"settings": ["view", "change"], "products": ["view", "export"]})
    user = UserFactory(tenant=acme, email="integrator@acme.example", role=role)
    with tenant_scope(acme):
        form = KeyForm(user=user)
        grid = form.scope_grid()
    assert [row.module.key for row in grid.rows] == ["products", "settings"]
    offered = {scope(row.module.key, c.action) for row in grid.rows for c in row.cells if c.offered}
    assert offered == {"products:view", "products:export", "settings:view", "settings:change"}
    assert offered == {value for value, _label in form.fields["scopes"].choices}
    found = states(grid)
    assert found["products:delete"] == "off" and found["settings:delete"] == "na"
    assert not any(cell.checked for row in grid.rows for cell in row.cells)  # a new key starts with nothing
    cell = grid.rows[0].cells[0]
    assert (cell.name, cell.value) == ("scopes", "products:view")


def test_a_posted_key_form_ticks_what_was_posted_and_never_what_is_not_offered(acme, acme_admin):
    with tenant_scope(acme):
        form = KeyForm(
            {"name": "ERP", "scopes": ["grants:view", "nosuch:view"], "rate_per_minute": 600}, user=acme_admin
        )
        assert not form.is_valid() and "scopes" in form.errors
        grid = form.scope_grid()
    ticked = {scope(row.module.key, c.action) for row in grid.rows for c in row.cells if c.checked}
    assert ticked == {"grants:view"}
