"""The HTML report in real headless Chromium: the DOM, the filters, sorting, no network.

Screenshots land in test-artifacts/report/ for a human to look at.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest
from report_support import HOSTILE, need_graphviz
from report_webdriver import Chromium

from flowmatrix.api import load_plan
from flowmatrix.model import Plan
from flowmatrix.report.compose import load_checks, make_report

pytestmark = pytest.mark.browser

VISIBLE = "return Array.from(document.querySelectorAll('#flows tbody tr'))"
VISIBLE_IDS = VISIBLE + ".map(r => r.id.slice(5))"
SHOWN = "return document.getElementById('shown').dataset.shown"


def _write(tmp_path: Path, name: str, html: str | bytes) -> str:
    assert isinstance(html, str)
    path = tmp_path / name
    path.write_text(html, "utf-8")
    return path.as_uri()


def _severe(browser: Chromium) -> list[str]:
    return [e["message"] for e in browser.logs("browser") if e["level"] in ("SEVERE", "WARNING")]


def _choose(browser: Chromium, select: str, value: str) -> None:
    browser.click(f'{select} option[value="{value}"]')


def _shown(browser: Chromium) -> list[str]:
    return list(browser.run(VISIBLE_IDS))


@pytest.fixture(scope="module")
def page_url(plan: Plan, verify_file: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("html")
    return _write(
        folder, "report.html", make_report(plan, "html", results=[verify_file], layout="builtin")
    )


def test_harness_sees_console_errors_and_network_requests(browser: Chromium) -> None:
    browser.open("about:blank", ready="true")
    browser.run("console.error('probe-error'); new Image().src = 'http://127.0.0.1:9/x.png';")
    assert any("probe-error" in m for m in _severe(browser))
    requests: list[str] = []
    deadline = time.monotonic() + 10
    while "http://127.0.0.1:9/x.png" not in requests and time.monotonic() < deadline:
        requests += browser.network_requests()
        time.sleep(0.05)
    assert "http://127.0.0.1:9/x.png" in requests


@pytest.mark.parametrize("layout", ["builtin", "graphviz"])
def test_page_loads_with_every_flow_and_no_error_nor_request(
    browser: Chromium,
    plan: Plan,
    verify_file: Path,
    tmp_path: Path,
    artifacts: Path,
    layout: str,
) -> None:
    if layout == "graphviz":
        need_graphviz()
    url = _write(
        tmp_path,
        f"report-{layout}.html",
        make_report(plan, "html", results=[verify_file], layout=layout),
    )
    browser.open(url)
    assert browser.run("return document.querySelectorAll('#flows tbody tr').length") == len(
        plan.flows
    )
    assert len(_shown(browser)) == len(plan.flows)
    assert browser.run("return document.querySelector('figure').dataset.engine") == layout
    size = browser.run(
        "const b = document.querySelector('figure svg').getBoundingClientRect();"
        "return [b.width, b.height]"
    )
    assert size[0] > 600 and size[1] > 300
    assert browser.run("return document.documentElement.lang") == "en"
    assert browser.run("return document.getElementById('shown').textContent") == (
        f"Showing {len(plan.flows)} of {len(plan.flows)} flows"
    )
    assert _severe(browser) == []
    assert browser.network_requests() == [url]
    browser.screenshot(artifacts / f"report-{layout}-top.png")
    browser.run("document.getElementById('diagram').scrollIntoView()")
    browser.screenshot(artifacts / f"report-{layout}-diagram.png")
    browser.run("document.getElementById('matrix').scrollIntoView()")
    browser.screenshot(artifacts / f"report-{layout}-matrix.png")


def test_filters_really_filter(
    browser: Chromium, page_url: str, plan: Plan, verify_file: Path
) -> None:
    browser.open(page_url)
    checks = load_checks(plan, [verify_file])

    def expect(ids: list[str]) -> None:
        assert _shown(browser) == ids
        count = browser.run("return document.getElementById('shown').dataset.shown")
        assert count == str(len(ids))

    _choose(browser, "#f-fw", "fw-front")
    expect([f.id for f in plan.flows if "fw-front" in f.firewalls])
    _choose(browser, "#f-fw", "-")
    expect([f.id for f in plan.flows if not f.firewalls])
    _choose(browser, "#f-fw", "")
    _choose(browser, "#f-role", "dns-server")
    expect([f.id for f in plan.flows if "dns-server" in (f.source.role, f.destination.role)])
    _choose(browser, "#f-role", "")
    _choose(browser, "#f-port", "443")
    with_443 = [f.id for f in plan.flows if 443 in f.ports]
    expect(with_443)
    _choose(browser, "#f-status", "failing")
    expect([i for i in with_443 if checks.of(plan.flow(i)).status == "failing"])
    browser.click("#f-reset")
    browser.wait_for(VISIBLE + f".length === {len(plan.flows)}")
    browser.type_into("#f-text", "SQL1")
    browser.wait_for(SHOWN + f" !== '{len(plan.flows)}'")
    expect(
        [
            f.id
            for f in plan.flows
            if "sql1" in {h.name for h in (*f.source.hosts, *f.destination.hosts)}
        ]
    )
    browser.clear("#f-text")
    browser.type_into("#f-text", "no such thing anywhere")
    browser.wait_for(SHOWN + " === '0'")
    assert browser.run("return document.getElementById('empty').hidden") is False
    assert _severe(browser) == []


def test_summary_cards_filter_by_status(
    browser: Chromium, page_url: str, plan: Plan, verify_file: Path
) -> None:
    browser.open(page_url)
    checks = load_checks(plan, [verify_file])
    browser.click("button.card.st-depends")
    assert _shown(browser) == [f.id for f in plan.flows if checks.of(f).status == "depends"]
    assert browser.run("return document.getElementById('f-status').value") == "depends"
    browser.click("button.card.st-depends")
    assert len(_shown(browser)) == len(plan.flows)


def test_sorting_sorts(browser: Chromium, page_url: str, plan: Plan) -> None:
    browser.open(page_url)
    first_ports = "return " + VISIBLE[7:] + ".map(r => parseInt(r.cells[5].textContent, 10))"
    browser.click("#flows thead th:nth-child(6) button")
    ascending = browser.run(first_ports)
    assert ascending == sorted(min(f.ports[:1]) for f in plan.flows)
    assert (
        browser.run(
            "return document.querySelector('#flows thead th:nth-child(6)')"
            ".getAttribute('aria-sort')"
        )
        == "ascending"
    )
    browser.click("#flows thead th:nth-child(6) button")
    assert browser.run(first_ports) == sorted(ascending, reverse=True)
    browser.click("#flows thead th:nth-child(1) button")
    order = browser.run(
        "return " + VISIBLE[7:] + ".map(r => r.querySelector('.badge').className.slice(9))"
    )
    rank = ["failing", "depends", "not-tested", "proven"]
    assert order == sorted(order, key=rank.index)
    browser.click("#flows thead th:nth-child(2) button")
    ids = _shown(browser)
    requirements = list(dict.fromkeys(i.rsplit(".", 1)[0] for i in ids))
    assert requirements == sorted(requirements)  # XM-ADD, XM-APP, XM-DEV
    for requirement in requirements:
        numbers = [int(i.rsplit(".", 1)[1]) for i in ids if i.startswith(requirement + ".")]
        assert numbers == sorted(numbers)  # numeric: .2 before .10


def test_a_link_to_a_filtered_out_flow_clears_the_filters(browser: Chromium, page_url: str) -> None:
    browser.open(page_url)
    _choose(browser, "#f-fw", "fw-front")
    assert browser.run("return document.getElementById('flow-XM-APP-02.2')") is None
    browser.click('a[href="#flow-XM-APP-02.2"]')
    browser.wait_for("return document.getElementById('flow-XM-APP-02.2') !== null")
    assert browser.run("return document.getElementById('f-fw').value") == ""


def test_print_view_and_grey_print(browser: Chromium, page_url: str, artifacts: Path) -> None:
    browser.open(page_url)
    _choose(browser, "#f-fw", "fw-back")
    browser.cdp("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        hidden = browser.run("return getComputedStyle(document.getElementById('filters')).display")
        assert hidden == "none"
        note = browser.run("return document.getElementById('print-filter').textContent")
        assert "fw-back" in note
        browser.run("scrollTo(0, 0)")
        browser.screenshot(artifacts / "report-print.png")
        pdf = browser.cdp("Page.printToPDF", {"landscape": True, "printBackground": False})
        data = base64.b64decode(pdf["data"])
        assert data.startswith(b"%PDF")
        (artifacts / "report-print.pdf").write_bytes(data)
    finally:
        browser.cdp("Emulation.setEmulatedMedia", {"media": ""})
    labels = browser.run(
        "return Array.from(document.querySelectorAll('.card[data-status]:not(.total) .what'))"
        ".map(e => e.textContent.trim())"
    )
    assert len(labels) == 4
    symbols = {label.split()[0] for label in labels}
    assert len(symbols) == 4  # each status has its own symbol beside its word
    browser.run("document.documentElement.style.filter = 'grayscale(1)'; scrollTo(0, 0)")
    browser.screenshot(artifacts / "report-grey.png")
    browser.run("document.documentElement.style.filter = ''")


def test_hostile_page_runs_nothing(
    browser: Chromium,
    hostile_plan: Plan,
    hostile_results: Path,
    tmp_path: Path,
    artifacts: Path,
) -> None:
    need_graphviz()
    for layout in ("builtin", "graphviz"):
        url = _write(
            tmp_path,
            f"hostile-{layout}.html",
            make_report(hostile_plan, "html", results=[hostile_results], layout=layout),
        )
        browser.open(url)
        assert browser.run("return typeof window.__pwned") == "undefined"
        text = browser.run("return document.body.innerText")
        for key in ("script", "img", "formula", "markdown"):
            assert HOSTILE[key] in text, key
        for element in ("#flows tbody tr td:nth-child(8)", "figure svg"):
            browser.run(
                "document.querySelector(arguments[0]).dispatchEvent("
                "new MouseEvent('mouseover', {bubbles: true}))",
                element,
            )
        assert browser.run("return typeof window.__pwned") == "undefined"
        assert browser.run("return document.querySelectorAll('#flows tbody tr').length") == len(
            hostile_plan.flows
        )
        assert _severe(browser) == []
        assert browser.network_requests() == [url]
    browser.screenshot(artifacts / "report-hostile.png")


def _many_flows_site(tmp_path: Path, count: int) -> Path:
    """The default example with ``count`` site-specific flows from the admins to xms1."""
    from flowmatrix.api import example_text

    flows = "".join(
        f"  - {{name: f{i:03d}, source: admins, destination: xms1, ports: [{10000 + i}],"
        f" description: 'Admin tool {i}'}}\n"
        for i in range(count)
    )
    path = tmp_path / "many.yaml"
    path.write_text(example_text("default") + "flows:\n" + flows, "utf-8")
    return path


def test_a_large_plan_is_paged(browser: Chromium, tmp_path: Path) -> None:
    from html.parser import HTMLParser

    from flowmatrix.api import load_plan

    plan = load_plan(_many_flows_site(tmp_path, 600))
    total = len(plan.flows)
    page = make_report(plan, "html", layout="builtin")
    assert isinstance(page, str)

    class Rows(HTMLParser):
        """The text of each row the HTML itself holds (what a reader without script sees)."""

        def __init__(self) -> None:
            super().__init__()
            self.rows: list[str] = []
            self.inside = False

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "tr" and dict(attrs).get("id", "").startswith("flow-"):
                self.inside = True
                self.rows.append("")

        def handle_endtag(self, tag: str) -> None:
            if tag == "tr":
                self.inside = False

        def handle_data(self, data: str) -> None:
            if self.inside:
                self.rows[-1] += data

    served = Rows()
    served.feed(page)
    assert len(served.rows) == 250
    browser.open(_write(tmp_path, "many.html", page))
    drawn = browser.run(VISIBLE[:-1] + ").map(r => r.textContent)")
    # The script draws rows exactly as the template writes them (but the line breaks
    # between cells, which show nothing).
    assert drawn == [row.replace("\n", "") for row in served.rows]
    assert browser.run(SHOWN) == str(total)
    assert browser.run("return document.getElementById('pager').hidden") is False
    browser.click('#pager button[data-page="next"]')
    assert _shown(browser)[0] == plan.flows[250].id
    browser.click('#pager button[data-page="last"]')
    assert _shown(browser) == [f.id for f in plan.flows[500:]]
    assert "3 / 3" in browser.run("return document.getElementById('page-info').textContent")
    _choose(browser, "#f-size", "0")
    assert len(_shown(browser)) == total
    _choose(browser, "#f-size", "100")
    browser.type_into("#f-text", "site-F59")
    browser.wait_for(SHOWN + " === '10'")  # SITE-f590 to SITE-f599
    assert browser.run("return document.getElementById('pager').hidden") is True
    browser.click("#f-reset")
    browser.wait_for(SHOWN + f" === '{total}'")
    target = plan.flows[-1].id
    browser.run(f"location.hash = '#flow-{target}'")
    browser.wait_for(f"return document.getElementById('flow-{target}') !== null")
    assert _severe(browser) == []


def test_translations_survive_the_script_drawing_the_rows(
    browser: Chromium, tmp_path: Path
) -> None:
    """The hospital publishes its gateway: the NAT line under a flow's firewall path is the
    same in the rows the server draws and in those the script draws once sorted."""
    hospital = load_plan("example:hospital")
    url = _write(tmp_path, "hospital.html", make_report(hospital, "html", layout="builtin"))
    cells = (
        "return " + VISIBLE[7:] + ".map(r => [r.id.slice(5), "
        "(r.cells[6].querySelector('.sub') || {textContent: ''}).textContent])"
    )
    browser.open(url)
    drawn = dict(browser.run(cells))
    expected = {f.id: f.translations for f in hospital.flows}
    assert drawn == expected
    assert drawn["XM-APP-24.4"] == "edge DNAT 203.0.113.40 port 443,8443 -> 172.30.10.10 (adc1)"
    browser.click("#flows thead th:nth-child(6) button")  # the script redraws every row
    assert dict(browser.run(cells)) == expected
    assert _severe(browser) == []
