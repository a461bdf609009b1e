"""iptables-restore / ip6tables-restore rules: one file per address family.

The file is the whole ``filter`` table of the firewall (or host): built-in chains with
their policies, a stateful prologue, and one user chain ``FLOWMATRIX-<NAME>`` holding
one rule per flow (a flow an earlier rule already accepts joins its comment). ``iptables-restore FILE`` replaces the table in one commit, so
loading the file again gives the same ruleset; other tables (nat, mangle) are untouched,
but for a firewall that translates addresses (site ``nat:``): its file also holds the
whole ``nat`` table, ``DNAT`` rules in PREROUTING and ``SNAT`` / ``MASQUERADE`` rules in
POSTROUTING, those of the file's address family (none: the table is written empty, so
that loading the file clears what an earlier version put there; see ``natrules``).
IPv4 goes to ``--target iptables``, IPv6 to ``--target ip6tables``; a flow whose ends
are both 'any' is in both.

An 'any' end in the Internet zone is every address in no other zone of the site. One
``-s``/``-d`` cannot be negated for several networks, so such a rule jumps to a small
user chain of the scope, ``FLOWMATRIX-<NAME>-INET-SRC`` (``-INET-DST`` for a
destination): it RETURNs for each network of the other zones, so those packets go on
to the next rules, and accepts the rest. It is part of the same table, so a reload
replaces it with everything else.
"""

from __future__ import annotations

import ipaddress

from flowmatrix import namesets
from flowmatrix.i18n import ngettext
from flowmatrix.rules.firewall_view import Family, Finding, RuleSpec, Scope, Selection, Side
from flowmatrix.rules.grouping import MergedChain, PortRanges
from flowmatrix.rules.named_ends import NameSet, name_sets
from flowmatrix.rules.natrules import PROTOCOLS, NatRules, Translation, nat_rules
from flowmatrix.rules.text import comment, linux_interface, short_hash

#: xt_comment keeps 256 bytes with the final NUL.
COMMENT_LIMIT = 255
#: Chain names: XT_EXTENSION_MAXNAMELEN - 1.
CHAIN_LIMIT = 28
#: xt_multiport takes 15 ports, a range counting as two.
MULTIPORT_LIMIT = 15
_ND_TYPES = (
    "router-solicitation",
    "router-advertisement",
    "neighbour-solicitation",
    "neighbour-advertisement",
)

#: The built-in chains of the nat table.
_NAT_CHAINS = ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING")

IPNet = ipaddress.IPv4Network | ipaddress.IPv6Network


def chain_name(scope_name: str, suffix: str = "") -> str:
    """``FLOWMATRIX-<NAME>[-suffix]``, cut with a hash when longer than iptables allows."""
    base = "FLOWMATRIX-" + scope_name.upper().replace(".", "-").replace("_", "-")
    name = base + suffix
    if len(name) > CHAIN_LIMIT:
        keep = CHAIN_LIMIT - len(suffix) - 7
        name = f"{base[:keep]}-{short_hash(scope_name).upper()}{suffix}"
    return name


def chain_names(scope: Scope) -> dict[str, str]:
    """Spec chain (forward, input, output) -> the user chain holding its rules."""
    if scope.kind == "host":
        return {"input": chain_name(scope.name, "-IN"), "output": chain_name(scope.name, "-OUT")}
    return {"forward": chain_name(scope.name)}


def _address(net: IPNet) -> str:
    return net.with_prefixlen


def _port_matches(spec: RuleSpec) -> list[tuple[str, PortRanges]]:
    """One port match per rule, with the ports it takes: ``-m tcp --dport N`` or
    multiport chunks of 15 entries."""
    return _protocol_ports(spec.flow.protocol, spec.flow.ports.ranges)


def _protocol_ports(proto: str, ranges: PortRanges) -> list[tuple[str, PortRanges]]:
    if len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
        return [(f"-p {proto} -m {proto} --dport {ranges[0][0]}", tuple(ranges))]
    chunks: list[list[tuple[int, int]]] = [[]]
    weight = 0
    for low, high in ranges:
        cost = 1 if low == high else 2
        if weight + cost > MULTIPORT_LIMIT:
            chunks.append([])
            weight = 0
        chunks[-1].append((low, high))
        weight += cost
    return [
        (
            f"-p {proto} -m multiport --dports "
            + ",".join(str(a) if a == b else f"{a}:{b}" for a, b in chunk),
            tuple(chunk),
        )
        for chunk in chunks
    ]


#: Suffixes of the chains that accept unless an 'any' end is in another zone.
_EXCLUDE_SUFFIX = {
    (True, False): "-INET-SRC",
    (False, True): "-INET-DST",
    (True, True): "-INET-BOTH",
}


def exclusion_chain(scope_name: str, source: bool, destination: bool) -> str:
    """The chain accepting unless the source (destination) is in another zone of the site."""
    return chain_name(scope_name, _EXCLUDE_SUFFIX[(source, destination)])


def _matches(
    spec: RuleSpec, family: Family, chain: str, scope_name: str
) -> list[tuple[str, str, PortRanges]]:
    """The matches of the rules of ``spec`` (one per multiport chunk) and their jump,
    ``... -j TARGET``; the comment goes before the jump (see ``_rule_line``). Each comes
    with its match but the ports (its ends, protocol and jump) and the ports it takes."""
    head = [f"-A {chain}"]
    if spec.in_interface:
        head.append(f"-i {linux_interface(spec.in_interface, 'iptables')}")
    if spec.out_interface:
        head.append(f"-o {linux_interface(spec.out_interface, 'iptables')}")
    exclude_source = spec.source.any and bool(spec.source.excluded(family))
    exclude_destination = spec.destination.any and bool(spec.destination.excluded(family))
    target = "ACCEPT"
    if exclude_source or exclude_destination:
        target = exclusion_chain(scope_name, exclude_source, exclude_destination)
    proto = f"-p {spec.flow.protocol}"
    return [
        (
            " ".join([*head, *source, *destination, ports, "-j", target]),
            " ".join([*head, *source, *destination, proto, "-j", target]),
            taken,
        )
        for source in _address_matches(spec.source, family, "-s", "src")
        for destination in _address_matches(spec.destination, family, "-d", "dst")
        for ports, taken in _port_matches(spec)
    ]


def _address_matches(side: Side, family: Family, option: str, direction: str) -> list[list[str]]:
    """The alternatives matching ``side``: its addresses (``-s a,b``), and one ipset
    match per name (``-m set --match-set fqdn_x_v4 dst``); one rule each."""
    if side.any:
        return [[]]
    found = []
    if side.networks(family):
        found.append([f"{option} " + ",".join(_address(n) for n in side.networks(family))])
    found.extend(
        [f"-m set --match-set {NameSet(name, family).set_name} {direction}"] for name in side.names
    )
    return found


def _rule_line(match: str, text: str) -> str:
    rule, _, target = match.rpartition(" -j ")
    quoted = comment(text, COMMENT_LIMIT)
    return f'{rule} -m conntrack --ctstate NEW -m comment --comment "{quoted}" -j {target}'


def _exclusion_rules(
    chain: str, spec: RuleSpec, family: Family, source: bool, destination: bool
) -> list[str]:
    """The body of an exclusion chain: RETURN for the other zones' networks, then ACCEPT.

    Every 'any' end of one site excludes the same networks (the zones but the Internet
    zone): the first spec that jumps to the chain gives them.
    """
    lines = []
    if source:
        lines += [f"-A {chain} -s {_address(n)} -j RETURN" for n in spec.source.excluded(family)]
    if destination:
        lines += [
            f"-A {chain} -d {_address(n)} -j RETURN" for n in spec.destination.excluded(family)
        ]
    lines.append(f"-A {chain} -j ACCEPT")
    return lines


def _prologue(builtin: str, chain: str, family: Family, host: bool) -> list[str]:
    lines = []
    if builtin == "INPUT":
        lines.append("-A INPUT -i lo -j ACCEPT")
    elif builtin == "OUTPUT":
        lines.append("-A OUTPUT -o lo -j ACCEPT")
    lines.append(f"-A {builtin} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
    if host and family == 6:
        lines.extend(
            f"-A {builtin} -p ipv6-icmp -m icmp6 --icmpv6-type {kind} -j ACCEPT"
            for kind in _ND_TYPES
        )
    lines.append(f"-A {builtin} -m conntrack --ctstate INVALID -j DROP")
    lines.append(f"-A {builtin} -j {chain}")
    return lines


def _nat_lines(item: Translation) -> list[str]:
    """The rules of one translation (a published port list: TCP and UDP, in chunks)."""
    quoted = f'-m comment --comment "{comment(item.text, COMMENT_LIMIT)}"'
    if item.kind == "destination":
        head = ["-A PREROUTING"]
        if item.interface:
            head.append(f"-i {linux_interface(item.interface, 'iptables')}")
        head.append(f"-d {item.public}/{32 if item.family == 4 else 128}")
        jump = f"-j DNAT --to-destination {item.to}"
        if item.ports is None:
            return [" ".join([*head, quoted, jump])]
        return [
            " ".join([*head, ports, quoted, jump])
            for proto in PROTOCOLS
            for ports, _ in _protocol_ports(proto, item.ports)
        ]
    head = ["-A POSTROUTING"]
    if item.interface:
        head.append(f"-o {linux_interface(item.interface, 'iptables')}")
    head.append("-s " + ",".join(_address(n) for n in item.sources))
    jump = "-j MASQUERADE" if item.masquerade else f"-j SNAT --to-source {item.public}"
    return [" ".join([*head, quoted, jump])]


def _nat_table(rules: NatRules, family: Family) -> list[str]:
    """The ``nat`` table of the file: every translation of its family."""
    lines = ["*nat", *(f":{name} ACCEPT [0:0]" for name in _NAT_CHAINS)]
    if rules.note is not None:
        lines.append(f"# {comment(rules.note, 400)}")
    for kind in ("destination", "source"):
        for item in rules.of(kind, family):
            lines.extend(_nat_lines(item))
    lines.append("COMMIT")
    return lines


def render(
    selection: Selection, family: Family, *, catalog: str = ""
) -> tuple[str, int, list[Finding]]:
    """The restore file of ``selection`` for one family, its rule count, and notes."""
    scope = selection.scope
    host = scope.kind == "host"
    tool = "iptables-restore" if family == 4 else "ip6tables-restore"
    other = "ip6tables" if family == 4 else "iptables"
    chains = chain_names(scope)
    if host:
        builtins = {"input": "INPUT", "output": "OUTPUT"}
        policies = {"INPUT": "DROP", "FORWARD": "DROP", "OUTPUT": "DROP"}
    else:
        builtins = {"forward": "FORWARD"}
        policies = {"INPUT": "ACCEPT", "FORWARD": "DROP", "OUTPUT": "ACCEPT"}
    body: list[str] = []
    rules = 0
    elsewhere: list[str] = []
    #: exclusion chain -> (source?, destination?) and the first spec jumping to it
    exclusion_chains: dict[str, tuple[tuple[bool, bool], RuleSpec]] = {}
    for chain_key, chain in chains.items():
        merged = MergedChain()
        for spec in selection.specs:
            if spec.chain != chain_key:
                continue
            if spec.left_out is not None:
                merged.add_line(f"# {comment(f'{spec.flow.id}: left out: {spec.left_out}', 400)}")
                continue
            if not spec.renderable:
                merged.add_line(
                    f"# {comment(f'{spec.flow.id}: not rendered: {spec.problem}', 400)}"
                )
                continue
            if not spec.family_free and family not in spec.families:
                elsewhere.append(spec.flow.id)
                continue
            for match, ends, ports in _matches(spec, family, chain, scope.name):
                merged.add_rule(match, spec.flow.id, spec.description, ends=ends, ports=ports)
            kind = (
                spec.source.any and bool(spec.source.excluded(family)),
                spec.destination.any and bool(spec.destination.excluded(family)),
            )
            if any(kind):
                exclusion_chains.setdefault(exclusion_chain(scope.name, *kind), (kind, spec))
        body.extend(merged.lines(_rule_line))
        rules += merged.rules
    for excluding, ((source, destination), spec) in exclusion_chains.items():
        side = " or the ".join(
            name for name, used in (("source", source), ("destination", destination)) if used
        )
        body.append(
            f"# {excluding}: accepts unless the {side} is in a zone of the site other than "
            "the Internet (RETURN: on to the next rule)"
        )
        body.extend(_exclusion_rules(excluding, spec, family, source, destination))
    notes = []
    if elsewhere:
        count = len(dict.fromkeys(elsewhere))
        message = ngettext(
            "{n} flows have no IPv{family} addresses: see --target {other}",
            "{n} flows have no IPv{family} addresses: see --target {other}",
            count,
        ).format(n=count, family=family, other=other)
        notes.append(Finding("info", message))
    flows = len({s.flow.id for s in selection.specs})
    nat = nat_rules(selection)
    lines = [
        f"# flowmatrix: {tool} rules (IPv{family}) for {scope.describe()}",
        f"# site: {comment(selection.site_name, 200)}"
        + (f"; catalog: {comment(catalog, 80)}" if catalog else ""),
    ]
    if selection.nat:
        translated = len(nat.of("destination", family)) + len(nat.of("source", family))
        lines += [
            f"# {flows} flows, {rules} rules, {translated} address translations. Load with "
            f"'{tool} FILE':",
            "# it replaces the filter and nat tables in one commit; loading it again gives "
            "the same ruleset.",
        ]
    else:
        lines += [
            f"# {flows} flows, {rules} rules. Load with '{tool} FILE': it replaces the filter",
            "# table in one commit; loading it again gives the same ruleset.",
        ]
    lines.extend(f"# {comment(line, 400)}" for line in nat.not_rendered)
    if elsewhere:
        lines.append(
            f"# Flows with no IPv{family} addresses are in the {other} output: "
            + ", ".join(dict.fromkeys(elsewhere))[:400]
        )
    if host:
        lines.append(
            "# This is a host's own policy: add management flows (SSH...) to the site "
            "before loading it remotely."
        )
    sets = name_sets(selection.specs, (family,))
    if sets:
        lines.append(
            "# Name sets (ipset hash:net, filled by dnsmasq: rules --dnsmasq FILE) must exist "
            "first: rules --ipset FILE writes them, load with 'ipset restore -exist -file FILE':"
        )
        lines.extend(namesets.listing(s.set_name, (s.name,)) for s in sets)
    lines.append("*filter")
    lines.extend(f":{name} {policy} [0:0]" for name, policy in policies.items())
    lines.extend(f":{chain} - [0:0]" for chain in chains.values())
    lines.extend(f":{chain} - [0:0]" for chain in exclusion_chains)
    for chain_key, chain in chains.items():
        lines.extend(_prologue(builtins[chain_key], chain, family, host))
    lines.extend(body)
    lines.append("COMMIT")
    if selection.nat:
        lines.extend(_nat_table(nat, family))
    return "\n".join(lines) + "\n", rules, notes
