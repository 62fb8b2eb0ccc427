"""``Authorization: Bearer pck_…`` authentication; the request then runs in the key's tenant scope."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from api import keys


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """A tenant API key as a bearer token: ``request.user`` is the key's owner, ``request.auth`` the key."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid API key.")) from None
        found = keys.verify(token)
        if found is None:
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
        key, owner = found
        keys.touch(key)
        return owner, key

    def authenticate_header(self, request):
        return self.keyword


class PortalSessionAuthentication(authentication.SessionAuthentication):
    """The portal's own session (CSRF enforced), only once the session passed the tenant's MFA policy."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        from accounts.policy import needs_mfa_step

        user = result[0]
        if not user.tenant_id or (not user.is_verified() and needs_mfa_step(user)):
            return None
        return result
