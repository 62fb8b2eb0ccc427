"""The administrators' console: users, roles, groups, modules and resources, grants, pending approvals.

Thin views over the permission services (``permissions.services``) and the account services; every
view declares its permission (AZ-3) and every button is computed from the engine (``console.buttons``).
"""
