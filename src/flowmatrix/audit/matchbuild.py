"""Building a ``Match`` condition by condition, as both parsers read a rule.

Every condition narrows a field (intersection); a condition that is a union of cubes
(``multiport --ports``, a set of address/port pairs, a verdict map) becomes a group of
alternatives, and the rule is expanded into one IR rule per combination.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Any

from flowmatrix.audit import ranges
from flowmatrix.audit.ir import CT_STATES, IfaceMatch, Match
from flowmatrix.audit.ranges import Ivs
from flowmatrix.i18n import _

ALL_PROTOS = frozenset(range(256))
_IVS_FIELDS = ("src", "dst", "sport", "dport", "orig_src", "orig_dst", "orig_sport", "orig_dport")


@dataclass
class MatchBuilder:
    """Accumulates the conditions of one rule."""

    values: dict[str, Any] = field(default_factory=dict)
    alternatives: list[list[dict[str, Any]]] = field(default_factory=list)
    opaque: list[str] = field(default_factory=list)
    never: str | None = None

    # -- narrowing ------------------------------------------------------------------------

    def family(self, family: int, why: str) -> None:
        current = self.values.get("family")
        if current is not None and current != family:
            self.impossible(
                _("{why} needs IPv{family} but the rule is IPv{current}").format(
                    why=why, family=family, current=current
                )
            )
        self.values["family"] = family

    def ivs(self, name: str, ivs: Ivs, why: str) -> None:
        assert name in _IVS_FIELDS
        current: Ivs | None = self.values.get(name)
        merged = ivs if current is None else ranges.intersect(current, ivs)
        if not merged:
            self.impossible(_("{why} leaves no value for {name}").format(why=why, name=name))
        self.values[name] = merged

    def addresses(self, name: str, family: int, ivs: Ivs, negated: bool, why: str) -> None:
        self.family(family, why)
        if negated:
            ivs = ranges.complement(ivs, ranges.ADDR_MAX[family])
        self.ivs(name, ivs, why)

    def ports(self, name: str, ivs: Ivs, negated: bool, why: str) -> None:
        if negated:
            ivs = ranges.complement(ivs, 65535)
        self.ivs(name, ivs, why)

    def protos(self, protos: frozenset[int], negated: bool, why: str) -> None:
        if negated:
            protos = ALL_PROTOS - protos
        current: frozenset[int] | None = self.values.get("protos")
        merged = protos if current is None else current & protos
        if not merged:
            self.impossible(_("{why} contradicts the protocol already required").format(why=why))
        self.values["protos"] = merged

    def states(self, states: frozenset[str], negated: bool, why: str) -> None:
        if negated:
            states = frozenset(CT_STATES) - states
        current: frozenset[str] | None = self.values.get("states")
        merged = states if current is None else current & states
        if not merged:
            self.impossible(
                _("{why} contradicts the connection states already required").format(why=why)
            )
        self.values["states"] = merged

    def tcp_flags(self, mask: int, value: int, negated: bool) -> None:
        self.values["tcp_flags"] = (*self.values.get("tcp_flags", ()), (mask, value, negated))

    def iface(self, name: str, match: IfaceMatch) -> None:
        current: IfaceMatch | None = self.values.get(name)
        if current is None:
            self.values[name] = match
        else:
            self.opaque.append(_("two conditions on the {name} interface").format(name=name))

    def boolean(self, name: str, value: bool, why: str) -> None:
        current = self.values.get(name)
        if current is not None and current != value:
            self.impossible(_("{why} contradicts an earlier condition").format(why=why))
        self.values[name] = value

    def direction(self, value: str, why: str) -> None:
        current = self.values.get("direction")
        if current is not None and current != value:
            self.impossible(_("{why} contradicts an earlier condition").format(why=why))
        self.values["direction"] = value

    def names(self, name: str, names: tuple[str, ...], why: str) -> None:
        """The address is one of those the DNS names resolve to (``src_names``/``dst_names``)."""
        wanted = frozenset(n.lower().rstrip(".") for n in names)
        current: frozenset[str] | None = self.values.get(name)
        if current is not None and current != wanted:
            self.unknown(_("{why}: two name conditions on one address").format(why=why))
            return
        self.values[name] = wanted

    def unknown(self, text: str) -> None:
        """A condition the tool reads but cannot evaluate."""
        self.opaque.append(text)

    def impossible(self, reason: str) -> None:
        if self.never is None:
            self.never = reason

    def alternative(self, options: list[dict[str, Any]]) -> None:
        """The rule matches when any one of ``options`` (field -> value) holds."""
        if not options:
            self.impossible(_("an empty set of alternatives"))
            return
        self.alternatives.append(options)

    # -- result ---------------------------------------------------------------------------

    def build(self) -> list[Match]:
        """One match per combination of alternatives (at least one)."""
        base = Match(**self.values, opaque=tuple(self.opaque), never=self.never)
        if not self.alternatives:
            return [base]
        out: list[Match] = []
        for combination in itertools.product(*self.alternatives):
            merged = _merge(base, combination)
            if merged is not None:
                out.append(merged)
        if not out:
            return [replace(base, never=base.never or _("no alternative of a set can match"))]
        return out


def _merge(base: Match, options: tuple[dict[str, Any], ...]) -> Match | None:
    values: dict[str, Any] = {}
    for option in options:
        for name, value in option.items():
            current = values.get(name, getattr(base, name))
            if name in _IVS_FIELDS:
                value = value if current is None else ranges.intersect(current, value)
                if not value:
                    return None
            elif name == "protos":
                value = value if current is None else current & value
                if not value:
                    return None
            elif name == "family":
                if current is not None and current != value:
                    return None
            elif name in ("iif", "oif") and current is not None:
                return replace(
                    base, opaque=(*base.opaque, _("two conditions on {name}").format(name=name))
                )
            values[name] = value
    return replace(base, **values)
