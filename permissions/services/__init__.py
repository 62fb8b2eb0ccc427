"""Permission use cases: each changes state in one transaction with its audit event.

- ``grants``: grant, revoke, expire_due_grants
- ``roles``: create/clone/rename/delete custom roles, set a matrix, change a user's role
- ``groups``: create groups, add/remove members and owners
- ``modules``: custom modules, resources
- ``changes``: approve/reject pending changes (second administrator)
- ``preview``: impact of a matrix or group-grant change, without applying it
"""
