"""Log formatters: structured JSON lines (each with the request id of the work in progress) and plain text.

Neither lets a control character of user input reach the log raw (LOG-7): JSON escapes every one of them
(``ensure_ascii``), and the text formatter writes each through ``audit.escaping.escape_controls``, so a
message can neither colour a terminal nor forge a line of its own.
"""

import json
import logging

from audit.context import current_origin
from audit.escaping import escape_controls

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


def _escape(value):
    # Control characters from user input never reach the log raw (LOG-7): json.dumps escapes them.
    return value if isinstance(value, int | float | bool | type(None)) else str(value)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": self.request_id(record),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = _escape(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=True, default=str)

    def request_id(self, record: logging.LogRecord) -> str | None:
        """The id of the request in progress, else of the request the record names (Django logs a 4xx/5xx
        response after the middleware that set the context has returned, with the request on the record)."""
        return current_origin().request_id or getattr(getattr(record, "request", None), "id", None) or None


JsonFormatter.converter = __import__("time").gmtime


class GunicornAccessFormatter(JsonFormatter):
    """gunicorn's access lines as JSON: the request id is the ``X-Request-ID`` the portal echoed in the response."""

    def request_id(self, record: logging.LogRecord) -> str | None:
        atoms = record.args if isinstance(record.args, dict) else {}
        value = atoms.get("{x-request-id}o")
        return None if value in (None, "", "-") else value  # gunicorn writes "-" for a missing header


class TextFormatter(logging.Formatter):
    """``time level logger message`` on one line, for people (LOG_FORMAT=text), control characters escaped.

    A traceback or stack keeps its lines, each escaped too and marked ``  | ``, so none of them (an exception
    message quoting user input included) can pass for a record of its own.
    """

    def __init__(self, fmt="%(asctime)s %(levelname)s %(name)s %(message)s", datefmt=None, style="%", **kwargs):
        super().__init__(fmt, datefmt, style, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        lines = [escape_controls(self.formatMessage(record))]
        # Never record.exc_text: another handler's formatter may have cached it unescaped.
        if record.exc_info:
            lines += _continued(self.formatException(record.exc_info))
        if record.stack_info:
            lines += _continued(self.formatStack(record.stack_info))
        return "\n".join(lines)


def _continued(text: str) -> list[str]:
    return ["  | " + escape_controls(line) for line in text.split("\n")]
