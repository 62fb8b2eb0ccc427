"""The engine as a Django authentication backend, so ``user.has_perm("reports.view", obj)`` agrees."""

from __future__ import annotations

from permissions import engine
from permissions.vocabulary import Action


def parse_perm(perm: str) -> tuple[str, Action] | None:
    """("reports", Action.VIEW) from "reports.view"; None for anything outside the vocabulary."""
    module, _, action = str(perm).partition(".")
    if not module or action not in Action.values:
        return None
    return module, Action(action)


class EngineBackend:
    """Answers permission questions of tenant users from the engine; authenticates nobody.

    ``perm`` is "<module key>.<action>"; ``obj`` is None (the whole module) or a Resource of it.
    Platform operators and anonymous users get nothing from this backend.
    """

    def authenticate(self, request, **credentials):
        return None

    def get_user(self, user_id):
        return None

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        parsed = parse_perm(perm)
        if parsed is None or getattr(user_obj, "tenant_id", None) is None:
            return False
        module, action = parsed
        if obj is None:
            return engine.can(user_obj, action, module)
        if getattr(obj, "module_id", None) is None:
            return False
        return engine.can(user_obj, action, obj) and engine.compiled_for(user_obj).keys.get(module) == obj.module_id

    def has_module_perms(self, user_obj, app_label) -> bool:
        return False

    def get_all_permissions(self, user_obj, obj=None) -> set:
        return set()
