"""Structured JSON log lines, each with the request id of the work in progress."""

import json
import logging

from audit.context import current_origin

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
            "request_id": current_origin().request_id or None,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = _escape(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=True, default=str)


JsonFormatter.converter = __import__("time").gmtime
