"""The tenant's shortest password (a console setting), on top of the platform's minimum of 12 (AUTH-3)."""

from __future__ import annotations

from django.contrib.auth.password_validation import MinimumLengthValidator


class TenantMinimumLengthValidator(MinimumLengthValidator):
    """At least ``min_length`` characters, or the user's tenant's ``credential_min_length`` when it is longer."""

    def _length_for(self, user) -> int:
        tenant = getattr(user, "tenant", None) if user is not None else None
        return max(self.min_length, getattr(tenant, "credential_min_length", 0) or 0)

    def validate(self, password, user=None):
        MinimumLengthValidator(self._length_for(user)).validate(password, user)
