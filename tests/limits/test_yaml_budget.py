"""YAML is bounded: aliases may not expand a document past 10 times its file, nesting
past a fixed depth is refused at the right line, and errors quote little of a value."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowmatrix.errors import UserError
from flowmatrix.yamlbuild import MAX_DEPTH
from flowmatrix.yamlio import parse_yaml_text

from .helpers import assert_one_line_error, default_site, run_capped


def alias_bomb(levels: int = 9) -> str:
    """The classic: each anchor a list of ten aliases of the one before (484-odd bytes)."""
    lines = ["version: 1", "name: bomb", "x0: &a0 [" + ",".join(['"lol"'] * 10) + "]"]
    for level in range(1, levels):
        lines.append(f"x{level}: &a{level} [" + ",".join([f"*a{level - 1}"] * 10) + "]")
    lines.append(f"description: *a{levels - 1}")
    return "\n".join(lines) + "\n"


def nested_blocks(levels: int) -> str:
    lines = [f"{'  ' * level}k{level}:" for level in range(levels)]
    return "\n".join([*lines, f"{'  ' * levels}v: 1"]) + "\n"


def test_plain_anchors_and_merge_keys_still_work() -> None:
    text = (
        "base: &base {a: 1, b: 2}\n"
        "one: {<<: *base, b: 3}\n"
        "two: {<<: [*base, {c: 4}], a: 0}\n"
        "list: &ports [80, 443]\n"
        "again: *ports\n"
    )
    data = parse_yaml_text(text, "t.yaml").data
    assert data["one"] == {"a": 1, "b": 3}
    assert data["two"] == {"a": 0, "b": 2, "c": 4}
    assert data["again"] == [80, 443]


def test_scalars_keep_their_types() -> None:
    data = parse_yaml_text("a: 1\nb: true\nc: null\nd: 1.5\ne: '1'\nf: 2024-01-02\n", "t").data
    assert [type(v).__name__ for v in data.values()] == [
        "int",
        "bool",
        "NoneType",
        "float",
        "str",
        "date",
    ]


def test_a_duplicate_key_is_still_refused_where_it_is() -> None:
    with pytest.raises(UserError, match="duplicate key 'a'") as caught:
        parse_yaml_text("a: 1\nb: 2\na: 3\n", "t.yaml")
    assert (caught.value.line, caught.value.col) == (3, 1)


def test_an_unknown_tag_is_refused() -> None:
    with pytest.raises(UserError, match="could not determine a constructor"):
        parse_yaml_text("a: !python/object {x: 1}\n", "t.yaml")


def test_a_recursive_alias_is_refused() -> None:
    with pytest.raises(UserError, match="refers to the node it is in"):
        parse_yaml_text("a: &a [1, *a]\n", "t.yaml")


def test_the_alias_bomb_is_refused_at_the_list_that_passes_the_budget() -> None:
    with pytest.raises(UserError, match="aliases expand the document") as caught:
        parse_yaml_text(alias_bomb(), "bomb.yaml")
    assert caught.value.line == 7 and "hint" in str(caught.value)


def test_a_merge_key_bomb_is_refused() -> None:
    lines = ["m0: &m0 {a: 1, b: 2}"]
    for level in range(1, 40):
        lines.append(f"m{level}: &m{level} {{<<: [*m{level - 1}, *m{level - 1}], k{level}: 1}}")
    with pytest.raises(UserError, match="aliases expand"):
        parse_yaml_text("\n".join(lines) + "\n", "merge.yaml")


def test_nesting_past_the_bound_is_refused_at_its_line() -> None:
    parse_yaml_text(nested_blocks(MAX_DEPTH - 2), "ok.yaml")
    with pytest.raises(UserError, match="levels deep") as caught:
        parse_yaml_text(nested_blocks(500), "deep.yaml")
    assert caught.value.line == MAX_DEPTH + 1 and caught.value.col == 2 * MAX_DEPTH + 1


# The reproductions, through the CLI under the caps.


def test_cli_alias_bomb_is_one_short_line(tmp_path: Path) -> None:
    site = tmp_path / "bomb.yaml"
    site.write_text(alias_bomb())
    done = run_capped("plan", str(site))
    assert_one_line_error(done, f"{site}:7:", "aliases expand")
    assert len(done.stderr) < 500


def test_cli_200_flows_sharing_65535_ports_are_refused(tmp_path: Path) -> None:
    ports = ",".join(str(port) for port in range(1, 65536))
    flows = ["flows:"]
    flows.append(
        f"  - {{name: f0, source: xenmobile, destination: sql-server, ports: &all [{ports}]}}"
    )
    flows += [
        f"  - {{name: f{i}, source: xenmobile, destination: sql-server, ports: *all}}"
        for i in range(1, 200)
    ]
    site = tmp_path / "ports.yaml"
    site.write_text(default_site() + "\n".join(flows) + "\n")
    for command in ("plan", "report", "audit"):
        args = [command, str(site)]
        if command == "audit":
            args += ["-F", "fw-back", "-r", str(Path(__file__).parent / "data" / "empty.nft")]
        assert_one_line_error(run_capped(*args), "aliases expand")


def test_cli_500_nested_levels_are_located(tmp_path: Path) -> None:
    site = tmp_path / "deep.yaml"
    site.write_text(nested_blocks(500))
    assert_one_line_error(run_capped("plan", str(site)), f"{site}:{MAX_DEPTH + 1}:", "levels deep")


@pytest.mark.parametrize("value", ["9" * 50_000, "x" * 50_000, "2024-13-45"])
def test_cli_a_long_or_bad_value_is_one_short_line(tmp_path: Path, value: str) -> None:
    site = tmp_path / "long.yaml"
    site.write_text(default_site().replace("version: 1", f"version: {value}", 1))
    done = run_capped("plan", str(site))
    assert_one_line_error(done, f"{site}:")
    assert len(done.stderr) < 700, done.stderr[:300]
