"""The NAT configuration of FortiGate, PAN-OS, Cisco ASA and Juniper SRX, written into
aerleon's output (what is written is decided in ``vendor_nat.py``).

* FortiGate: ``config firewall vip`` (``vip6``) before the policies, which name the VIPs
  in their destination (aerleon's placeholder objects for them are removed);
  ``config firewall ippool``; ``set nat enable`` (``set ippool enable`` / ``set
  poolname``) in the policies of flows leaving through a source translation.
* PAN-OS (XML): ``rulebase/nat/rules`` beside the security rules: destination NAT from
  and to the outside zone (the published ports as one service per protocol), then
  source NAT ``dynamic-ip-and-port`` to an address or to the interface's.
* Cisco ASA (8.3+): network object NAT after the access lists, ``object network`` with
  ``host`` / ``subnet`` and its ``nat (real,mapped) static ADDRESS [service P real
  mapped]`` or ``dynamic ADDRESS|interface``.
* Juniper SRX: ``nat { static | destination | source }`` in aerleon's ``security``
  block (Junos' brace form, as aerleon writes it).
"""

from __future__ import annotations

import ipaddress
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from flowmatrix.i18n import _
from flowmatrix.rules.firewall_view import RuleSpec
from flowmatrix.rules.text import comment
from flowmatrix.rules.vendor_nat import IPNet, Leaving, NatPlan, Published, range_text

if TYPE_CHECKING:
    from flowmatrix.rules.vendors import Term

Writer = Callable[[str, NatPlan, Sequence["Term"]], str]


def write(text: str, plan: NatPlan, terms: Sequence[Term]) -> str:
    """``text`` (aerleon's output) with the translations of ``plan`` written into it."""
    if not plan.active:
        return text
    if not text:
        plan.warning(_("no rule is written for this firewall, so neither are its translations"))
        return text
    writers: dict[str, Writer] = {
        "fortigate": _fortigate,
        "paloalto": _paloalto,
        "ciscoasa": _ciscoasa,
        "srx": _srx,
    }
    return writers[plan.platform](text, plan, terms)


def _entries(plan: NatPlan) -> list[Published]:
    return [p for entries in plan.published.values() for p in entries]


def _describe(item: Published | Leaving) -> str:
    return comment(item.nat.describe(), 200)


# -- FortiGate ----------------------------------------------------------------------------


def _fortigate(text: str, plan: NatPlan, terms: Sequence[Term]) -> str:
    lines = text.splitlines()
    objects: list[str] = []
    for six in ("", "6"):
        vips = [p for p in _entries(plan) if (p.family == 6) == bool(six)]
        names = {p.name for p in vips}
        lines = _drop(lines, f"firewall address{six}", {f"{name}_0" for name in names})
        lines = _drop(lines, f"firewall addrgrp{six}", names)
        if vips:
            objects += [f"config firewall vip{six}", *(_vip(plan, p) for p in vips), "end"]
    if plan.pools:
        objects.append("config firewall ippool")
        for address, name in plan.pools.items():
            objects += [
                f"    edit {name}",
                "        set type overload",
                f"        set startip {address}",
                f"        set endip {address}",
                "    next",
            ]
        objects.append("end")
    policies = "config firewall policy"
    at = lines.index(policies) if policies in lines else len(lines)
    lines[at:at] = objects
    return "\n".join(_policy_nat(lines, plan, terms)) + "\n"


def _vip(plan: NatPlan, item: Published) -> str:
    nat = item.nat
    lines = [
        f"    edit {item.name}",
        f'        set comment "{_describe(item)}"',
        f"        set extip {nat.public}",
        f'        set mappedip "{nat.private[0]}"',
    ]
    if item.family == 4:  # a vip6 has no external interface
        lines.append(f'        set extintf "{plan.interfaces.get(nat.outside, "any")}"')
    if item.ports is not None:
        ports = range_text(item.ports, "-")
        lines += [
            "        set portforward enable",
            f"        set protocol {item.protocol}",
            f"        set extport {ports}",
            f"        set mappedport {ports}",
        ]
    return "\n".join([*lines, "    next"])


def _drop(lines: list[str], section: str, names: set[str]) -> list[str]:
    """``lines`` without the entries ``names`` of ``config SECTION`` (nor the section,
    when no entry is left in it)."""
    out: list[str] = []
    inside = skipping = False
    opened = 0
    for line in lines:
        stripped = line.strip()
        if stripped == f"config {section}":
            inside, opened = True, len(out)
        elif inside and stripped == "end":
            inside = False
            if len(out) == opened + 1:
                del out[opened:]
                continue
        elif inside and stripped.startswith("edit ") and stripped[5:].strip('"') in names:
            skipping = True
        if skipping:
            skipping = stripped != "next"
            continue
        out.append(line)
    return out


def _policy_nat(lines: list[str], plan: NatPlan, terms: Sequence[Term]) -> list[str]:
    """``set nat enable`` (and the IP pool) before the ``next`` of each policy whose
    flows leave through a source translation of the firewall."""
    specs: dict[str, list[RuleSpec]] = {}
    for spec in plan.specs:
        specs.setdefault(spec.flow.id, []).append(spec)
    by_policy: dict[str, list[RuleSpec]] = {}
    for term in terms:
        by_policy.setdefault(term.name, []).extend(specs.get(term.flow, []))
    out: list[str] = []
    inside = False
    current: str | None = None
    for line in lines:
        stripped = line.strip()
        if stripped == "config firewall policy":
            inside = True
        elif inside and stripped == "end":
            inside = False
        elif inside and stripped.startswith('set name "'):
            current = stripped[len('set name "') : -1]
        elif inside and stripped == "next" and current is not None:
            out += _policy_lines(plan, current, by_policy.get(current, []))
            current = None
        out.append(line)
    return out


def _policy_lines(plan: NatPlan, policy: str, specs: list[RuleSpec]) -> list[str]:
    found = {spec.flow.id: plan.source_nat(spec) for spec in specs}
    leaving = list(dict.fromkeys(item for item in found.values() if item is not None))
    if not leaving:
        return []
    item = leaving[0]
    if len(leaving) > 1 or None in found.values():
        plan.warning(
            _(
                "policy {policy} carries flows of different source translations "
                "({flows}): a FortiGate policy has one, it translates them all as {nat}"
            ).format(policy=policy, flows=", ".join(found), nat=item.nat.describe())
        )
    for spec in specs:
        others = [h.name for h in spec.flow.source.hosts if h.name != item.nat.subject]
        if spec.flow.source.zone != item.nat.subject and others:
            plan.warning(
                _(
                    "policy {policy} translates every source it permits, {hosts} "
                    "too: the site translates {subject} only"
                ).format(policy=policy, hosts=", ".join(others), subject=item.nat.subject),
                spec.flow.id,
            )
    lines = ["        set nat enable"]
    if item.pool:
        lines += ["        set ippool enable", f'        set poolname "{item.pool}"']
    return lines


# -- PAN-OS -------------------------------------------------------------------------------


def _paloalto(text: str, plan: NatPlan, terms: Sequence[Term]) -> str:
    services: list[ET.Element] = []
    rules: list[ET.Element] = []
    for item in _entries(plan):
        nat = item.nat
        service = "any"
        if item.protocol is not None and nat.ports is not None:
            service = f"service-{item.name}"
            ports = ",".join(range_text(r, "-") for r in nat.ports.ranges)
            protocol = _el("protocol", _el(item.protocol, _el("port", ports)))
            services.append(_el("entry", protocol, name=service))
        rules.append(
            _el(
                "entry",
                _el("description", _describe(item)),
                _members("from", [nat.outside]),
                _members("to", [nat.outside]),
                _members("source", ["any"]),
                _members("destination", [nat.public]),
                _el("service", service),
                _el("destination-translation", _el("translated-address", nat.private[0])),
                name=item.name,
            )
        )
    for leaving in plan.leaving.values():
        nat = leaving.nat
        if nat.masquerade:
            to = _el("interface-address", _el("interface", plan.interface(nat.outside)))
        else:
            to = _members("translated-address", [nat.public])
        rules.append(
            _el(
                "entry",
                _el("description", _describe(leaving)),
                _members("from", list(leaving.zones or plan.inside_zones() or ("any",))),
                _members("to", [nat.outside]),
                _members("source", [n.with_prefixlen for n in leaving.networks]),
                _members("destination", ["any"]),
                _el("service", "any"),
                _el("source-translation", _el("dynamic-ip-and-port", to)),
                name=leaving.name,
            )
        )
    if not rules:
        return text
    lines = text.splitlines()
    if services:
        _into(lines, "service", services)
    _into(lines, "rulebase", [_el("nat", _el("rules", *rules))])
    return "\n".join(lines) + "\n"


def _el(tag: str, *content: ET.Element | str, name: str | None = None) -> ET.Element:
    """An element with its children, or its text."""
    element = ET.Element(tag, {} if name is None else {"name": name})
    for part in content:
        if isinstance(part, str):
            element.text = part
        else:
            element.append(part)
    return element


def _members(tag: str, values: list[str]) -> ET.Element:
    return _el(tag, *(_el("member", value) for value in values))


def _into(lines: list[str], tag: str, elements: list[ET.Element]) -> None:
    """Append ``elements`` to the first ``<tag>`` element of aerleon's XML (``lines``),
    indented as aerleon indents (two spaces a level)."""
    closing = next((i for i, line in enumerate(lines) if line.strip() == f"</{tag}>"), None)
    if closing is None:  # aerleon wrote it empty
        at = next(i for i, line in enumerate(lines) if line.strip() == f"<{tag}/>")
        indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
        lines[at : at + 1] = [f"{indent}<{tag}>", f"{indent}</{tag}>"]
        closing = at + 1
    level = (len(lines[closing]) - len(lines[closing].lstrip())) // 2 + 1
    added: list[str] = []
    for element in elements:
        ET.indent(element, space="  ", level=level)
        added += ("  " * level + ET.tostring(element, encoding="unicode")).splitlines()
    lines[closing:closing] = [line.rstrip() for line in added if line.strip()]


# -- Cisco ASA ----------------------------------------------------------------------------


def _ciscoasa(text: str, plan: NatPlan, terms: Sequence[Term]) -> str:
    lines = text.rstrip("\n").splitlines()
    for item in _entries(plan):
        nat = item.nat
        zones = plan.reached_from(nat)
        pair = f"({_asa_interface(plan, zones)},{plan.interface(nat.outside)})"
        rule = f" nat {pair} static {nat.public}"
        if item.ports is not None:
            rule += f" service {item.protocol} {item.ports[0]} {item.ports[0]}"
        address = ipaddress.ip_network(nat.private[0], strict=False)
        lines += ["", f"object network {item.name}", _asa_address(address), rule]
    for leaving in plan.leaving.values():
        nat = leaving.nat
        pair = f"({_asa_interface(plan, leaving.zones)},{plan.interface(nat.outside)})"
        mapped = "interface" if nat.masquerade else nat.public
        for index, network in enumerate(leaving.networks):
            name = leaving.name if index == 0 else plan.names(leaving.name, str(index + 1))
            rule = f" nat {pair} dynamic {mapped}"
            lines += ["", f"object network {name}", _asa_address(network), rule]
    return "\n".join(lines) + "\n"


def _asa_interface(plan: NatPlan, zones: tuple[str, ...]) -> str:
    """The real interface of an object NAT: the one zone's, or ``any``."""
    return plan.interface(zones[0]) if len(zones) == 1 else "any"


def _asa_address(network: IPNet) -> str:
    if network.num_addresses == 1:
        return f" host {network.network_address}"
    if network.version == 4:
        return f" subnet {network.network_address} {network.netmask}"
    return f" subnet {network.with_prefixlen}"


# -- Juniper SRX --------------------------------------------------------------------------


def _srx(text: str, plan: NatPlan, terms: Sequence[Term]) -> str:
    outside = plan.nats[0].outside  # one outside zone per firewall
    static: list[str] = []
    pools: list[str] = []
    destination: list[str] = []
    for nat, entries in plan.published.items():
        public = _prefix(nat.public)
        private = _prefix(nat.private[0])
        if nat.ports is None:
            then = _block("static-nat", _block("prefix", [f"{private};"]))
            match = [f"destination-address {public};"]
            static += _rule(entries[0].name, match, then)
            continue
        pool = plan.names("pool", nat.subject)
        pools += _block(f"pool {pool}", [f"address {private};"])
        for item in entries:
            assert item.ports is not None
            match = [
                f"destination-address {public};",
                f"destination-port {range_text(item.ports, ' to ')};",
                f"protocol {item.protocol};",
            ]
            destination += _rule(
                item.name, match, _block("destination-nat", _block("pool", [f"{pool};"]))
            )
    source: list[str] = []
    for leaving in plan.leaving.values():
        nat = leaving.nat
        translated = ["interface;"] if nat.masquerade else _block("pool", [f"{leaving.pool};"])
        match = [f"source-address {n.with_prefixlen};" for n in leaving.networks]
        source += _rule(leaving.name, match, _block("source-nat", translated))
    inbound = [f"from zone {outside};"]
    sections: list[str] = []
    if static:
        sections += _block("static", _block(f"rule-set from-{outside}", inbound, static))
    if destination:
        rule_set = _block(f"rule-set from-{outside}", inbound, destination)
        sections += _block("destination", pools, rule_set)
    zones = [z for item in plan.leaving.values() for z in item.zones] or plan.inside_zones()
    if source and not zones:
        plan.error(_("no zone is known that the source translations apply from: not written"))
    elif source:
        head = [f"from zone {_junos_list(list(dict.fromkeys(zones)))};", f"to zone {outside};"]
        addresses = [
            _block(f"pool {name}", _block("address", [f"{_prefix(address)};"]))
            for address, name in plan.pools.items()
        ]
        sections += _block("source", *addresses, _block(f"rule-set to-{outside}", head, source))
    if not sections:
        return text
    lines = text.splitlines()
    opened = lines.index("security {")
    closing = next(i for i in range(opened + 1, len(lines)) if lines[i] == "}")
    lines[closing:closing] = ["    " + line for line in _block("nat", sections)]
    return "\n".join(lines) + "\n"


def _prefix(address: str) -> str:
    return ipaddress.ip_network(address, strict=False).with_prefixlen


def _rule(name: str, match: list[str], then: list[str]) -> list[str]:
    return _block(f"rule {name}", _block("match", match), _block("then", then))


def _junos_list(values: list[str]) -> str:
    return values[0] if len(values) == 1 else f"[ {' '.join(values)} ]"


def _block(head: str, *bodies: list[str]) -> list[str]:
    """``head { ... }`` in Junos' brace form, four spaces a level."""
    return [f"{head} {{", *("    " + line for body in bodies for line in body), "}"]
