"""Comments and identifiers: whatever the input, one safe line within the limit."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from flowmatrix.rules.text import clean_text, comment, identifier, label, truncate_bytes

FORBIDDEN = set('"\\`$*{}[]%&|') | {"\n", "\r", "\t", "\x00"}


@given(st.text(), st.integers(min_value=8, max_value=300))
def test_comment_is_one_safe_line_within_the_byte_limit(text: str, limit: int) -> None:
    result = comment(text, limit)
    assert len(result.encode("utf-8")) <= limit
    assert not FORBIDDEN & set(result)
    assert result == result.strip()
    assert "  " not in result
    assert all(ch.isprintable() for ch in result)


def test_comment_keeps_plain_french_text() -> None:
    text = "Utilisé par l'administrateur : console (port 4443) -> XenMobile"
    assert comment(text, 200) == text


def test_comment_neutralises_statement_breakers() -> None:
    assert clean_text('a" accept; }\n drop `x` $(y)') == "a accept; drop x (y)"


def test_truncation_never_splits_a_character() -> None:
    text = "é" * 100
    cut = truncate_bytes(text, 51)
    assert len(cut.encode("utf-8")) <= 51
    assert cut.endswith("...")
    cut.encode("utf-8").decode("utf-8")


def test_identifier_and_label() -> None:
    assert identifier("flowmatrix_fw-back.1") == "flowmatrix_fw_back_1"
    assert identifier("1abc") == "n1abc"
    long = identifier("x" * 100, 30)
    assert len(long) <= 30 and long != identifier("x" * 99, 30)
    assert label("XM-APP-24.2") == "xm-app-24-2"
    assert label("SITE-9lives.1") == "site-9lives-1"
    assert label("42") == "f42"
