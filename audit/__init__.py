"""The audit trail. Application code records events with ``audit.record(...)`` (see audit.recording) and
names the people in their before/after values with ``audit.person(user)`` (see audit.personal)."""


def record(*args, **kwargs):
    """Append one audit event; see ``audit.recording.record``."""
    from audit.recording import record as _record

    return _record(*args, **kwargs)


def person(user):
    """A user named in an event's before/after values; see ``audit.personal.person``."""
    from audit.personal import person as _person

    return _person(user)
