"""The vendor-neutral policy every reader fills in, and its translation into IR rules.

A firewall policy matches interfaces (zones), a source and a destination address set, a
list of services, and conditions the audit cannot evaluate (a schedule, an App-ID, a
user group). Address sets are unions of exact networks, DNS names (FQDN objects) and
things that depend on something outside the file (geography, a dynamic group); services
are unions of (protocols, source ports, destination ports). A policy becomes one IR rule
per combination of alternatives, all with the same origin and action, in order.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from flowmatrix.audit import ranges
from flowmatrix.audit.ir import Action, ActionKind, IfaceMatch, Match, Origin, Rule
from flowmatrix.audit.ranges import Ivs
from flowmatrix.i18n import _

ANY_FAMILY = (4, 6)


@dataclass(frozen=True)
class Addresses:
    """A union of exact networks, DNS names and undecidable members."""

    by_family: dict[int, Ivs] = field(default_factory=dict)
    names: frozenset[str] = frozenset()
    depends: tuple[str, ...] = ()
    """Members the file alone cannot resolve, as text (``geography FR (address 'fr')``)."""
    everything: bool = False

    @classmethod
    def any(cls) -> Addresses:
        return cls(everything=True)

    @classmethod
    def of(cls, family: int, ivs: Ivs) -> Addresses:
        return cls({family: ivs})

    @classmethod
    def family_any(cls, family: int) -> Addresses:
        return cls({family: ranges.ALL_ADDRESSES[family]})

    @property
    def empty(self) -> bool:
        return not (self.everything or self.names or self.depends or any(self.by_family.values()))

    def union(self, other: Addresses) -> Addresses:
        if self.everything or other.everything:
            return Addresses.any()
        merged = dict(self.by_family)
        for family, ivs in other.by_family.items():
            merged[family] = ranges.union(merged.get(family, ()), ivs)
        return Addresses(
            merged,
            self.names | other.names,
            tuple(dict.fromkeys(self.depends + other.depends)),
        )

    @classmethod
    def union_of(cls, parts: Sequence[Addresses]) -> Addresses:
        """What folding ``union`` over ``parts`` from ``Addresses()`` gives, without the
        sets in between; a part alone is itself when the fold would only copy it."""
        if len(parts) == 1:
            part = parts[0]
            if not part.everything and len(set(part.depends)) == len(part.depends):
                return part
        merged: dict[int, Ivs] = {}
        names: frozenset[str] = frozenset()
        depends: dict[str, None] = {}
        for part in parts:
            if part.everything:
                return cls.any()
            for family, ivs in part.by_family.items():
                merged[family] = ranges.union(merged.get(family, ()), ivs)
            if part.names:
                names |= part.names
            if part.depends:
                depends.update(dict.fromkeys(part.depends))
        return cls(merged, names, tuple(depends))

    def minus(self, other: Addresses, why: str) -> Addresses:
        """Members of self outside ``other`` (an address group's exclusions)."""
        if other.names or other.depends:
            return replace(self, depends=(*self.depends, why))
        if self.everything:
            base = {f: ranges.ALL_ADDRESSES[f] for f in ANY_FAMILY}
        else:
            base = dict(self.by_family)
        out = {}
        for family, ivs in base.items():
            rest = ranges.difference(ivs, other.by_family.get(family, ()))
            if rest:
                out[family] = rest
        if other.everything:
            out = {}
        return Addresses(out, self.names, self.depends)


@dataclass(frozen=True)
class Service:
    """One alternative of a service: None means any on that field."""

    protos: frozenset[int] | None = None
    sport: Ivs | None = None
    dport: Ivs | None = None
    depends: str | None = None
    """A condition on the service the audit does not evaluate (an ICMP type...)."""


ANY_SERVICE = (Service(),)


@dataclass
class Policy:
    """One policy (or ACL entry) as the vendor defines it, before expansion."""

    origin: Origin
    action: ActionKind
    action_text: str
    src: Addresses = field(default_factory=Addresses.any)
    dst: Addresses = field(default_factory=Addresses.any)
    src_negate: bool = False
    dst_negate: bool = False
    services: tuple[Service, ...] = ANY_SERVICE
    iif: IfaceMatch | None = None
    oif: IfaceMatch | None = None
    conditions: tuple[str, ...] = ()
    """Conditions the audit cannot evaluate, named (``schedule 'office-hours'``)."""
    dnat: frozenset[str] | None = None
    dst_by_translation: dict[str, Addresses] = field(default_factory=dict)
    """Destinations that are destination translations (FortiGate VIPs): each name ->
    the translated addresses; matched only by connections that went through it."""
    target: str | None = None
    """Chain key for jump/goto actions."""
    family: int | None = None
    """Restrict the policy to one family (an IPv6 ACL, a ``policy6`` table)."""


class RuleMaker:
    """Turns policies into IR rules with ruleset-wide unique ids."""

    def __init__(self) -> None:
        self.next_uid = 0
        self._sides: dict[tuple[int, bool], tuple[Addresses, list[_Side]]] = {}

    def rules(self, policy: Policy) -> list[Rule]:
        """The IR rules of one policy: every combination of its alternatives."""
        out: list[Rule] = []
        action = Action(policy.action, policy.target, policy.action_text)
        sources = self.alternatives(policy.src, policy.src_negate)
        destinations = self.alternatives(policy.dst, policy.dst_negate)
        for name, translated in policy.dst_by_translation.items():
            for alt in self.alternatives(translated, False):
                destinations.append(alt._replace(dnat=frozenset({name})))
        for src, dst, service in itertools.product(sources, destinations, policy.services):
            match = _combine(policy, src, dst, service)
            if match is not None:
                out.append(self.rule(match, action, policy.origin))
        if not out:
            never = _("its addresses or services leave nothing to match")
            match = Match(
                family=policy.family,
                iif=policy.iif,
                oif=policy.oif,
                opaque=policy.conditions,
                never=never,
                dnat=policy.dnat,
            )
            out.append(self.rule(match, action, policy.origin))
        return out

    def alternatives(self, addresses: Addresses, negated: bool) -> list[_Side]:
        """``_alternatives`` of an address set, worked out once per set: readers give
        the same set for each use of an object or group. (The set is kept with them, so
        that no other set takes its id.)"""
        key = (id(addresses), negated)
        found = self._sides.get(key)
        if found is None:
            found = self._sides[key] = (addresses, _alternatives(addresses, negated))
        return list(found[1])

    def rule(self, match: Match, action: Action, origin: Origin) -> Rule:
        uid = self.next_uid
        self.next_uid += 1
        return Rule(uid, match, action, origin)


class _Side(NamedTuple):
    """One alternative of an address set, as the fields of a match on one side."""

    family: int | None = None
    ivs: Ivs | None = None
    """The addresses (``src`` or ``dst``); None for any."""
    names: frozenset[str] | None = None
    """DNS names (``src_names`` or ``dst_names``)."""
    opaque: tuple[str, ...] = ()
    dnat: frozenset[str] | None = None


_ANY_SIDE = _Side()


def _alternatives(addresses: Addresses, negated: bool) -> list[_Side]:
    """Alternatives whose union is the address set (or its complement)."""
    if negated:
        if addresses.everything:
            return []
        opaque: tuple[str, ...] = ()
        if addresses.names:
            opaque += (
                _("DNS: not an address of {names}").format(
                    names=", ".join(sorted(addresses.names))
                ),
            )
        opaque += tuple(_("not {condition}").format(condition=d) for d in addresses.depends)
        out = []
        for family in ANY_FAMILY:
            rest = ranges.complement(addresses.by_family.get(family, ()), ranges.ADDR_MAX[family])
            if rest:
                out.append(_Side(family, _unless_all(rest, family), None, opaque))
        return out
    if addresses.everything:
        return [_ANY_SIDE]
    out = []
    for family in sorted(addresses.by_family):
        ivs = addresses.by_family[family]
        if ivs:
            out.append(_Side(family, _unless_all(ivs, family)))
    if addresses.names:
        out.append(_Side(names=addresses.names))
    for depends in addresses.depends:
        out.append(_Side(opaque=(depends,)))
    return out


def _unless_all(ivs: Ivs, family: int) -> Ivs | None:
    """``ivs``, or None (any) when they are every address of the family."""
    return None if ivs == ranges.ALL_ADDRESSES[family] else ivs


def _combine(policy: Policy, src: _Side, dst: _Side, service: Service) -> Match | None:
    """The match of one combination, or None when its families differ."""
    family = policy.family
    for part in (src, dst):
        if part.family is not None:
            if family is not None and family != part.family:
                return None
            family = part.family
    opaque = policy.conditions + src.opaque + dst.opaque
    if service.depends:
        opaque += (service.depends,)
    protos = service.protos
    sport, dport = service.sport, service.dport
    if (sport is not None or dport is not None) and protos is None:
        protos = frozenset({6, 17})
    return Match(
        family=family,
        src=src.ivs,
        dst=dst.ivs,
        protos=protos,
        sport=sport,
        dport=dport,
        iif=policy.iif,
        oif=policy.oif,
        opaque=tuple(dict.fromkeys(opaque)) if opaque else (),
        src_names=src.names,
        dst_names=dst.names,
        dnat=dst.dnat if dst.dnat is not None else policy.dnat,
    )
