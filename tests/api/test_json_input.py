"""FC-2 at the parser: each refusal of ``api.input.parse_json`` at its exact boundary, with its sentence.

test_bad_input walks every route with each family; this file pins the limits themselves (depth 32 accepted,
33 refused; bigint's range inclusive), the checks made after parsing (depth and integer range in one walk of
the parsed document) and the shortcuts that skip a look (an ASCII text is searched for DEL only).
"""

from __future__ import annotations

import json

import pytest
from rest_framework.exceptions import ParseError

from api.input import BIGINT, MAX_DEPTH, parse_json


def _refusal(raw: bytes) -> str | None:
    try:
        parse_json(raw)
    except ParseError as error:
        return str(error.detail)
    return None


def _nested(depth: int, opener: str = "[") -> bytes:
    if opener == "[":
        return ("[" * depth + "]" * depth).encode()
    return ('{"a":' * depth + "1" + "}" * depth).encode()


@pytest.mark.parametrize("opener", ["[", "{"])
def test_depth_32_is_accepted_and_33_refused(opener):
    assert _refusal(_nested(MAX_DEPTH, opener)) is None
    assert _refusal(_nested(MAX_DEPTH + 1, opener)) == f"The JSON nests deeper than {MAX_DEPTH} levels."


def test_depth_is_counted_on_the_deepest_branch_not_the_first():
    deep_last = json.dumps([1, {"a": [2]}, json.loads(_nested(MAX_DEPTH))])  # 1 + 32 levels
    assert _refusal(deep_last.encode()) == f"The JSON nests deeper than {MAX_DEPTH} levels."
    wide = json.dumps([[[]] for _ in range(500)])  # many containers, 3 levels
    assert _refusal(wide.encode()) is None


def test_brackets_inside_strings_are_not_nesting():
    assert _refusal(json.dumps({"text": "[" * 100 + "{" * 100}).encode()) is None


def test_nesting_beyond_the_parsers_own_guard_is_the_same_400():
    assert _refusal(_nested(100_000)) == f"The JSON nests deeper than {MAX_DEPTH} levels."
    assert _refusal(_nested(5_000, "{")) == f"The JSON nests deeper than {MAX_DEPTH} levels."


@pytest.mark.parametrize("value", [BIGINT, -BIGINT, 0, -1, 10**18])
def test_integers_within_bigint_are_accepted(value):
    assert parse_json(json.dumps({"n": [value]}).encode()) == {"n": [value]}


@pytest.mark.parametrize(
    "text",
    [str(BIGINT + 1), str(-BIGINT - 1), "9" * 20, "9" * 5000, '{"a": [true, ' + str(BIGINT + 1) + "]}"],
)
def test_integers_beyond_bigint_are_refused_wherever_they_are(text):
    assert _refusal(text.encode()) == "A number is out of range (at most 19 digits)."


def test_booleans_are_not_numbers_out_of_range():
    assert parse_json(b"[true, false, null, 1.5]") == [True, False, None, 1.5]


def test_a_duplicate_key_is_named_at_any_depth():
    assert _refusal(b'{"a": 1, "b": 2, "a": 3}') == 'The key "a" appears twice in one object.'
    assert _refusal(b'{"x": [{"k": 1, "k": 1}]}') == 'The key "k" appears twice in one object.'
    assert parse_json(b'{"a": {"a": {"a": 1}}}') == {"a": {"a": {"a": 1}}}  # the same key in nested objects


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": "x\x7fy"}',  # DEL in ASCII text
        '{"a": "x\u0085y"}'.encode(),  # a C1 control in non-ASCII text
        b'{"a": "\\u001b"}',  # escaped
        '{"\u00e9\x9b": 1}'.encode(),  # in a key
    ],
)
def test_control_characters_are_found_in_ascii_and_other_text(raw):
    assert _refusal(raw) == "Text may not contain control characters."


def test_ordinary_non_ascii_text_passes():
    assert parse_json('{"名前": "été"}'.encode()) == {"名前": "été"}


def test_other_refusals_keep_their_sentences():
    assert _refusal(b'{"x": 1e999}') == "A number is out of range."
    assert _refusal(b"[NaN]") == "NaN is not a JSON value."
    assert _refusal(b"\xff") == "The body is not valid UTF-8."
    assert _refusal(b"{} {}").startswith("The body is not valid JSON (Extra data")
