"""The HTML page, parsed: self-contained, escaped, linked, and in the asked language."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from report_support import HOSTILE, HOSTILE_TEXT, need_graphviz

from flowmatrix.model import Plan
from flowmatrix.report.compose import make_report


class Page(HTMLParser):
    """Tags, attributes, text, and the raw content of <style> and <script> elements."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.raw: dict[str, list[str]] = {"style": [], "script": []}
        self._in: str | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        if tag in self.raw:
            self._in = tag
            self.raw[tag].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in is not None:
            self.raw[self._in][-1] += data
        else:
            self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.tags if name == tag]

    def ids(self) -> set[str]:
        return {a["id"] for _, a in self.tags if "id" in a}


def _sha(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


@pytest.fixture(scope="module")
def page(plan: Plan, verify_file: Path) -> Page:
    html = make_report(plan, "html", results=[verify_file], layout="builtin")
    assert isinstance(html, str)
    return Page(html)


def test_one_row_per_flow_each_linked_to_its_requirement(plan: Plan, page: Page) -> None:
    rows = [a for a in page.all("tr") if a.get("id", "").startswith("flow-")]
    assert [r["id"] for r in rows] == [f"flow-{f.id}" for f in plan.flows]
    ids = page.ids()
    links = [a["href"] for a in page.all("a")]
    assert links and all(h.startswith("#") for h in links)
    assert {h[1:] for h in links} <= ids  # every link lands
    for flow in plan.flows:
        assert f"req-{flow.requirement}" in ids


def test_page_is_self_contained_and_pinned_by_its_policy(page: Page) -> None:
    for tag, attrs in page.tags:
        assert tag not in ("img", "iframe", "link", "object", "embed", "base"), tag
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert name not in ("src", "srcset", "action", "formaction", "xlink:href")
            if name == "href":
                assert value.startswith("#")
    scripts = page.all("script")
    assert [s.get("type") for s in scripts] == ["application/json", "application/json", None]
    policy = next(m["content"] for m in page.all("meta") if m.get("http-equiv"))
    assert "default-src 'none'" in policy and "connect-src 'none'" in policy
    assert f"'sha256-{_sha(page.raw['script'][2])}'" in policy
    assert f"'sha256-{_sha(page.raw['style'][0])}'" in policy
    assert not page.all("style")[0] and len(page.raw["style"]) == 1
    assert "http:" not in page.raw["style"][0] and "@import" not in page.raw["style"][0]
    assert set(re.findall(r"url\(([^)]*)\)", page.raw["style"][0])) == {"#fm-hatch", "#fm-dots"}
    for api in ("fetch(", "XMLHttpRequest", ".innerHTML", "insertAdjacentHTML", "eval("):
        assert api not in page.raw["script"][2], api


def test_requirements_show_the_french_source_verbatim_and_the_english(
    plan: Plan, page: Page
) -> None:
    text = "".join(page.text)
    for req_id in {f.requirement for f in plan.flows}:
        req = plan.catalog.requirement(req_id)
        assert req.source_text in text, req_id
        assert req.description.en in text
    # the page's rows are quoted in French; a requirement that is not on the page quotes
    # the documentation it comes from, in that documentation's language
    cited = {
        r
        for f in plan.flows
        if "not-in-source" in plan.catalog.requirement(r := f.requirement).flags
    }
    quotes = [q.get("lang") for q in page.all("blockquote")]
    assert quotes.count("en") == len(cited) and quotes.count("fr") == len(quotes) - len(cited)
    assert "fr" in quotes


def test_summary_counts_and_obsolete_requirements(plan: Plan, page: Page) -> None:
    html_text = "".join(page.text)
    assert "Obsolete requirements in use" in html_text
    cards = {a["data-count"] for a in page.all("span") if "data-count" in a}
    assert cards == {"flows", "proven", "failing", "depends", "not-tested", "obsolete"}
    assert "XM-DEV-08" in html_text and "XM-DEV-09" in html_text


def test_french_page(plan_fr: Plan) -> None:
    html = make_report(plan_fr, "html", layout="builtin")
    assert isinstance(html, str)
    parsed = Page(html)
    assert parsed.all("html")[0]["lang"] == "fr"
    text = "".join(parsed.text)
    for word in (
        "Synthèse",
        "Matrice de flux",
        "Non testé",
        "Exigences obsolètes utilisées",
        "Pare-feu",
        "Texte source (français, tel quel)",
        "Réinitialiser",
    ):
        assert word in text, word
    assert "Summary" not in text and "Not tested" not in text


def test_hostile_texts_are_text_not_markup(hostile_plan: Plan, hostile_results: Path) -> None:
    need_graphviz()
    for layout in ("builtin", "graphviz"):
        html = make_report(hostile_plan, "html", results=[hostile_results], layout=layout)
        assert isinstance(html, str)
        parsed = Page(html)
        assert len(parsed.all("script")) == 3
        assert not parsed.all("img")
        for _, attrs in parsed.tags:
            assert not any(name.startswith("on") for name in attrs)
        text = "".join(parsed.text)
        for key in ("script", "img", "formula", "mermaid", "markdown"):
            assert HOSTILE[key] in text, key
        titles = [a["title"] for a in parsed.all("span") if "title" in a]
        assert any(HOSTILE["attr"] in t for t in titles)  # results text stays in its attribute
        code = parsed.raw["script"][2]
        assert "window.__pwned" not in code
        island = parsed.raw["script"][1]
        assert "<" not in island and ">" not in island and "&" not in island
        records = json.loads(island)["rows"]
        assert len(records) == len(hostile_plan.flows)
        assert any(HOSTILE_TEXT in r for record in records for r in record if isinstance(r, str))


def test_output_is_deterministic(plan: Plan, verify_file: Path) -> None:
    first = make_report(plan, "html", results=[verify_file])
    assert first == make_report(plan, "html", results=[verify_file])


def test_data_island_holds_every_flow_in_plan_order(plan: Plan, page: Page) -> None:
    island = json.loads(page.raw["script"][1])
    columns = island["columns"]
    ids = [record[columns.index("id")] for record in island["rows"]]
    assert ids == [f.id for f in plan.flows]
    texts = json.loads(page.raw["script"][0])
    assert texts["statuses"]["not-tested"] == "Not tested"


def test_no_stray_template_syntax(page: Page) -> None:
    text = "".join(page.text)
    assert not re.search(r"\{\{|\{%|\bUndefined\b", text)


def test_obsolete_flows_are_marked_not_requested(plan: Plan, page: Page) -> None:
    not_requested = [f for f in plan.flows if not f.requested]
    assert not_requested, "the default example has obsolete flows"
    marked = [a for a in page.all("span") if "obsolete-not-requested" in a.get("class", "")]
    first_page = [f for f in not_requested if f"flow-{f.id}" in page.ids()]
    assert len(marked) >= len(first_page) > 0
    assert "obsolete: not requested" in "".join(page.text)
