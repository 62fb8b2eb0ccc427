"""Input validation at the edge of the API and SCIM (FC-2): one place refuses what no view should see.

- ``StrictJSONParser`` (and SCIM's subclass): the body is at most ``MAX_BODY`` bytes (413), valid UTF-8,
  one JSON document nested at most ``MAX_DEPTH`` deep, without duplicate keys, NaN/Infinity, integers
  outside the database's bigint range or floats that overflow; no string (nor key) holds a control
  character or a lone surrogate. Each refusal is a ``ParseError`` (400) with a sentence saying which.
- ``EdgeInputMiddleware``: the path and the query string of /api/ and /scim/ requests are valid UTF-8
  without control characters, each query value at most ``MAX_QUERY_VALUE`` characters; the URL and the
  headers are within the limits that gunicorn would otherwise enforce with a bare page (414, 431).
- Query parameters are read through ``id_param``, ``flag_param`` and ``choice_param``: a bad value is a
  400 naming the parameter, never silently ignored.

Over-long values and out-of-range numbers for a column are refused where every path meets, at the
model (``portal.columns``); these checks come first so nothing reaches a service or the database.
"""

from __future__ import annotations

import json
import re
from urllib.parse import unquote_to_bytes

from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers, status

MAX_BODY = 1024 * 1024  # bytes of a JSON body (the bulk endpoint's 500 items fit well within it)
MAX_DEPTH = 32
MAX_URL = 4096  # path + query, in bytes (gunicorn's own limit_request_line is raised above it)
MAX_HEADERS = 16 * 1024  # all request headers together, in bytes
MAX_QUERY_VALUE = 1000
BIGINT = 2**63 - 1
_ID = re.compile(r"[0-9]{1,18}")
# C0 and C1 controls and DEL; TAB, LF and CR are ordinary white space in text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"

    def __init__(self):
        super().__init__(_("The body is larger than %(limit)s bytes.") % {"limit": MAX_BODY})


_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why ``value`` is not acceptable text (a control character, a lone surrogate), or None."""
    if not _BAD.search(value):
        return None
    if _CONTROL.search(value):
        return _("Text may not contain control characters.")
    if _SURROGATE.search(value):
        return _("Text may not contain unpaired surrogates.")
    return None


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def _depth_exceeded(text: str, limit: int) -> bool:
    """Whether brackets outside strings nest deeper than ``limit`` (checked before json recurses). Strings
    are removed by one regex pass, so the loop visits brackets only, not every character."""
    depth = 0
    for match in _BRACKETS.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _unique_keys(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise exceptions.ParseError(_("The key %(key)s appears twice in one object.") % {"key": json.dumps(key)})
        seen[key] = value
    return seen


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > 19 or abs(int(text)) > BIGINT:
        raise exceptions.ParseError(_("A number is out of range (at most 19 digits)."))
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise exceptions.ParseError(_("A number is out of range."))
    return value


def _constant(name: str):
    raise exceptions.ParseError(_("%(name)s is not a JSON value.") % {"name": name})


def _check_strings(value) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                raise exceptions.ParseError(problem)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def parse_json(raw: bytes):
    """The JSON document in ``raw``, or a ParseError (400) / PayloadTooLarge (413) saying what is wrong."""
    if len(raw) > MAX_BODY:
        raise PayloadTooLarge()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise exceptions.ParseError(_("The body is not valid UTF-8.")) from None
    if _depth_exceeded(text, MAX_DEPTH):
        raise exceptions.ParseError(_("The JSON nests deeper than %(depth)s levels.") % {"depth": MAX_DEPTH})
    try:
        data = json.loads(
            text,
            object_pairs_hook=_unique_keys,
            parse_int=_integer,
            parse_float=_float,
            parse_constant=_constant,
        )
    except ValueError as error:
        raise exceptions.ParseError(_("The body is not valid JSON (%(error)s).") % {"error": error}) from None
    # JSON refuses raw C0 controls inside strings, so one may only arrive escaped (\u001b, \ud800) or as a
    # raw C1/DEL character: without either in the text, no string needs a look.
    if "\\u" in text or _CONTROL.search(text):
        _check_strings(data)
    return data


class StrictJSONParser(parsers.JSONParser):
    """DRF's JSON parser with the edge checks above (the API's only parser)."""

    def parse(self, stream, media_type=None, parser_context=None):
        if stream is None:
            return None
        raw = stream.read(MAX_BODY + 1)
        return parse_json(raw)


# Query parameters ---------------------------------------------------------------------------------


def id_param(request, name: str) -> int | None:
    """An id query parameter (ASCII digits, at most 18): None when absent, a 400 when malformed."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    if not _ID.fullmatch(raw):
        raise exceptions.ValidationError({name: [_("An id (1 to 18 digits 0-9).")]})
    return int(raw)


def flag_param(request, name: str) -> bool:
    """A boolean query parameter (true/false/1/0): False when absent, a 400 otherwise."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return False
    value = raw.lower()
    if value not in ("1", "true", "0", "false"):
        raise exceptions.ValidationError({name: [_("true or false.")]})
    return value in ("1", "true")


def choice_param(request, name: str, choices) -> str | None:
    """A query parameter that must be one of ``choices``: None when absent, a 400 otherwise."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    if raw not in choices:
        raise exceptions.ValidationError({name: [_("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)}]})
    return raw


def as_ascii_id(value) -> int | None:
    """A database id from text or a number (ASCII digits, 1 to 18), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= BIGINT and len(str(value)) <= 18 else None
    return int(value) if isinstance(value, str) and _ID.fullmatch(value) else None


# The edge middleware --------------------------------------------------------------------------------

EDGE_PREFIXES = ("/api/", "/scim/")


def _query_problem(query: str) -> str | None:
    seen = set()
    for part in re.split(r"[&;]", query):
        try:
            decoded = unquote_to_bytes(part.replace("+", " ")).decode("utf-8")
        except UnicodeDecodeError:
            return _("The query string is not valid UTF-8.")
        problem = text_problem(decoded)
        if problem:
            return problem
        name, _sep, value = decoded.partition("=")
        if len(value) > MAX_QUERY_VALUE:
            return _("A query parameter is longer than %(limit)s characters.") % {"limit": MAX_QUERY_VALUE}
        # No API or SCIM parameter takes several values, and the views read one (the last): a repeated one
        # would have its other values, malformed or not, silently ignored.
        if name in seen and part:
            return _("The query parameter %(name)s is given more than once.") % {"name": name}
        seen.add(name)
    return None


def edge_problem(request) -> tuple[int, str, str] | None:
    """(status, code, sentence) when the request's URL or headers are refused at the edge, else None."""
    meta = request.META
    raw_path = meta.get("PATH_INFO", "")
    query = meta.get("QUERY_STRING", "")
    if len(raw_path.encode("latin-1", "replace")) + len(query) > MAX_URL:
        return 414, "uri_too_long", _("The URL is longer than %(limit)s bytes.") % {"limit": MAX_URL}
    header_bytes = sum(len(k) + len(str(v)) for k, v in meta.items() if k.startswith("HTTP_"))
    if header_bytes > MAX_HEADERS:
        return (
            431,
            "headers_too_large",
            _("The request headers are larger than %(limit)s bytes.") % {"limit": MAX_HEADERS},
        )
    try:  # WSGI gives the path as latin-1 decoded bytes
        path = raw_path.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return 400, "invalid_path", _("The path is not valid UTF-8.")
    problem = text_problem(path) or _query_problem(query)
    if problem:
        return 400, "invalid_input", problem
    return None
