"""Module × action grids of checkboxes and marks: the role matrix (read and edit) and an API key's scopes.

One builder for both screens, so they agree on what a cell is: a (module, action) pair that either does not
apply to the module, or applies and is offered to the reader (a box to tick), or applies but is not theirs to
give. Which cells are ticked and which are offered is decided by the caller (the engine, a role's matrix);
``templates/portal/_matrix_grid.html`` renders what it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from permissions.vocabulary import Action, actions_of

if TYPE_CHECKING:
    from permissions.models import Module


def scope(module_key: str, action) -> str:
    """One (module, action) pair as one token, ``"products:view"`` (an API key's scope, a grid cell's key)."""
    return f"{module_key}:{Action(action).value}"


def scopes_of(matrix: dict[str, int]) -> set[str]:
    """The scopes of a matrix of masks (module key → actions mask)."""
    return {scope(key, action) for key, mask in matrix.items() for action in actions_of(mask)}


@dataclass(frozen=True)
class Cell:
    """One (module, action) of a grid; ``name``/``value`` are the checkbox's, ``id`` its element id."""

    action: Action
    applicable: bool
    offered: bool = False
    checked: bool = False
    name: str = ""
    value: str = ""
    id: str = ""

    @property
    def state(self) -> str:
        """How the cell reads: ``yes`` (granted), ``no`` (not granted), ``na`` (not applicable), ``off``
        (applies, but the reader does not hold it)."""
        if not self.applicable:
            return "na"
        if self.checked:
            return "yes"
        return "no" if self.offered else "off"


@dataclass(frozen=True)
class Row:
    """One module and its cells, one per column of the grid."""

    module: Module
    cells: tuple[Cell, ...]

    @property
    def offered(self) -> bool:
        """Whether a box of this row can be ticked (then the row has a toggle)."""
        return any(cell.offered for cell in self.cells)


@dataclass(frozen=True)
class Column:
    """One action of the grid; ``offered``: whether a box of this column can be ticked."""

    action: Action
    offered: bool


@dataclass(frozen=True)
class Grid:
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]

    @property
    def has_unheld(self) -> bool:
        """Whether some cell applies but is not the reader's to give (the legend then explains that mark)."""
        return any(cell.state == "off" for row in self.rows for cell in row.cells)


def build_grid(
    modules: Iterable[Module],
    *,
    checked: Collection[str],
    box: Callable[[str, Action], tuple[str, str]],
    offered: Collection[str] | None = None,
    offered_rows_only: bool = False,
    actions: Iterable[Action] = tuple(Action),
) -> Grid:
    """The grid of ``modules`` × ``actions``.

    ``checked``: the scopes ticked (or granted); ``offered``: the scopes the reader may tick (None: every
    applicable one); ``box(module_key, action)``: the checkbox's (name, value); ``offered_rows_only``: leave out
    the modules of which nothing is offered.
    """
    actions = tuple(actions)
    rows = []
    for module in modules:
        cells = []
        for action in actions:
            token = scope(module.key, action)
            applicable = bool(module.actions & action.bit)
            name, value = box(module.key, action)
            cells.append(
                Cell(
                    action=action,
                    applicable=applicable,
                    offered=applicable and (offered is None or token in offered),
                    checked=applicable and token in checked,
                    name=name,
                    value=value,
                    id=f"grid-{module.key}-{action.value}",
                )
            )
        row = Row(module=module, cells=tuple(cells))
        if row.offered or not offered_rows_only:
            rows.append(row)
    columns = tuple(Column(action, any(row.cells[i].offered for row in rows)) for i, action in enumerate(actions))
    return Grid(columns=columns, rows=tuple(rows))
