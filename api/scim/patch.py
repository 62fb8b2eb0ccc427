"""PATCH (RFC 7644 §3.5.2) applied to a resource's SCIM representation.

Every operation (``add``, ``replace``, ``remove``) and every path form: none (the value is an object of
attributes), ``attr``, ``attr.sub``, a URN-qualified attribute, ``attr[filter]`` and ``attr[filter].sub``
with any value filter (``members[value eq "7"]``, ``emails[type eq "work"].value``). Paths are parsed by
scim2-models' grammar (``scim2_models.Path``). The result is a new representation; the caller turns it
into changes through the same services as PUT, so what did not change writes nothing.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from scim2_models import Path
from scim2_models.exceptions import SCIMException
from scim2_models.path import AttrPath, Comparison, FilterVisitor, LogicalExpr, LogicalOperator, Not, Present, ValuePath

from api.scim.base import PATCH_OP, ScimError

MAX_OPERATIONS = 1000


@dataclass(frozen=True)
class Shape:
    """The attributes a resource has: canonical names by lower-case name, which are multi-valued, and the
    sub-attributes of the complex ones."""

    urn: str
    attributes: dict[str, str]
    multi: frozenset[str]
    subs: dict[str, dict[str, str]]
    ignored: tuple[str, ...] = ()  # extension URNs accepted and not kept (not advertised in /Schemas)
    #: Extensions some attributes of which are kept: URN → {lower-case name: name} (simple attributes). Their
    #: other attributes are accepted and not kept. The representation holds them under the URN.
    kept: dict[str, dict[str, str]] = field(default_factory=dict)

    def extension(self, uri: str | None) -> str | None:
        """The kept extension ``uri`` names (its canonical URN), or None."""
        if uri is None:
            return None
        return next((urn for urn in self.kept if urn.lower() == uri.lower()), None)

    def locate(self, path: AttrPath) -> tuple[str | None, str | None, str | None]:
        """(the kept extension's URN, or None for the resource's own schema; attribute; sub-attribute) in
        canonical case; the attribute is None for one accepted and not kept."""
        urn = self.extension(path.uri)
        if urn is None:
            return (None, *self.canonical(path))
        name = self.kept[urn].get(path.attr.lower())
        if name is not None and path.sub_attr:
            raise ScimError(400, f"no attribute {path}", "invalidPath")
        return urn, name, None

    def canonical(self, path: AttrPath) -> tuple[str | None, str | None]:
        """(attribute, sub-attribute) in canonical case; (None, None) for an ignored extension."""
        if path.uri is not None and path.uri.lower() != self.urn.lower():
            if path.uri.lower() in (u.lower() for u in self.ignored):
                return None, None
            raise ScimError(400, f"no attribute {path}", "invalidPath")
        name = self.attributes.get(path.attr.lower())
        if name is None:
            raise ScimError(400, f"no attribute {path}", "invalidPath")
        sub = None
        if path.sub_attr:
            sub = self.subs.get(name, {}).get(path.sub_attr.lower())
            if sub is None:
                raise ScimError(400, f"no attribute {path}", "invalidPath")
        return name, sub


def operations(body) -> list[dict]:
    """The operations of a PatchOp body, checked: ``op`` in any case, ``path`` a string when given."""
    if not isinstance(body, dict):
        raise ScimError(400, "The body is a JSON object.", "invalidSyntax")
    if PATCH_OP not in (body.get("schemas") or []):
        raise ScimError(400, f"A PATCH body names the schema {PATCH_OP}.", "invalidSyntax")
    ops = body.get("Operations")
    if not isinstance(ops, list) or not ops:
        raise ScimError(400, "Operations is a non-empty list.", "invalidSyntax")
    if len(ops) > MAX_OPERATIONS:
        raise ScimError(400, f"At most {MAX_OPERATIONS} operations in one PATCH.", "tooMany")
    result = []
    for op in ops:
        if not isinstance(op, dict) or str(op.get("op", "")).lower() not in ("add", "remove", "replace"):
            raise ScimError(400, "Each operation's op is add, remove or replace.", "invalidSyntax")
        path = op.get("path")
        if path is not None and not isinstance(path, str):
            raise ScimError(400, "path is a string.", "invalidPath")
        result.append({"op": op["op"].lower(), "path": (path or "").strip(), "value": op.get("value")})
    return result


def apply(resource: dict, ops: list[dict], shape: Shape) -> dict:
    """The representation after ``ops``; ScimError (invalidPath, noTarget, invalidValue) on what cannot apply."""
    result = copy.deepcopy(resource)
    for op in ops:
        if not op["path"]:
            _without_path(result, op, shape)
            continue
        urn = shape.extension(op["path"])
        if urn is not None:  # the path is a kept extension itself: its object of attributes
            _on_extension(result, op["op"], urn, op["value"], shape)
            continue
        try:
            node = Path(op["path"]).ast
        except SCIMException as error:
            raise ScimError(400, f"{error.detail}: {op['path'][:100]}", "invalidPath") from None
        except (ValueError, TypeError, RecursionError):
            raise ScimError(400, f"malformed path: {op['path'][:100]}", "invalidPath") from None
        if isinstance(node, AttrPath):
            urn, name, sub = shape.locate(node)
            if name is not None:
                _at(_holder(result, urn), op["op"], name, sub, op["value"], shape)
        elif isinstance(node, ValuePath):
            urn, name, _sub = shape.locate(node.attr_path)
            if name is not None and urn is not None:
                raise ScimError(400, f"{name} is not multi-valued", "invalidPath")
            if name is not None:
                _selected(result, op, name, node, shape)
        else:
            raise ScimError(400, f"unsupported path {op['path'][:100]}", "invalidPath")
    return result


def _without_path(result: dict, op: dict, shape: Shape) -> None:
    if op["op"] == "remove":
        raise ScimError(400, "remove needs a path", "noTarget")
    if not isinstance(op["value"], dict):
        raise ScimError(400, "Without a path, the value is an object of attributes.", "invalidValue")
    for key, value in op["value"].items():
        if key.lower() in (u.lower() for u in shape.ignored):
            continue
        if key.lower() == shape.urn.lower() and isinstance(value, dict):
            _without_path(result, {**op, "value": value}, shape)
            continue
        urn = shape.extension(key)
        if urn is not None:  # {"urn:…:enterprise:2.0:User": {"organization": "Initech", "department": …}}
            _on_extension(result, op["op"], urn, value, shape)
            continue
        try:
            path = Path(key).ast
        except (SCIMException, ValueError, TypeError):
            raise ScimError(400, f"no attribute {key[:100]}", "invalidPath") from None
        if not isinstance(path, AttrPath):
            raise ScimError(400, f"no attribute {key[:100]}", "invalidPath")
        urn, name, sub = shape.locate(path)
        if name is not None:
            _at(_holder(result, urn), op["op"], name, sub, value, shape)


def _on_extension(result: dict, op: str, urn: str, value, shape: Shape) -> None:
    """``op`` on a kept extension as a whole: ``remove`` drops every attribute of it; ``add`` and ``replace``
    set the kept attributes the value names, leaving the others as they are (RFC 7644 §3.5.2.3)."""
    if op == "remove":
        result.pop(urn, None)
        return
    if not isinstance(value, dict):
        raise ScimError(400, f"{urn} is an object of attributes", "invalidValue")
    for sub_key, sub_value in value.items():
        name = shape.kept[urn].get(str(sub_key).lower())
        if name is not None:
            _at(_holder(result, urn), op, name, None, sub_value, shape)


def _holder(result: dict, urn: str | None) -> dict:
    """Where an attribute lives in the representation: the resource itself, or its extension's object."""
    if urn is None:
        return result
    if not isinstance(result.get(urn), dict):
        result[urn] = {}
    return result[urn]


def _at(result: dict, op: str, name: str, sub: str | None, value, shape: Shape) -> None:
    """``op`` on ``name`` or ``name.sub`` (no value filter)."""
    multi = name in shape.multi
    if op == "remove":
        if sub is None and multi and isinstance(value, list) and value:  # Entra: remove these members
            gone = {_key(item) for item in value}
            result[name] = [item for item in result.get(name) or [] if _key(item) not in gone]
        elif sub is None:
            result.pop(name, None)
        elif multi:
            for item in result.get(name) or []:
                item.pop(sub, None)
        elif isinstance(result.get(name), dict):
            result[name].pop(sub, None)
        return
    if sub is not None:
        if multi:
            for item in result.get(name) or []:
                item[sub] = value
        else:
            holder = result.get(name) if isinstance(result.get(name), dict) else {}
            holder[sub] = value
            result[name] = holder
        return
    if multi:
        items = value if isinstance(value, list) else [value]
        if any(not isinstance(item, dict) for item in items):
            raise ScimError(400, f"{name} holds objects", "invalidValue")
        if op == "replace":
            result[name] = items
        else:
            present = {_key(item) for item in result.get(name) or []}
            result[name] = (result.get(name) or []) + [i for i in items if _key(i) not in present]
    elif op == "add" and isinstance(value, dict) and isinstance(result.get(name), dict):
        result[name] = {**result[name], **value}
    else:
        result[name] = value


def _key(item) -> str:
    return str(item.get("value", "")).lower() if isinstance(item, dict) else str(item).lower()


def _selected(result: dict, op: dict, name: str, node: ValuePath, shape: Shape) -> None:
    """``op`` on the values of ``name`` that the filter selects (and on their ``sub`` when given)."""
    if name not in shape.multi:
        raise ScimError(400, f"{name} is not multi-valued", "invalidPath")
    sub = None
    if node.sub_attr:
        sub = shape.subs.get(name, {}).get(node.sub_attr.lower())
        if sub is None:
            raise ScimError(400, f"no attribute {name}.{node.sub_attr}", "invalidPath")
    items = result.get(name) or []
    chosen = [item for item in items if _Matcher(item).visit(node.val_filter)]
    if op["op"] == "remove":
        if sub is None:
            result[name] = [item for item in items if item not in chosen]
        else:
            for item in chosen:
                item.pop(sub, None)
        return
    if not chosen:
        if op["op"] == "replace" or sub is None:
            raise ScimError(400, f"no value of {name} matches the filter", "noTarget")
        chosen = [_made_from(node.val_filter)]  # add emails[type eq "work"].value: a new work address
        items.append(chosen[0])
        result[name] = items
    for item in chosen:
        if sub is not None:
            item[sub] = op["value"]
        elif isinstance(op["value"], dict):
            item.update(op["value"])
        else:
            raise ScimError(400, f"the value for {name}[…] is an object", "invalidValue")


def _made_from(node) -> dict:
    """The value an ``add`` through a filter of ``eq`` terms describes."""
    terms = node.terms if isinstance(node, LogicalExpr) and node.op == LogicalOperator.and_ else (node,)
    if not all(isinstance(t, Comparison) and str(t.op) == "eq" and t.attr_path.sub_attr is None for t in terms):
        raise ScimError(400, "no value matches the filter", "noTarget")
    return {t.attr_path.attr: t.value for t in terms}


class _Matcher(FilterVisitor[bool]):
    """Whether one value of a multi-valued attribute (an object) matches a value filter."""

    def __init__(self, item: dict):
        self.item = {str(k).lower(): v for k, v in item.items()}

    def _value(self, path: AttrPath):
        if path.sub_attr or path.uri:
            raise ScimError(400, f"cannot select on {path}", "invalidFilter")
        return self.item.get(path.attr.lower())

    def visit_comparison(self, node: Comparison) -> bool:
        held, wanted, op = self._value(node.attr_path), node.value, str(node.op)
        if op == "ne":
            return not self.visit_comparison(Comparison(attr_path=node.attr_path, op="eq", value=wanted))
        if isinstance(held, str) and isinstance(wanted, str):
            held, wanted = held.lower(), wanted.lower()
        elif isinstance(held, bool) or isinstance(wanted, bool) or held is None:
            return op == "eq" and held == wanted
        tests = {
            "eq": lambda: held == wanted,
            "co": lambda: isinstance(held, str) and wanted in held,
            "sw": lambda: isinstance(held, str) and held.startswith(wanted),
            "ew": lambda: isinstance(held, str) and held.endswith(wanted),
            "gt": lambda: held > wanted,
            "ge": lambda: held >= wanted,
            "lt": lambda: held < wanted,
            "le": lambda: held <= wanted,
        }
        try:
            return bool(tests[op]())
        except TypeError:  # a string against a number
            return False

    def visit_present(self, node: Present) -> bool:
        return self._value(node.attr_path) not in (None, "", [], {})

    def visit_not(self, node: Not) -> bool:
        return not self.visit(node.expr)

    def visit_logical_expr(self, node: LogicalExpr) -> bool:
        results = (self.visit(term) for term in node.terms)
        return all(results) if node.op == LogicalOperator.and_ else any(results)

    def visit_value_path(self, node: ValuePath) -> bool:
        raise ScimError(400, "a value filter cannot nest another", "invalidFilter")
