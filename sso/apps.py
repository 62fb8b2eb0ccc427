from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SsoConfig(AppConfig):
    name = "sso"
    verbose_name = _("Single sign-on")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from accounts.policy import MFA_STEP_URL_NAMES
        from accounts.stepup import STEP_UP_OPTIONS
        from sso import (
            navigation,  # noqa: F401 (menu entry)
            stepup,
        )

        # A session still waiting for its MFA step may start a single sign-on instead (it replaces the session).
        MFA_STEP_URL_NAMES.update({"sso:discover", "sso:start", "sso:callback", "sso:logout"})
        MFA_STEP_URL_NAMES.update({"sso:saml_metadata", "sso:saml_acs", "sso:saml_finish"})
        # A sign-in again at the person's provider passes the step-up when the tenant accepts its MFA.
        STEP_UP_OPTIONS.append(stepup.options)
