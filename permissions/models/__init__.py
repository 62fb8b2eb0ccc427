"""Permission models, one module per concern."""

from permissions.models.changes import PendingChange
from permissions.models.grants import Grant, Provenance, ResourceGroupPermission, ResourceUserPermission
from permissions.models.groups import Group, GroupMembership
from permissions.models.modules import Module
from permissions.models.resources import Resource
from permissions.models.roles import BuiltinRole, Role, RolePermission
from permissions.models.sharing import SharingRule
from permissions.models.sod import SodException, SodRule
from permissions.models.usage import UsageRecord
from permissions.models.versions import AuthzVersion

__all__ = [
    "AuthzVersion",
    "BuiltinRole",
    "Grant",
    "Group",
    "GroupMembership",
    "Module",
    "PendingChange",
    "Provenance",
    "Resource",
    "ResourceGroupPermission",
    "ResourceUserPermission",
    "Role",
    "RolePermission",
    "SharingRule",
    "SodException",
    "SodRule",
    "UsageRecord",
]
