"""Ends known by name: what each target can do with them, and the files that fill sets.

* nftables, iptables, ip6tables: one name set per name and family
  (``namesets.set_name``), filled on the firewall by dnsmasq (``nftset=`` / ``ipset=``
  lines, ``dnsmasq_lines``) and, with ``--resolve``, pinned with today's answers;
* FortiGate (wildcards too), Palo Alto, Cisco ASA, Juniper SRX: the platform's FQDN
  address objects, which the device resolves itself;
* the other platforms have no FQDN objects: with ``--resolve`` the names become today's
  addresses, else the flow is missing (an error naming it).

A wildcard (``*.mzstatic.com``) is matched by FortiGate alone: elsewhere it needs the
site's web proxy or an explicit ``internet: any``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from flowmatrix import namesets
from flowmatrix.i18n import _
from flowmatrix.rules.dns_pins import Answer
from flowmatrix.rules.firewall_view import (
    FAMILIES,
    Family,
    Finding,
    RuleSpec,
    Selection,
    Side,
    in_both,
)
from flowmatrix.rules.registry import TARGETS, NameSupport
from flowmatrix.rules.text import comment


def support(target: str) -> NameSupport:
    """How ``target`` matches an end known by name (its entry in ``registry.py``)."""
    entry = TARGETS.get(target)
    return entry.names if entry is not None else "none"


def is_wildcard(name: str) -> bool:
    return name.startswith("*.")


@dataclass(frozen=True, slots=True)
class NameSet:
    """One name set of an output: the name, its family and the set's name."""

    name: str
    family: Family

    @property
    def set_name(self) -> str:
        return namesets.set_name(self.name, self.family)


def name_needs(specs: Sequence[RuleSpec]) -> dict[str, set[Family]]:
    """Name -> the families its flows match it in (wildcards left out: they never resolve)."""
    needs: dict[str, set[Family]] = defaultdict(set)
    for spec in specs:
        if not spec.renderable:
            continue
        for side in (spec.source, spec.destination):
            for name in side.names:
                if not is_wildcard(name):
                    needs[name].update(spec.families or FAMILIES)
    return dict(needs)


def name_sets(specs: Sequence[RuleSpec], families: Sequence[Family] = FAMILIES) -> list[NameSet]:
    """The name sets the rules of ``specs`` refer to, in first-use order."""
    found: dict[NameSet, None] = {}
    for spec in specs:
        if not spec.renderable:
            continue
        for family in spec.families:
            if family not in families:
                continue
            for side in (spec.source, spec.destination):
                for name in side.names:
                    found.setdefault(NameSet(name, family), None)
    return list(found)


def prepare(
    selection: Selection, target: str, answers: Mapping[str, Answer] | None
) -> tuple[Selection, list[Finding]]:
    """The specs as ``target`` can render them, and an error for each flow it cannot.

    A wildcard on a target that cannot match one, or a name on a target without FQDN
    objects and no ``--resolve`` answers, makes the flow missing; on such a target the
    answers replace the names by today's addresses.
    """
    kind = support(target)
    findings: list[Finding] = []
    specs: list[RuleSpec] = []
    for spec in selection.specs:
        named = spec.source.names or spec.destination.names
        if not spec.renderable or not named:
            specs.append(spec)
            continue
        problem, said = _wildcard_problem(spec, kind)
        if problem is None and kind == "none":
            if answers is None:
                names = ", ".join((*spec.source.names, *spec.destination.names))
                problem, said = in_both(_no_fqdn_objects, target, names)
            else:
                spec = _with_answers(spec, answers)
                if not spec.families:
                    problem, said = in_both(
                        lambda: _("the names resolve to no address of the other end's families")
                    )
        if problem is not None:
            message = _("missing: {problem}").format(problem=said)
            findings.append(Finding("error", message, spec.flow.id))
            spec = replace(spec, problem=problem)
        specs.append(spec)
    return replace(selection, specs=tuple(specs)), findings


def _no_fqdn_objects(target: str, names: str) -> str:
    return _(
        "{target} has no FQDN objects to match {names} (hint: --resolve pins "
        "today's addresses; or give the hosts addresses, declare proxy:, or "
        "choose internet: any under external:)"
    ).format(target=target, names=names)


def _wildcard_problem(spec: RuleSpec, kind: NameSupport) -> tuple[str | None, str | None]:
    """Why ``kind`` cannot match the wildcard names of ``spec``: in English (the rules'
    comment) and in the current language (the finding); None, None when it can."""
    for side, is_source in ((spec.source, True), (spec.destination, False)):
        wildcards = ", ".join(n for n in side.names if is_wildcard(n))
        if wildcards and kind == "fqdn-wildcard" and 6 in spec.families:
            return in_both(_fortigate_v6, wildcards, side.role, is_source)
        if wildcards and kind != "fqdn-wildcard":
            return in_both(_no_wildcard, wildcards, side.role, is_source)
    return None, None


def _fortigate_v6(wildcards: str, role: str, is_source: bool) -> str:
    if is_source:
        text = _(
            "source {names}: FortiGate has no IPv6 wildcard FQDN object "
            "(hint: declare proxy: or choose internet: any for {role} under external:)"
        )
    else:
        text = _(
            "destination {names}: FortiGate has no IPv6 wildcard FQDN object "
            "(hint: declare proxy: or choose internet: any for {role} under external:)"
        )
    return text.format(names=wildcards, role=role)


def _no_wildcard(wildcards: str, role: str, is_source: bool) -> str:
    if is_source:
        text = _(
            "source {names}: no packet filter can match a wildcard name "
            "(hint: declare proxy: or choose internet: any for {role} under external:)"
        )
    else:
        text = _(
            "destination {names}: no packet filter can match a wildcard name "
            "(hint: declare proxy: or choose internet: any for {role} under external:)"
        )
    return text.format(names=wildcards, role=role)


def _with_answers(spec: RuleSpec, answers: Mapping[str, Answer]) -> RuleSpec:
    import ipaddress

    def resolved(side: Side) -> Side:
        if not side.names:
            return side
        v4 = list(side.v4)
        v6 = list(side.v6)
        for name in side.names:
            answer = answers.get(name)
            if answer is None:
                continue
            v4.extend(ipaddress.IPv4Network(a) for a in answer.v4)
            v6.extend(ipaddress.IPv6Network(a) for a in answer.v6)
        return replace(
            side,
            v4=tuple(ipaddress.collapse_addresses(v4)),
            v6=tuple(ipaddress.collapse_addresses(v6)),
            names=(),
        )

    source, destination = resolved(spec.source), resolved(spec.destination)
    families = tuple(
        f for f in spec.families if source.matches_family(f) and destination.matches_family(f)
    )
    return replace(spec, source=source, destination=destination, families=families)


# --- the files that fill the sets ---------------------------------------------------------


def pinned_comments(sets: Sequence[NameSet], answers: Mapping[str, Answer] | None) -> list[str]:
    """One comment line per resolved name: its answers, the time, the resolver, the TTL."""
    if not answers:
        return []
    names = dict.fromkeys(s.name for s in sets)
    return [comment(answers[n].describe(), 400) for n in names if n in answers]


def dnsmasq_lines(sets: Sequence[NameSet], *, nft_table: str | None, scope: str, site: str) -> str:
    """dnsmasq configuration lines that add each answer for a name to its sets.

    ``nft_table`` set: ``nftset=/NAME/4#inet#TABLE#SET4,6#inet#TABLE#SET6`` lines for the
    nftables output; None: ``ipset=/NAME/SET4,SET6`` lines for iptables and ip6tables.
    """
    by_name: dict[str, list[NameSet]] = defaultdict(list)
    for item in sets:
        by_name[item.name].append(item)
    kind = f"nftables table inet {nft_table}" if nft_table else "ipset sets"
    lines = [
        f"# flowmatrix: dnsmasq lines filling the name sets of {scope} ({kind})",
        f"# site: {comment(site, 200)}",
        "# Clients must resolve through this dnsmasq: each answer for a name (or a name below",
        "# it: dnsmasq matches subdomains too) is added to its sets. Include it with",
        "# conf-file=FILE, or copy it into /etc/dnsmasq.d/.",
    ]
    for name, items in by_name.items():
        ordered = sorted(items, key=lambda s: s.family)
        if nft_table:
            targets = ",".join(f"{s.family}#inet#{nft_table}#{s.set_name}" for s in ordered)
            lines.append(f"nftset=/{name}/{targets}")
        else:
            lines.append(f"ipset=/{name}/{','.join(s.set_name for s in ordered)}")
    return "\n".join(lines) + "\n"


def ipset_restore(
    sets: Sequence[NameSet], answers: Mapping[str, Answer] | None, *, scope: str, site: str
) -> str:
    """An ``ipset restore -exist`` file creating the sets the iptables rules refer to."""
    lines = [
        f"# flowmatrix: ipset sets for the iptables / ip6tables rules of {scope}",
        f"# site: {comment(site, 200)}",
        "# Load before the rules: ipset restore -exist -file FILE (dnsmasq fills the sets;",
        "# entries added here were resolved by flowmatrix rules --resolve and do not expire).",
        *(f"# {line}" for line in pinned_comments(sets, answers)),
    ]
    for item in sets:
        family = "inet" if item.family == 4 else "inet6"
        lines.append(f"create {item.set_name} hash:net family {family} timeout 0")
        if answers and item.name in answers:
            lines.extend(
                f"add {item.set_name} {a}" for a in answers[item.name].addresses(item.family)
            )
    return "\n".join(lines) + "\n"
