"""Diagrams: DOT through real Graphviz, Mermaid's syntax, the built-in SVG, the sanitiser."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from report_support import HOSTILE, HOSTILE_TEXT, need_graphviz

from flowmatrix.errors import UserError
from flowmatrix.model import Plan
from flowmatrix.report.compose import diagram_svg, make_report
from flowmatrix.report.diagram import Diagram, Edge, Node, Zone, build_diagram
from flowmatrix.report.dot import quote, to_dot
from flowmatrix.report.graphviz import sanitise_svg
from flowmatrix.report.mermaid import to_mermaid
from flowmatrix.report.status import Checks
from flowmatrix.textsafe import one_line

SVG = "{http://www.w3.org/2000/svg}"


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def dot_binary() -> str:
    need_graphviz()
    found = shutil.which("dot")
    assert found is not None
    return found


def _graphviz(dot_binary: str, text: str, fmt: str) -> str:
    done = subprocess.run(
        [dot_binary, f"-T{fmt}"],
        input=text,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg[svg.index("<svg") :])
    return [el.text or "" for el in root.iter(f"{SVG}text")]


def test_diagram_groups_flows_per_role_and_zone(plan: Plan) -> None:
    diagram = build_diagram(plan, Checks())
    assert sum(len(e.flows) for e in diagram.edges) == len(plan.flows)
    pairs = {(e.source, e.target) for e in diagram.edges}
    assert len(pairs) == len(diagram.edges)
    zone_names = [z.name for z in diagram.zones]
    assert zone_names == [z.name for z in plan.site.zones]
    levels = {z.name: z.level for z in diagram.zones}
    assert levels == {"internet": 0, "dmz": 1, "servers": 2, "admin": 2, "lan-wifi": 2}
    apns = [e for e in diagram.edges if set(e.flows) <= {"XM-DEV-08.1", "XM-DEV-09.1"}]
    assert all(e.retired for e in apns)


def test_dot_renders_with_graphviz_one_node_per_role_and_zone(plan: Plan, dot_binary: str) -> None:
    diagram = build_diagram(plan, Checks())
    text = make_report(plan, "dot")
    assert isinstance(text, str)
    graph = json.loads(_graphviz(dot_binary, text, "json"))
    names = {o["name"] for o in graph["objects"]}
    nodes = {n.id for z in diagram.zones for n in z.nodes}
    assert nodes <= names
    assert {f"cluster_{z.id}" for z in diagram.zones} <= names
    assert {f.id for f in diagram.firewalls} <= names
    links = sum(len(f.zones) for f in diagram.firewalls)
    assert len(graph["edges"]) == len(diagram.edges) + links


def test_hostile_names_cannot_inject_dot(hostile_plan: Plan, dot_binary: str) -> None:
    diagram = build_diagram(hostile_plan, Checks())
    text = to_dot(diagram)
    graph = json.loads(_graphviz(dot_binary, text, "json"))
    expected = {n.id for z in diagram.zones for n in z.nodes} | {f.id for f in diagram.firewalls}
    expected |= {f"{z.id}_anchor" for z in diagram.zones}
    expected |= {f"cluster_{z.id}" for z in diagram.zones}
    names = {o["name"] for o in graph["objects"] if not o["name"].startswith("%")}
    assert names == expected  # no 'evil' node appeared ('%n' are the rank groups)
    texts = _svg_texts(_graphviz(dot_binary, text, "svg"))
    role_names = {flat(n.label) for z in diagram.zones for n in z.nodes}
    assert role_names <= set(texts)  # drawn literally, quotes and backslashes included
    assert flat(hostile_plan.site.name) in texts


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_dot_quote_round_trips_through_graphviz(value: str) -> None:
    need_graphviz()
    binary = shutil.which("dot")
    assert binary is not None
    text = f"digraph g {{ a [label={quote(value)}]; }}"
    graph = json.loads(_graphviz(binary, text, "json"))
    assert [o["name"] for o in graph["objects"]] == ["a"]
    drawn = _svg_texts(_graphviz(binary, text, "svg"))
    expected = one_line(value)
    assert [flat(t) for t in drawn] == ([expected] if expected else [])


_MERMAID_LINE = re.compile(
    r"""^(flowchart\ LR
    |\ \ subgraph\ z\d+\["[^"<>`|]*"\]
    |\ \ \ \ n\d+\["[^"<>`|]*"\]
    |\ \ end
    |\ \ f\d+\{\{"[^"<>`|]*"\}\}
    |\ \ f\d+\ -\.-\ z\d+
    |\ \ n\d+\ -->\|"[^"<>`|]*"\|\ n\d+
    |\ \ classDef\ \w+\ [\w#:,]+
    |\ \ class\ [\w,]+\ \w+
    |\ \ linkStyle\ \d+\ stroke:\#[0-9a-f]{6},stroke-width:[\d.]+px(,stroke-dasharray:[\d ]+)?
    )$""",
    re.VERBOSE,
)


def _unmermaid(text: str) -> str:
    return re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), text)


def test_hostile_names_cannot_inject_mermaid(hostile_plan: Plan) -> None:
    diagram = build_diagram(hostile_plan, Checks())
    text = to_mermaid(diagram)
    lines = text.splitlines()
    for line in lines:
        assert _MERMAID_LINE.match(line.replace("<br>", "")), line
    labels = [_unmermaid(m) for m in re.findall(r'"([^"]*)"', text)]
    for node in (n for z in diagram.zones for n in z.nodes):
        assert flat(node.label) in labels or any(
            label.startswith(flat(node.label) + "<br>") for label in labels
        )
    styled = [int(line.split()[1]) for line in lines if line.startswith("  linkStyle")]
    links = [line for line in lines if "-->" in line or "-.-" in line]
    assert styled == list(range(len(links) - len(diagram.edges), len(links)))


def _tiny_diagram(label: str) -> Diagram:
    node = Node("n1", "r", label, "h1", "z")
    edge = Edge("e1", "n1", "n1", "tcp 1", "failing", False, ("F.1",))
    return Diagram(label, (Zone("z1", label, 0, ("10.0.0.0/8",), (node,)),), (), (edge,))


def test_builtin_svg_is_well_formed_and_escapes_everything(hostile_plan: Plan) -> None:
    hostile_plan_diagram = build_diagram(hostile_plan, Checks())
    svg, engine = diagram_svg(hostile_plan, hostile_plan_diagram, "builtin")
    assert engine == "builtin"
    root = ET.fromstring(svg)
    allowed = {"svg", "g", "defs", "marker", "path", "rect", "text", "title", "line", "polygon"}
    assert {el.tag.removeprefix(SVG) for el in root.iter()} <= allowed
    for element in root.iter():
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on")
            assert "url(" not in value or value.startswith("url(#fm-arrow-")
    titles = [el.text or "" for el in root.iter(f"{SVG}title")]
    assert any(HOSTILE["script"] in t and HOSTILE["attr"] in t for t in titles)
    flows = [el for el in root.iter(f"{SVG}path") if "flow" in el.get("class", "")]
    assert len(flows) == len(hostile_plan_diagram.edges)


def test_builtin_layout_of_the_default_site(plan: Plan) -> None:
    diagram = build_diagram(plan, Checks())
    svg, _ = diagram_svg(plan, diagram, "builtin")
    root = ET.fromstring(svg)
    width = float(root.get("width", "0"))
    for path in root.iter(f"{SVG}path"):
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d", ""))]
        assert all(0 <= x <= width for x in numbers[0::2]), "a curve leaves the drawing"
    roles = [el for el in root.iter(f"{SVG}g") if el.get("class") == "role"]
    assert len(roles) == sum(len(z.nodes) for z in diagram.zones)


def test_graphviz_svg_is_sanitised(plan: Plan, dot_binary: str) -> None:
    svg, engine = diagram_svg(plan, build_diagram(plan, Checks()), "graphviz")
    assert engine == "graphviz"
    assert "<!DOCTYPE" not in svg and "<?xml" not in svg and "<!--" not in svg
    assert "xlink" not in svg and "http://www.w3.org/1999" not in svg
    assert ' id="' not in svg
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    titles = [el.text or "" for el in root.iter(f"{SVG}title")]
    assert any("NetScaler Gateway ->" in t for t in titles)  # tooltips kept as titles


EVIL_SVG = """<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY x "expanded">]>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     width="10" height="10" onload="alert(1)">
  <!-- a comment -->
  <script>alert(2)</script>
  <g id="node1" class="node" style="background:url(http://evil/x)">
    <title>n1</title>
    <a xlink:href="https://evil.example/" xlink:title="safe tooltip" target="_blank">
      <rect x="0" y="0" width="5" height="5" fill="url(https://evil/p)" onclick="alert(3)"/>
      <text x="1" y="1">&lt;script&gt;kept as text</text>
    </a>
    <image href="https://evil.example/i.png"/>
    <foreignObject><div xmlns="http://www.w3.org/1999/xhtml">html</div></foreignObject>
    <use href="https://evil.example/s.svg#a"/>
    <path d="M0,0 L1,1" fill="url(#local)"/>
  </g>
</svg>"""


def test_sanitiser_keeps_drawing_and_drops_everything_else() -> None:
    clean = sanitise_svg(EVIL_SVG)
    for bad in (
        "alert",
        "evil",
        "script>",
        "image",
        "foreignObject",
        "use",
        "style=",
        "DOCTYPE",
        "comment",
        "xlink",
        "target",
        'id="',
    ):
        assert bad not in clean, bad
    root = ET.fromstring(clean)
    texts = [el.text for el in root.iter(f"{SVG}text")]
    assert texts == ["<script>kept as text"]
    assert [el.text for el in root.iter(f"{SVG}title")] == ["safe tooltip"]
    assert root.find(f".//{SVG}rect") is not None
    assert root.find(f".//{SVG}path").get("fill") == "url(#local)"  # type: ignore[union-attr]


def test_sanitiser_rejects_what_is_not_svg() -> None:
    with pytest.raises(ValueError):
        sanitise_svg("<html><body/></html>")
    with pytest.raises(ValueError):
        sanitise_svg("no markup at all")


def test_without_graphviz_auto_falls_back_and_graphviz_is_a_user_error(
    plan: Plan, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    diagram = build_diagram(plan, Checks())
    assert diagram_svg(plan, diagram, "auto")[1] == "builtin"
    with pytest.raises(UserError) as caught:
        diagram_svg(plan, diagram, "graphviz")
    assert caught.value.hint and "--layout builtin" in caught.value.hint


def test_tiny_diagram_texts(dot_binary: str) -> None:
    label = HOSTILE_TEXT
    texts = _svg_texts(_graphviz(dot_binary, to_dot(_tiny_diagram(label)), "svg"))
    assert flat(label) in texts
