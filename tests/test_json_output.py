"""JSON documents are written fast and byte for byte as ``json.dumps(indent=2)`` lays them out."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from flowmatrix.render import to_json, to_json_bytes

#: Floats under 1e-4 are the one difference (decimal instead of exponent notation).
floats = st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: x == 0 or abs(x) >= 1e-4)
scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | floats | st.text()
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_same_bytes_as_the_standard_library(document: Any) -> None:
    assert to_json(document) == json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def test_keys_that_are_not_strings_and_big_integers_are_written_as_json_does() -> None:
    document = {1: "one", "big": 2**80, "nested": [{2: True}], "tuple": (1, 2)}
    assert to_json(document) == json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    assert to_json({"tiny": 1e-05}) == '{\n  "tiny": 0.00001\n}\n'
    assert math.isclose(json.loads(to_json({"tiny": 1e-05}))["tiny"], 1e-05)


keys = st.text() | st.integers(-(2**63), 2**63 - 1) | st.booleans() | st.none()
any_keys = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(documents | any_keys)
def test_a_document_said_to_have_string_keys_is_written_the_same(document: Any) -> None:
    """Said of a document whose keys are strings, or wrongly of one whose are not: the
    same bytes either way."""
    assert to_json_bytes(document, string_keys=True) == to_json_bytes(document)
