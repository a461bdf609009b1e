"""nftables rules: one ``inet`` table per firewall or host, loaded atomically by ``nft -f``.

Shape of the output:

* ``table inet T {}`` then ``delete table inet T`` then the full table: one transaction
  that replaces the previous version, so loading the file twice gives the same ruleset;
* named sets: one per flow end and address family (``flags interval``), and one per
  port list that several rules share; rules refer to them, so a large plan loads as
  set elements, not thousands of anonymous sets;
* an 'any' end in the Internet zone is every address in no other zone of the site:
  ``ip saddr != @zone_not_internet_v4`` (a set of the other zones' networks, per family;
  no match in a family the other zones do not use);
* an end known by name: one set per name and family (``fqdn_<name>_v4``,
  ``flags interval,timeout``, its comment naming the name, see ``namesets``), filled by
  dnsmasq's ``nftset=`` lines or pinned by ``--resolve``; one rule per name set;
* base chain ``forward`` (firewall) or ``input`` + ``output`` (host), policy drop,
  stateful: established/related accepted first, invalid dropped, then one rule per flow
  and family matching new connections (a port list no other rule shares is written as
  one rule per port range), each with the flow id in its comment; a flow whose packets
  an earlier rule already accepts joins that rule's comment (see ``merge``);
* a firewall that translates addresses (site ``nat:``) also gets, in the same table,
  ``chain prerouting`` (type nat, priority dstnat: one ``dnat`` rule per published
  address) and ``chain postrouting`` (priority srcnat: one ``snat`` or ``masquerade``
  rule per source translation and family), see ``natrules``.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Mapping, Sequence

from flowmatrix import namesets
from flowmatrix.model import NatKind
from flowmatrix.portset import PortSet
from flowmatrix.rules.dns_pins import Answer
from flowmatrix.rules.firewall_view import Chain, Family, RuleSpec, Selection, Side
from flowmatrix.rules.grouping import MergedChain, PortRanges
from flowmatrix.rules.named_ends import NameSet, pinned_comments
from flowmatrix.rules.natrules import PROTOCOLS, NatRules, Translation, nat_rules
from flowmatrix.rules.objects import ObjectNames, ports_key
from flowmatrix.rules.text import clean_text, comment, identifier, linux_interface, truncate_bytes

#: nft refuses longer rule comments (NFTNL_UDATA_COMMENT_MAXLEN).
COMMENT_LIMIT = 128
_ELEMENTS_PER_LINE = 8
_ND_TYPES = "nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert"

IPNet = ipaddress.IPv4Network | ipaddress.IPv6Network


def table_name(scope_name: str) -> str:
    return identifier(f"flowmatrix_{scope_name}", 200)


def _rule_line(match: str, text: str) -> str:
    # ``text`` is made of cleaned parts (see _Renderer.clean): only the length is left
    return f'\t\t{match} ct state new accept comment "{truncate_bytes(text, COMMENT_LIMIT)}"'


def _element(net: IPNet) -> str:
    if net.num_addresses == 1:
        return str(net.network_address)
    return net.with_prefixlen


def _set_block(
    name: str,
    kind: str,
    elements: Sequence[str],
    interval: bool,
    *,
    timeout: bool = False,
    text: str | None = None,
) -> list[str]:
    lines = [f"\tset {name} {{", f"\t\ttype {kind}"]
    if interval:
        lines.append("\t\tflags interval,timeout" if timeout else "\t\tflags interval")
    if text is not None:
        lines.append(f'\t\tcomment "{text}"')
    if not elements:
        pass
    elif len(elements) <= _ELEMENTS_PER_LINE:
        lines.append(f"\t\telements = {{ {', '.join(elements)} }}")
    else:
        lines.append("\t\telements = {")
        for start in range(0, len(elements), _ELEMENTS_PER_LINE):
            chunk = elements[start : start + _ELEMENTS_PER_LINE]
            tail = "," if start + _ELEMENTS_PER_LINE < len(elements) else ""
            lines.append(f"\t\t\t{', '.join(chunk)}{tail}")
        lines.append("\t\t}")
    lines.append("\t}")
    return lines


def port_uses(specs: Sequence[RuleSpec]) -> Counter[PortSet]:
    """How many rules (one per family) each port list would be matched in.

    nft makes a kernel set of every set, named or anonymous, and thousands of them make
    a ruleset slow to load; so only the port lists that several rules share become
    named sets, and a list that one rule alone uses is written as one rule per range.
    """
    uses: Counter[PortSet] = Counter()
    for spec in specs:
        if spec.renderable:
            uses[spec.flow.ports] += max(1, len(spec.families))
    return uses


class _Renderer:
    def __init__(self, uses: Counter[PortSet]) -> None:
        self.port_uses = uses
        self.addresses: ObjectNames[tuple[IPNet, ...]] = ObjectNames()
        self.ports: ObjectNames[PortSet] = ObjectNames()
        self.set_names: dict[tuple[int, Family], tuple[Side, str]] = {}
        self.cleaned: dict[str, str] = {}
        self.port_cache: dict[tuple[str, PortSet], list[tuple[str, PortRanges]]] = {}
        self.name_sets: dict[NameSet, None] = {}

    def address_matches(self, side: Side, family: Family, direction: str) -> list[str | None]:
        """The alternatives matching ``side`` in ``family``: its address set and one name
        set per name (a rule each); [None] for an 'any' end that excludes nothing."""
        if side.any:
            return [self.address_match(side, family, direction)]
        found: list[str | None] = []
        if side.networks(family):
            found.append(self.address_match(side, family, direction))
        keyword = "ip" if family == 4 else "ip6"
        for name in side.names:
            item = NameSet(name, family)
            self.name_sets.setdefault(item, None)
            found.append(f"{keyword} {direction} @{item.set_name}")
        return found

    def address_match(self, side: Side, family: Family, direction: str) -> str | None:
        """``ip saddr @set``; for an 'any' end, ``ip saddr != @set`` of the networks it
        excludes (the site's other zones), or None when it excludes nothing."""
        if side.any and not side.excluded(family):
            return None
        found = self.set_names.get((id(side), family))
        if found is None:
            suffix = "v4" if family == 4 else "v6"
            if side.any:
                name = self.addresses.name(f"{side.not_key}_{suffix}", side.excluded(family))
            else:
                name = self.addresses.name(f"{side.key}_{suffix}", side.networks(family))
            found = (side, name)
            self.set_names[(id(side), family)] = found
        keyword = "ip" if family == 4 else "ip6"
        operator = "!= " if side.any else ""
        return f"{keyword} {direction} {operator}@{found[1]}"

    def clean(self, text: str) -> str:
        """``text`` made safe for a comment, once per distinct text."""
        found = self.cleaned.get(text)
        if found is None:
            found = self.cleaned[text] = clean_text(text)
        return found

    def port_matches(self, spec: RuleSpec) -> list[tuple[str, PortRanges]]:
        """One match per rule to write, with the ports it takes: a port, a range, a
        shared named set, or, for a list no other rule uses, one rule per port range
        (see ``port_uses``)."""
        key = (spec.flow.protocol, spec.flow.ports)
        found = self.port_cache.get(key)
        if found is None:
            found = self.port_cache[key] = self._port_matches(*key)
        return found

    def _port_matches(self, proto: str, ports: PortSet) -> list[tuple[str, PortRanges]]:
        ranges = ports.ranges
        if len(ranges) > 1 and self.port_uses[ports] > 1:
            name = self.ports.name(f"ports_{ports_key(ports)}", ports)
            return [(f"{proto} dport @{name}", ranges)]
        return [
            (f"{proto} dport {a}" if a == b else f"{proto} dport {a}-{b}", ((a, b),))
            for a, b in ranges
        ]

    def add(self, chain: MergedChain, spec: RuleSpec) -> None:
        """The rules of ``spec`` (one per family and port match) into ``chain``."""
        if spec.left_out is not None:
            chain.add_line(f"\t\t# {comment(f'{spec.flow.id}: left out: {spec.left_out}', 400)}")
            return
        if not spec.renderable:
            chain.add_line(f"\t\t# {comment(f'{spec.flow.id}: not rendered: {spec.problem}', 400)}")
            return
        head: list[str] = []
        if spec.in_interface:
            head.append(f'iifname "{linux_interface(spec.in_interface, "nftables")}"')
        if spec.out_interface:
            head.append(f'oifname "{linux_interface(spec.out_interface, "nftables")}"')
        ports = self.port_matches(spec)
        proto = spec.flow.protocol
        flow_id = self.clean(spec.flow.id)
        description = self.clean(spec.description)
        if spec.family_free:
            head.append(f"meta l4proto {spec.flow.protocol}")
            ends = " ".join([*head, proto])
            for port, taken in ports:
                chain.add_rule(
                    " ".join([*head, port]), flow_id, description, ends=ends, ports=taken
                )
            return
        for family in spec.families:
            for source in self.address_matches(spec.source, family, "saddr"):
                for destination in self.address_matches(spec.destination, family, "daddr"):
                    addresses = [m for m in (source, destination) if m is not None]
                    # two 'any' ends with nothing to exclude in this family: the family alone
                    parts = [*head, *(addresses or [f"meta nfproto ipv{family}"])]
                    ends = " ".join([*parts, proto])
                    for port, taken in ports:
                        chain.add_rule(
                            " ".join([*parts, port]), flow_id, description, ends=ends, ports=taken
                        )

    def set_blocks(self, answers: Mapping[str, Answer] | None = None) -> list[str]:
        lines: list[str] = []
        for item in self.name_sets:
            kind = "ipv4_addr" if item.family == 4 else "ipv6_addr"
            answer = (answers or {}).get(item.name)
            elements = list(answer.addresses(item.family)) if answer else []
            text = comment(namesets.comment((item.name,)), COMMENT_LIMIT)
            lines.extend(_set_block(item.set_name, kind, elements, True, timeout=True, text=text))
        for name, nets in self.addresses.items():
            kind = "ipv4_addr" if nets and nets[0].version == 4 else "ipv6_addr"
            lines.extend(_set_block(name, kind, [_element(n) for n in nets], True))
        for name, ports in self.ports.items():
            ranges = ports.ranges
            elements = [str(a) if a == b else f"{a}-{b}" for a, b in ranges]
            lines.extend(_set_block(name, "inet_service", elements, any(a != b for a, b in ranges)))
        return lines


def _chain_head(chain: Chain, host: bool) -> list[str]:
    lines = [f"\tchain {chain} {{", f"\t\ttype filter hook {chain} priority filter; policy drop;"]
    if chain == "input":
        lines.append('\t\tiif "lo" accept')
    elif chain == "output":
        lines.append('\t\toif "lo" accept')
    lines.append("\t\tct state established,related accept")
    if host:
        lines.append(f"\t\ticmpv6 type {{ {_ND_TYPES} }} accept")
    lines.append("\t\tct state invalid drop")
    return lines


#: The nat base chains: translation kind -> (hook, priority).
_NAT_HOOKS: dict[NatKind, tuple[str, str]] = {
    "destination": ("prerouting", "dstnat"),
    "source": ("postrouting", "srcnat"),
}


def _nat_line(item: Translation) -> str:
    keyword = "ip" if item.family == 4 else "ip6"
    parts: list[str] = []
    if item.interface:
        side = "iifname" if item.kind == "destination" else "oifname"
        parts.append(f'{side} "{linux_interface(item.interface, "nftables")}"')
    if item.kind == "destination":
        parts.append(f"{keyword} daddr {item.public}")
        if item.ports is not None:
            ports = [str(a) if a == b else f"{a}-{b}" for a, b in item.ports]
            listed = ports[0] if len(ports) == 1 else f"{{ {', '.join(ports)} }}"
            parts.append(f"meta l4proto {{ {', '.join(PROTOCOLS)} }} th dport {listed}")
        parts.append(f"dnat {keyword} to {item.to}")
    else:
        nets = [_element(n) for n in item.sources]
        parts.append(
            f"{keyword} saddr " + (nets[0] if len(nets) == 1 else f"{{ {', '.join(nets)} }}")
        )
        parts.append("masquerade" if item.masquerade else f"snat {keyword} to {item.public}")
    return f'\t\t{" ".join(parts)} comment "{truncate_bytes(item.text, COMMENT_LIMIT)}"'


def _nat_chains(rules: NatRules) -> list[list[str]]:
    """The prerouting and postrouting chains of the translations (those that have any)."""
    bodies = []
    for kind, (hook, priority) in _NAT_HOOKS.items():
        items = rules.of(kind)
        if not items:
            continue
        body = [
            f"\tchain {hook} {{",
            f"\t\ttype nat hook {hook} priority {priority}; policy accept;",
        ]
        if rules.note is not None:
            body.append(f"\t\t# {comment(rules.note, 400)}")
        body.extend(_nat_line(item) for item in items)
        body.append("\t}")
        bodies.append(body)
    return bodies


def render(
    selection: Selection, *, catalog: str = "", answers: Mapping[str, Answer] | None = None
) -> tuple[str, int]:
    """The nft script for ``selection``, and the number of rules in it."""
    scope = selection.scope
    table = table_name(scope.name)
    host = scope.kind == "host"
    chains: list[Chain] = ["input", "output"] if host else ["forward"]
    renderer = _Renderer(port_uses(selection.specs))
    bodies: list[list[str]] = []
    rules = 0
    for chain in chains:
        merged = MergedChain()
        for spec in selection.specs:
            if spec.chain == chain:
                renderer.add(merged, spec)
        rules += merged.rules
        body = _chain_head(chain, host)
        body.extend(merged.lines(_rule_line))
        body.append("\t}")
        bodies.append(body)
    nat = nat_rules(selection)
    bodies.extend(_nat_chains(nat))
    flows = len({s.flow.id for s in selection.specs})
    translated = f", {nat.count} address translations" if selection.nat else ""
    header = [
        "#!/usr/sbin/nft -f",
        f"# flowmatrix: nftables rules for {scope.describe()}",
        f"# site: {comment(selection.site_name, 200)}"
        + (f"; catalog: {comment(catalog, 80)}" if catalog else ""),
        f"# {flows} flows, {rules} rules{translated}. Load with 'nft -f FILE': one transaction;",
        "# loading it again gives the same ruleset. Anything the plan does not list is dropped.",
    ]
    header.extend(f"# {comment(line, 400)}" for line in nat.not_rendered)
    if host:
        header.append(
            "# This is a host's own policy: add management flows (SSH...) to the site "
            "before loading it remotely."
        )
    sets = renderer.set_blocks(answers)
    if renderer.name_sets:
        header.append(
            "# Name sets (fqdn_*) are filled by dnsmasq (rules --dnsmasq FILE writes its "
            "nftset= lines)"
            + (
                "; elements below were resolved by rules --resolve and do not expire:"
                if answers
                else "."
            )
        )
        header.extend(f"#   {line}" for line in pinned_comments(list(renderer.name_sets), answers))
    lines = [
        *header,
        "",
        f"table inet {table} {{}}",
        f"delete table inet {table}",
        "",
        f"table inet {table} {{",
    ]
    lines.extend(sets)
    for index, body in enumerate(bodies):
        if sets or index:
            lines.append("")
        lines.extend(body)
    lines.append("}")
    return "\n".join(lines) + "\n", rules
