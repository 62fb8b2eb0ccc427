"""The pickers: a name, the rights that let a user search it (any one), and its search.

A search runs inside the request's tenant scope (the scoped managers never return another tenant's row), asks a
constant number of queries whatever the tenant's size and returns at most ``LIMIT`` options.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from permissions import engine
from permissions.vocabulary import Action

#: The most options one search returns (the widget says "keep typing" beyond).
LIMIT = 10
#: The longest text searched (longer input is cut, never an error: the box is typed into key by key).
MAX_QUERY = 100


@dataclass(frozen=True)
class Option:
    """One answer: ``value`` is what the form posts (an e-mail, an id, a name), ``label`` what is read."""

    value: str
    label: str
    detail: str = ""

    def as_json(self) -> dict:
        return {"value": self.value, "label": self.label, "detail": self.detail}


@dataclass(frozen=True)
class Picker:
    """``search(request, text, params) -> [Option]``; ``rights``: (module, action) pairs, any one suffices."""

    name: str
    rights: tuple[tuple[str, Action], ...]
    search: Callable[[object, str, dict], list[Option]]
    params: tuple[str, ...] = ()

    def allows(self, user) -> bool:
        return any(engine.can(user, action, module) for module, action in self.rights)


PICKERS: dict[str, Picker] = {}


def register(picker: Picker) -> Picker:
    PICKERS[picker.name] = picker
    return picker


def get(name: str) -> Picker | None:
    from portal.pickers import catalogue  # noqa: F401 (registers the pickers)

    return PICKERS.get(name)
