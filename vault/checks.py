"""Start-up checks: the master keys are configured and well-formed."""

from django.core import checks

from portal.config import ConfigError
from vault import masterkeys


@checks.register(checks.Tags.security, deploy=True)
def master_keys_configured(app_configs, **kwargs):
    try:
        masterkeys.load()
    except ConfigError as exc:
        return [checks.Error(str(exc), id="vault.E010")]
    return []
