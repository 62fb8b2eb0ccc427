from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GuidesConfig(AppConfig):
    """Help in the product: a short guide per persona, the header's context-aware help link, the console tour."""

    name = "guides"
    verbose_name = _("Help")
