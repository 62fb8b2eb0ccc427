"""gunicorn's logger with a leaner access line (``logger_class`` in portal/gunicorn.conf.py).

For every request gunicorn builds the access line's atoms from everything it knows: about twenty fixed
ones (the time formatted with ``strftime``, the user parsed from an ``Authorization: Basic`` header, ...),
one per request header, one per response header and one per WSGI environ variable (about forty more), then
copies them all to escape quotes, and the format reads seven. Profiled under the check API benchmark that
was about a quarter of the access log's cost (the log itself is a tenth of a worker's time on the check
API). ``AccessLogger`` computes only the atoms ``access_log_format`` names, with gunicorn's own formulas, so
the line is the same (``tests/portal/test_gunicorn_logging.py`` compares both for every atom).
"""

from __future__ import annotations

import os
import re

from gunicorn import glogging

_NAME = re.compile(r"%\(([^)]+)\)")


def _status(resp, environ, request_time):
    status = resp.status
    return status.split(None, 1)[0] if isinstance(status, str) else status


_FIXED = {
    "h": lambda resp, environ, t: environ.get("REMOTE_ADDR", "-"),
    "l": lambda resp, environ, t: "-",
    "r": lambda resp, environ, t: f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}",
    "s": _status,
    "m": lambda resp, environ, t: environ.get("REQUEST_METHOD"),
    "U": lambda resp, environ, t: environ.get("PATH_INFO"),
    "q": lambda resp, environ, t: environ.get("QUERY_STRING"),
    "H": lambda resp, environ, t: environ.get("SERVER_PROTOCOL"),
    "b": lambda resp, environ, t: getattr(resp, "sent", None) is not None and str(resp.sent) or "-",
    "B": lambda resp, environ, t: getattr(resp, "sent", None),
    "f": lambda resp, environ, t: environ.get("HTTP_REFERER", "-"),
    "a": lambda resp, environ, t: environ.get("HTTP_USER_AGENT", "-"),
    "T": lambda resp, environ, t: t.seconds,
    "D": lambda resp, environ, t: (t.seconds * 1000000) + t.microseconds,
    "M": lambda resp, environ, t: (t.seconds * 1000) + int(t.microseconds / 1000),
    "L": lambda resp, environ, t: f"{t.seconds}.{t.microseconds:06d}",
    "p": lambda resp, environ, t: f"<{os.getpid()}>",
}


def _last(pairs, name: str):
    """The value of the last pair whose name is ``name`` (gunicorn's dict of lower-cased names keeps the last)."""
    found = None
    for key, value in pairs:
        if key.lower() == name:
            found = value
    return found


class AccessLogger(glogging.Logger):
    def setup(self, cfg):
        super().setup(cfg)
        self._named = tuple(dict.fromkeys(_NAME.findall(cfg.access_log_format or "")))

    def atoms(self, resp, req, environ, request_time):
        named = getattr(self, "_named", None)
        if named is None:  # not set up (never in gunicorn): gunicorn's own
            return super().atoms(resp, req, environ, request_time)
        atoms = {}
        for name in named:
            fixed = _FIXED.get(name)
            if fixed is not None:
                atoms[name] = fixed(resp, environ, request_time)
            elif name == "u":  # the user of a Basic Authorization header, by gunicorn's code
                atoms[name] = self._get_user(environ) or "-"
            elif name == "t":
                atoms[name] = self.now()
            elif len(name) > 3 and name[0] == "{" and name[-2] == "}":
                key, kind = name[1:-2].lower(), name[-1]
                if kind == "i":
                    headers = req.headers if hasattr(req, "headers") else req
                    value = _last(headers.items() if hasattr(headers, "items") else headers, key)
                elif kind == "o":
                    headers = resp.headers
                    value = _last(headers.items() if hasattr(headers, "items") else headers, key)
                elif kind == "e":
                    value = _last(environ.items(), key)
                else:
                    continue
                if value is not None:
                    atoms[f"{{{key}}}{kind}"] = value
        return atoms
