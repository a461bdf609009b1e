"""A site whose free texts try to inject statements: every target keeps them in comments.

The site's name and one site flow's description carry quotes, newlines, semicolons,
braces, '$(...)', backticks, XML and the statement syntax of each target.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from ruamel.yaml import YAML

from flowmatrix.model import Plan
from flowmatrix.rules import Scope, generate
from flowmatrix.rules.target_views import FIREWALL_TARGETS
from flowmatrix.rules.validate import validate

PAYLOAD = (
    "INJECTED",
    "chain evil",
    "policy evil",
    "table inet evil",
    "flush ruleset",
    "COMMIT /",
    "permit ip any any",
    "allprofiles",
    "reboot",
    "-A FORWARD -j ACCEPT",
)
QUOTED = re.compile(r'"[^"\n]*"')
C_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


def scope_for(target: str) -> Scope:
    return Scope("host", "web1") if target == "windows_advfirewall" else Scope("firewall", "fw")


def statements(target: str, text: str) -> list[str]:
    """The lines of ``text`` outside comments and quoted strings."""
    if target in ("ciscoasa", "cisco", "arista"):
        return [x for x in text.splitlines() if " remark " not in x and not x.startswith("!")]
    if target == "srx":
        return QUOTED.sub('""', C_COMMENT.sub("", text)).splitlines()
    if target == "windows_advfirewall":
        return [x for x in text.splitlines() if not x.startswith(":")]
    return [QUOTED.sub('""', x) for x in text.splitlines() if not x.lstrip().startswith("#")]


def strings_with_payload(node: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from strings_with_payload(v, str(k))
    elif isinstance(node, list):
        for item in node:
            yield from strings_with_payload(item, key)
    elif isinstance(node, str) and any(p in node for p in PAYLOAD):
        yield key, node


STRUCTURED: dict[str, Callable[[str], Any]] = {
    "gce": json.loads,
    "k8s": lambda text: YAML(typ="safe").load(text),
}


@pytest.mark.parametrize("target", list(FIREWALL_TARGETS))
def test_hostile_text_stays_in_one_comment(hostile_plan: Plan, target: str) -> None:
    out = generate(hostile_plan, scope_for(target), target)
    assert not out.errors
    assert "SITE-evil.1" in out.text or "site-evil-1" in out.text
    if target == "paloalto":
        root = ET.fromstring(out.text)
        entries = root.findall(".//rulebase/security/rules/entry")
        assert len(root.findall(".//action")) == len(entries)
        assert all(e.findtext("action") == "allow" for e in entries)
        descriptions = [e.findtext("description") or "" for e in entries]
        assert sum("INJECTED-MARKER" in d for d in descriptions) == 2  # tcp and udp, mixed
        return
    if target in STRUCTURED:
        found = list(strings_with_payload(STRUCTURED[target](out.text)))
        assert found and {key for key, _ in found} <= {"description", "comment"}
        return
    for line in statements(target, out.text):
        assert not any(p in line for p in PAYLOAD), line


@pytest.mark.parametrize("target", ["nftables", "iptables"])
def test_hostile_comment_is_one_escaped_line(hostile_plan: Plan, target: str) -> None:
    text = generate(hostile_plan, Scope("firewall", "fw"), target).text
    lines = [x for x in text.splitlines() if "INJECTED-MARKER" in x]
    assert len(lines) == (4 if target == "nftables" else 2)
    for line in lines:
        assert len(QUOTED.findall(line)) == (1 if target == "iptables" else 3)
        assert line.rstrip().endswith('"' if target == "nftables" else '" -j ACCEPT')


@pytest.mark.kernel
@pytest.mark.parametrize("target", ["nftables", "iptables", "ip6tables"])
def test_hostile_rules_still_validate(hostile_plan: Plan, target: str) -> None:
    for scope in (Scope("firewall", "fw"), Scope("host", "web1"), Scope("host", "nsg1")):
        assert validate(target, generate(hostile_plan, scope, target).text) is None
