"""``field__any_of=ids``: membership in a list as one parameter on PostgreSQL.

``field__in=[...]`` writes one placeholder per value: for the owner sets of sharing rules (a holding's 3,000
companies) Django compiled and psycopg split 9,000 placeholders on every list page (tens of milliseconds).
On PostgreSQL ``field = ANY(%s::bigint[])`` sends the list as one array literal, which the server hashes
like the ``IN`` list; elsewhere (SQLite) it is the ``IN`` list. Registered on the fields that need it
(``PermissionsConfig.ready``). An ``IdList`` keeps its literal, so a list reused page after page (a sharing
rule's clause) is written once.
"""

from __future__ import annotations

from django.db.models import Lookup


class IdList:
    """Distinct integer ids, sorted, with their PostgreSQL array literal computed once. Not a sequence on
    purpose: Django walks a list or tuple value element by element (resolving and type-checking each, and
    rebuilding it), 3,000 times per page for a holding's owner set."""

    __slots__ = ("values", "_literal")

    def __init__(self, values=()):
        self.values = tuple(sorted({int(value) for value in values}))
        self._literal = None

    @property
    def literal(self) -> str:
        if self._literal is None:
            self._literal = "{" + ",".join(map(str, self.values)) + "}"
        return self._literal

    def __len__(self) -> int:
        return len(self.values)

    def __eq__(self, other) -> bool:
        return isinstance(other, IdList) and other.values == self.values

    def __hash__(self) -> int:
        return hash(self.values)

    def __repr__(self) -> str:
        return f"IdList({list(self.values)!r})"


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        # ints only: the array literal is built from them
        return self.rhs if isinstance(self.rhs, IdList) else IdList(self.rhs)

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        ids = self.rhs
        if not ids:
            return "(1 = 0)", list(lhs_params)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, ids.literal]
        return f"{lhs} IN ({', '.join(['%s'] * len(ids))})", [*lhs_params, *ids.values]
