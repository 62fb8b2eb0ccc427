from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from accounts import navigation, signals  # noqa: F401 (registers receivers and menu entries)
        from accounts.passkeys import relying_party  # noqa: F401 (registers its system check)
        from accounts.sessions import clear_expired_sessions
        from portal import jobs

        jobs.register("sessions.clear_expired", clear_expired_sessions, per_tenant=False)
