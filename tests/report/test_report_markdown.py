"""The Markdown report: a table row per flow, and user text that stays inert text."""

from __future__ import annotations

import html
import re
from pathlib import Path

from report_support import HOSTILE

from flowmatrix.model import Plan
from flowmatrix.report.compose import make_report
from flowmatrix.report.markdown import text


def _outside_fences(markdown: str) -> list[str]:
    lines, fenced = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def _cells(line: str) -> list[str]:
    return re.split(r"(?<!\\)\|", line.strip())[1:-1]


def test_one_table_row_per_flow_with_its_check(plan: Plan, verify_file: Path) -> None:
    markdown = make_report(plan, "markdown", results=[verify_file])
    assert isinstance(markdown, str)
    rows = [line for line in _outside_fences(markdown) if re.match(r"\| . \w", line)]
    flow_rows = [r for r in rows if any(f" {f.id} " in r for f in plan.flows)]
    assert len(flow_rows) == len(plan.flows)
    header = next(line for line in markdown.splitlines() if line.startswith("| Check |"))
    assert all(len(_cells(r)) == len(_cells(header)) for r in flow_rows)
    assert "```mermaid\nflowchart LR" in markdown
    assert "### XM-DEV-08" in markdown  # the requirement entries


def test_hostile_text_is_inert(hostile_plan: Plan, hostile_results: Path) -> None:
    markdown = make_report(hostile_plan, "markdown", results=[hostile_results])
    assert isinstance(markdown, str)
    body = "\n".join(_outside_fences(markdown))
    assert "<" not in body and ">" not in body.replace("\n>", "\n")  # no raw HTML
    assert "](" not in body.replace("&#93;(", "")  # no link can form
    assert "`" not in body and "**bold**" not in body
    header = next(line for line in markdown.splitlines() if line.startswith("| Check |"))
    for line in body.splitlines():
        if line.startswith("| ") and "EV-0" in line:
            assert len(_cells(line)) == len(_cells(header))
    decoded = html.unescape(body)
    for key in ("script", "formula", "markdown"):
        assert HOSTILE[key] in decoded, key


def test_text_escapes_markdown_and_html() -> None:
    assert text("a*b_c`d[e]f|g<h>&~\\") == (
        "a&#42;b&#95;c&#96;d&#91;e&#93;f&#124;g&#60;h&#62;&#38;&#126;&#92;"
    )
    assert text("line\nbreak\x07bell") == "line break bell"
