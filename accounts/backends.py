"""Authentication by email, across tenants (the one place that must look a user up before a tenant is known)."""

from django.contrib.auth.backends import ModelBackend

from accounts.models import User
from accounts.scoping import dangerously_unscoped


class EmailBackend(ModelBackend):
    """Email + password. Inactive users and users of an inactive tenant cannot log in or stay logged in."""

    def user_can_authenticate(self, user) -> bool:
        if not super().user_can_authenticate(user):
            return False
        return user.tenant_id is None or user.tenant.is_active

    def authenticate(self, request, username=None, password=None, tenant_slug: str = "", **kwargs):
        """E-mails are unique per tenant: the address may have an account in several tenants. The password
        picks the account; when it opens more than one, the login asks for the organisation (only someone
        holding the password learns that), or the tenant's own login URL names it."""
        if username is None or password is None:
            return None
        candidates = User.objects.accounts_for_login(username, tenant_slug)
        if not candidates:
            # Run the hasher once, as for a wrong password, so the timing does not tell (Django #20760).
            User().set_password(password)
            return None
        opened = [user for user in candidates if user.check_password(password) and self.user_can_authenticate(user)]
        if len(opened) > 1 and request is not None:
            request.portcullis_login_ambiguous = True
        return opened[0] if len(opened) == 1 else None

    def get_user(self, user_id):
        # The session names a user id; the tenant is learnt from the user, so this read is unscoped.
        with dangerously_unscoped():
            try:
                user = User.objects.select_related("tenant", "role").get(pk=user_id)
            except User.DoesNotExist:
                return None
        return user if self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        # Django's model-level permissions never apply to tenant users: a global permission would
        # stand for "every tenant". Their access is decided by the permission engine alone.
        if getattr(user_obj, "tenant_id", None) is not None:
            return set()
        return super().get_all_permissions(user_obj, obj)
