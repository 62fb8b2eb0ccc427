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
from collections import Counter
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


def _shape_problem(data, limit: int) -> str | None:
    """Why the parsed ``data`` is refused (containers nested deeper than ``limit``, an integer outside
    bigint), or None. One walk, level by level, over containers only: cheaper than a scan of the text
    before parsing (json's C parser guards its own recursion; ``parse_json`` turns that into the same 400)."""
    level, depth = [[data]], 0  # the document as the one item of a list at depth 0
    while level:
        if depth > limit:
            return _("The JSON nests deeper than %(depth)s levels.") % {"depth": limit}
        depth += 1
        below = []
        for item in level:
            for value in item.values() if type(item) is dict else item:
                kind = type(value)
                if kind is dict or kind is list:
                    below.append(value)
                elif kind is int and not -BIGINT <= value <= BIGINT:
                    return _("A number is out of range (at most 19 digits).")
        level = below
    return None


def _unique_keys(pairs: list) -> dict:
    found = dict(pairs)
    if len(found) != len(pairs):
        counts = Counter(key for key, _value in pairs)
        twice = next(key for key, _value in pairs if counts[key] > 1)
        raise exceptions.ParseError(_("The key %(key)s appears twice in one object.") % {"key": json.dumps(twice)})
    return found


_HUGE_INTEGER = "integer string conversion"  # in the ValueError of int() beyond sys.get_int_max_str_digits()


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
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys, parse_float=_float, parse_constant=_constant)
    except RecursionError:  # far deeper than MAX_DEPTH: the parser's own guard
        raise exceptions.ParseError(_("The JSON nests deeper than %(depth)s levels.") % {"depth": MAX_DEPTH}) from None
    except ValueError as error:
        if _HUGE_INTEGER in str(error):  # more digits than Python converts (4,300): out of range, too
            raise exceptions.ParseError(_("A number is out of range (at most 19 digits).")) from None
        raise exceptions.ParseError(_("The body is not valid JSON (%(error)s).") % {"error": error}) from None
    problem = _shape_problem(data, MAX_DEPTH)
    if problem:
        raise exceptions.ParseError(problem)
    # JSON refuses raw C0 controls inside strings, so one may only arrive escaped (\u001b, \ud800) or as a
    # raw C1/DEL character: without either in the text, no string needs a look (ASCII text has no C1, so
    # only DEL is looked for there: a search of the whole text by the regex cost 20 us per 7-KB batch).
    if "\\u" in text or ("\x7f" in text if text.isascii() else _CONTROL.search(text)):
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
