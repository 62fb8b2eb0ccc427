"""The audit trail. Application code records events with ``audit.record(...)`` (see audit.recording)."""


def record(*args, **kwargs):
    """Append one audit event; see ``audit.recording.record``."""
    from audit.recording import record as _record

    return _record(*args, **kwargs)
