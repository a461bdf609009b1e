"""Every input file is a regular file of bounded size: devices, FIFOs and folders are
refused by name, a file past the limit names the limit, deep JSON is a clean error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flowmatrix.errors import UserError
from flowmatrix.inputfile import (
    LIMIT_VARIABLE,
    json_depth,
    parse_json,
    quote,
    read_input_bytes,
    read_input_text,
)

from .helpers import assert_one_line_error, default_site, run_capped


def test_a_regular_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"hello\n")
    assert read_input_bytes(path) == b"hello\n"
    assert read_input_text(path) == "hello\n"


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda p: os.mkfifo(p), "a FIFO"),
        (lambda p: p.mkdir(), "a directory"),
    ],
)
def test_what_is_not_a_regular_file_is_refused_by_kind(
    tmp_path: Path, make: object, kind: str
) -> None:
    path = tmp_path / "input"
    make(path)  # type: ignore[operator]
    with pytest.raises(UserError, match=kind) as caught:
        read_input_bytes(path, what="site file")
    assert caught.value.file == str(path) and "not a site file" in caught.value.message


def test_a_character_device_is_refused_without_reading_it() -> None:
    with pytest.raises(UserError, match="a character device"):
        read_input_bytes("/dev/zero")


def test_the_size_limit_is_named_and_configurable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"x" * 100)
    monkeypatch.setenv(LIMIT_VARIABLE, "99")
    with pytest.raises(UserError) as caught:
        read_input_bytes(path)
    assert "limit of 99 bytes" in str(caught.value) and LIMIT_VARIABLE in str(caught.value)
    monkeypatch.setenv(LIMIT_VARIABLE, "100")
    assert len(read_input_bytes(path)) == 100
    monkeypatch.setenv(LIMIT_VARIABLE, "lots")
    with pytest.raises(UserError, match="not a positive number"):
        read_input_bytes(path)


def test_an_empty_path_is_refused() -> None:
    with pytest.raises(UserError, match="empty path"):
        read_input_bytes("")


def test_quote_keeps_error_messages_short() -> None:
    assert quote("abc") == "'abc'"
    long = quote("x" * 10_000)
    assert len(long) < 260 and "10002 characters" in long


@pytest.mark.parametrize(
    ("text", "depth"),
    [("{}", 1), ('{"a": [1, {"b": "[[[["}]}', 3), ("[[[]], []]", 3), ('"[{"', 0), ("3", 0)],
)
def test_json_depth_ignores_brackets_in_strings(text: str, depth: int) -> None:
    assert json_depth(text, 100) == depth


def test_json_nested_past_the_bound_is_a_located_error() -> None:
    text = '{"nftables":\n ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(UserError, match="nested more than") as caught:
        parse_json(text, "deep.json")
    assert (caught.value.line, caught.value.col) == (2, 201)


# The reproductions, as a user runs them (each read forever or ended in a
# traceback before).


def test_catalog_dev_zero_is_refused(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(default_site().replace("catalog: xenmobile-10", "catalog: /dev/zero"))
    assert_one_line_error(run_capped("plan", str(site)), "/dev/zero", "character device")


def test_certs_check_dev_zero_is_refused() -> None:
    assert_one_line_error(run_capped("certs", "check", "/dev/zero"), "/dev/zero", "device")


def test_a_fifo_site_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "site.yaml"
    os.mkfifo(fifo)
    assert_one_line_error(run_capped("plan", str(fifo), timeout=30), str(fifo), "FIFO")


def test_a_site_over_the_limit_names_the_limit(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(default_site())
    env = {**os.environ, LIMIT_VARIABLE: "1000"}
    assert_one_line_error(run_capped("plan", str(site), env=env), "limit of 1000 bytes")


def test_nft_json_nested_100000_levels_is_one_line(tmp_path: Path) -> None:
    ruleset = tmp_path / "deep.json"
    ruleset.write_text('{"nftables": ' + "[" * 100_000 + "]" * 100_000 + "}")
    done = run_capped("audit", "example:default", "-F", "fw-back", "-r", str(ruleset))
    assert_one_line_error(done, "nested more than")


def test_results_file_nested_deep_is_one_line(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_text("[" * 100_000 + "]" * 100_000)
    assert_one_line_error(run_capped("report", "--results", str(results)), "nested more than")
