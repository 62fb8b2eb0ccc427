"""Start-up checks: a malformed audit key setting stops the process with one clear line."""

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register(checks.Tags.security)
def audit_keys_check(app_configs=None, **kwargs):
    """AUDIT_SIGNING_KEY and AUDIT_RETIRED_PUBLIC_KEYS must hold Ed25519 keys when set (retired ones with their
    retirement time)."""
    from django.conf import settings

    from audit import keys

    errors = []
    try:
        if settings.AUDIT_SIGNING_KEY:
            keys.signing_key()
        for text in settings.AUDIT_RETIRED_PUBLIC_KEYS:
            keys._decode_retired(text, "AUDIT_RETIRED_PUBLIC_KEYS")
    except ImproperlyConfigured as exc:
        errors.append(checks.Error(str(exc), id="audit.E001"))
    return errors


@checks.register(checks.Tags.security, deploy=True)
def audit_key_custody_check(app_configs=None, **kwargs):
    """Production (``check --deploy``, which the deployment runs before starting): the signing key comes from
    the environment or a file outside the data directory. At run time signing refuses the same way."""
    from audit import keys

    return [checks.Error(problem, id="audit.E002") for problem in keys.custody_problems()]
