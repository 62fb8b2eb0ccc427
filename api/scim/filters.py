"""SCIM filters (RFC 7644 §3.4.2.2) into tenant-scoped Django queries.

The grammar is scim2-models' (``scim2_models.ScimFilter``: the RFC's ABNF with its errata, JSON string
escapes, a nesting limit of 32, Entra's ``emails[type eq "work"].value eq "…"``); this module turns its tree
into a ``Q`` over the resource's own model, whose manager is tenant-scoped (a multi-valued attribute held in
another table is an ``Exists`` over that table's scoped manager). Every operator (eq ne co sw ew pr gt ge lt
le), ``and``/``or``/``not`` and grouping are served on the attributes a resource declares; anything else —
a syntax error, an unknown attribute, an operator an attribute cannot take, a value of the wrong type, a
filter longer than ``MAX_LENGTH`` — is ``InvalidFilter`` (a 400 ``invalidFilter``), never a server error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Left, Right, StrIndex
from django.db.models.lookups import Exact, GreaterThan
from django.utils.dateparse import parse_datetime
from scim2_models import ScimFilter
from scim2_models.exceptions import SCIMException
from scim2_models.path import (
    AttrPath,
    Comparison,
    FilterVisitor,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
)

from api.input import as_ascii_id, text_problem

MAX_LENGTH = 1000
ALL = Q(pk__isnull=False)
NONE = Q(pk__isnull=True)
_LOOKUPS = {"eq": "iexact", "co": "icontains", "sw": "istartswith", "ew": "iendswith"}
_EXACT_LOOKUPS = {"eq": "exact", "co": "contains", "sw": "startswith", "ew": "endswith"}
_ORDER = {"gt": "gt", "ge": "gte", "lt": "lt", "le": "lte"}


class InvalidFilter(ValueError):
    """The filter cannot be served (syntax, attribute, operator or value)."""


@dataclass(frozen=True)
class Attr:
    """One filterable attribute: its model field and kind (string, exact, boolean, id, datetime, constant)."""

    field: str = ""
    kind: str = "string"
    value: object = None  # a constant's value (emails.type is always "work")
    normalise: Callable[[str], str] | None = None  # eq on a field kept normalised (e-mail addresses)


@dataclass(frozen=True)
class Multi:
    """A multi-valued attribute: its sub-attributes, and the related model and link when held in another
    table (a group's members); ``None`` when the values are columns of the resource itself."""

    attributes: dict[str, Attr]
    related: Callable | None = None  # () -> the related model's scoped queryset
    link: str = ""  # the related model's field pointing at the resource
    value: str = "value"  # the sub-attribute a bare ``members eq "…"`` compares
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Resource:
    urn: str
    attributes: dict[str, Attr | Multi]  # lower-case names; "name.givenname" for a sub-attribute
    login: Callable[[str, str], Q] | None = None  # userName: (lookup, value) -> Q


def to_q(text: str, resource: Resource) -> Q:
    """The ``Q`` selecting what ``text`` selects, or InvalidFilter."""
    if len(text) > MAX_LENGTH:
        raise InvalidFilter(f"the filter is longer than {MAX_LENGTH} characters")
    problem = text_problem(text)
    if problem:
        raise InvalidFilter(problem)
    try:
        tree = ScimFilter(text).ast
    except SCIMException as error:
        raise InvalidFilter(f"{error.detail}: {text[:100]}") from None
    except (ValueError, TypeError, RecursionError):  # the library promises its own exception; never a 500
        raise InvalidFilter(f"malformed filter: {text[:100]}") from None
    return _Compiler(resource).visit(tree)


class _Compiler(FilterVisitor[Q]):
    def __init__(self, resource: Resource, scope: Multi | None = None):
        self.resource = resource
        self.scope = scope  # inside a value path: its sub-attributes

    def _attribute(self, path: AttrPath) -> Attr | Multi:
        if path.uri is not None and path.uri.lower() != self.resource.urn.lower():
            raise InvalidFilter(f"cannot filter on {path}")
        name = path.attr.lower() + (f".{path.sub_attr.lower()}" if path.sub_attr else "")
        table = self.scope.attributes if self.scope is not None else self.resource.attributes
        found = table.get(name)
        if found is None and path.sub_attr and self.scope is None:  # members.value: a sub-attribute of a Multi
            multi = table.get(path.attr.lower())
            found = multi.attributes.get(path.sub_attr.lower()) if isinstance(multi, Multi) else None
        if isinstance(found, Multi) and not path.sub_attr:  # "emails co x" compares emails.value
            found = found.attributes.get(found.value)
        if found is None or isinstance(found, Multi):
            raise InvalidFilter(f"cannot filter on {path}")
        return found

    def _within(self, path: AttrPath, q: Q) -> Q:
        """``q`` (over a multi-valued attribute's related rows) as a condition on the resource."""
        multi = self.resource.attributes.get(path.attr.lower()) if self.scope is None else None
        if isinstance(multi, Multi) and multi.related is not None:
            return Exists(multi.related().filter(q, **{multi.link: OuterRef("pk")}))
        return q

    def visit_comparison(self, node: Comparison) -> Q:
        attribute = self._attribute(node.attr_path)
        op = str(node.op)
        if isinstance(node.value, str) and text_problem(node.value):
            raise InvalidFilter(text_problem(node.value))
        if op == "ne":
            return ~self._compare(attribute, "eq", node.value, node.attr_path)
        return self._compare(attribute, op, node.value, node.attr_path)

    def _compare(self, attribute: Attr, op: str, value, path: AttrPath) -> Q:
        if attribute.kind == "login":
            return self._within(path, self.resource.login(_string_lookup(op, value, path), value))
        return self._within(path, _COMPARE[attribute.kind](attribute, op, value, path))

    def visit_present(self, node: Present) -> Q:
        attribute = self._attribute(node.attr_path)
        if attribute.kind in ("string", "exact"):
            return self._within(node.attr_path, ~Q(**{attribute.field: ""}))
        if attribute.kind == "related":
            return self._within(node.attr_path, ALL)
        return ALL  # every user has an id, a login, an active flag and a creation time

    def visit_not(self, node: Not) -> Q:
        return ~self.visit(node.expr)

    def visit_logical_expr(self, node: LogicalExpr) -> Q:
        result = self.visit(node.terms[0])
        for term in node.terms[1:]:
            result = (result & self.visit(term)) if node.op == LogicalOperator.and_ else (result | self.visit(term))
        return result

    def visit_value_path(self, node: ValuePath) -> Q:
        if self.scope is not None or node.attr_path.uri not in (None, self.resource.urn):
            raise InvalidFilter(f"cannot filter on {node.attr_path}")
        multi = self.resource.attributes.get(node.attr_path.attr.lower())
        if not isinstance(multi, Multi):
            raise InvalidFilter(f"{node.attr_path} is not multi-valued")
        inner = _Compiler(self.resource, multi).visit(node.val_filter)
        if multi.related is None:
            return inner
        return Exists(multi.related().filter(inner, **{multi.link: OuterRef("pk")}))


def _string_lookup(op: str, value, path: AttrPath, exact: bool = False) -> str:
    if not isinstance(value, str):
        raise InvalidFilter(f"{path} is compared with a quoted string")
    if op in _ORDER:
        return _ORDER[op]
    return (_EXACT_LOOKUPS if exact else _LOOKUPS)[op]


def _string(attribute: Attr, op: str, value, path: AttrPath) -> Q:
    lookup = _string_lookup(op, value, path, exact=attribute.kind == "exact")
    if op == "eq" and attribute.normalise is not None:
        return Q(**{attribute.field: attribute.normalise(value)})
    if attribute.kind == "exact" and op in ("co", "sw", "ew"):
        return Q(_case_exact(attribute.field, op, value)) if value else ALL  # every text holds ""
    return Q(**{f"{attribute.field}__{lookup}": value})


def _case_exact(field: str, op: str, value: str):
    """co/sw/ew respecting case on every database (SQLite's LIKE ignores it): by position and substring."""
    if op == "co":
        return GreaterThan(StrIndex(F(field), Value(value)), 0)
    cut = (Left if op == "sw" else Right)(F(field), len(value))
    return Exact(cut, Value(value))


def _boolean(attribute: Attr, op: str, value, path: AttrPath) -> Q:
    if op != "eq" or not isinstance(value, bool):
        raise InvalidFilter(f"{path} takes eq, ne or pr with true or false")
    return Q(**{attribute.field: value})


def _identifier(attribute: Attr, op: str, value, path: AttrPath) -> Q:
    if op != "eq" or not isinstance(value, str):
        raise InvalidFilter(f'{path} takes eq, ne or pr with a quoted id ("123")')
    pk = as_ascii_id(value)
    return Q(**{attribute.field: pk}) if pk is not None else NONE


def _datetime(attribute: Attr, op: str, value, path: AttrPath) -> Q:
    moment = parse_datetime(value) if isinstance(value, str) else None
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise InvalidFilter(f"{path} is compared with a date and time with its offset (2026-01-31T12:00:00Z)")
    if op == "eq":
        return Q(**{attribute.field: moment})
    if op not in _ORDER:
        raise InvalidFilter(f"{path} takes eq, ne, gt, ge, lt, le or pr")
    return Q(**{f"{attribute.field}__{_ORDER[op]}": moment})


def _constant(attribute: Attr, op: str, value, path: AttrPath) -> Q:
    """A sub-attribute every value has alike (each user's one address is ``type`` "work", ``primary``)."""
    held = attribute.value
    if isinstance(held, bool):
        _boolean(attribute, op, value, path)
        return ALL if value == held else NONE
    lookup = _string_lookup(op, value, path)
    held, value = str(held).lower(), value.lower()
    tests = {
        "iexact": held == value,
        "icontains": value in held,
        "istartswith": held.startswith(value),
        "iendswith": held.endswith(value),
        "gt": held > value,
        "gte": held >= value,
        "lt": held < value,
        "lte": held <= value,
    }
    return ALL if tests[lookup] else NONE


_COMPARE = {
    "string": _string,
    "exact": _string,
    "boolean": _boolean,
    "id": _identifier,
    "related": _identifier,
    "datetime": _datetime,
    "constant": _constant,
}
