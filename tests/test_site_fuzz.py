"""Random mutations of valid sites never raise anything but the tool's own error."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowmatrix.api import example_names, example_text
from flowmatrix.errors import UserError
from flowmatrix.plan import build_plan

EXAMPLES = [example_text(n) for n in example_names()]

NASTY = [
    "",
    " ",
    ":",
    "- ",
    "[",
    "]",
    "{",
    "}",
    "'",
    '"',
    "\t",
    "\n",
    "\x00",
    "0",
    "-1",
    "70000",
    "null",
    "~",
    "true",
    "1.5",
    "&a",
    "*a",
    "!!binary",
    "10.0.0.300",
    "::",
    "0.0.0.0/0",
    "fe80::1%eth0",
    "é",
    "\u202e",
    "${x}",
    "; drop",
    "x" * 80,
]


@st.composite
def mutated_site(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(EXAMPLES)).splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "replace", "insert", "swap"]))
        line = lines[index]
        if action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, line)
        elif action == "insert":
            lines.insert(index, draw(st.sampled_from(NASTY)))
        elif action == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
        else:
            start = draw(st.integers(0, len(line)))
            end = draw(st.integers(start, len(line)))
            lines[index] = line[:start] + draw(st.sampled_from(NASTY)) + line[end:]
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=mutated_site())
def test_mutations_raise_only_user_errors(text: str, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    from flowmatrix.api import load_site

    path: Path = tmp_path_factory.mktemp("fuzz") / "site.yaml"
    path.write_text(text, "utf-8", errors="surrogateescape")
    try:
        loaded = load_site(path)
        build_plan(loaded.site, loaded.catalog)
    except UserError as exc:
        assert exc.file == str(path)
        assert exc.message
