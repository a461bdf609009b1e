"""The one representation both parsers produce (iptables-save and nftables).

A ruleset is a set of chains; base chains attach some of them to a hook with a priority
(iptables tables map onto the same priorities nftables uses). A rule is a match (a cube
over addresses and ports, plus conditions on the connection and the interfaces) and an
action. What the tool cannot evaluate stays in the match as an ``opaque`` condition, so
the engine can answer "depends on ..." instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from operator import itemgetter
from typing import TYPE_CHECKING, Literal

from flowmatrix.audit import ranges
from flowmatrix.audit.ranges import Ivs

if TYPE_CHECKING:
    from flowmatrix.audit.device import Device

Hook = Literal["prerouting", "input", "forward", "output", "postrouting"]
ChainKind = Literal["filter", "nat", "route"]
Dialect = Literal["iptables", "ip6tables", "nftables", "fortigate", "paloalto", "ciscoasa", "srx"]
ActionKind = Literal[
    "accept",
    "drop",
    "reject",
    "return",
    "jump",
    "goto",
    "continue",
    "notrack",
    "queue",
    "nat",
    "unknown",
]
CT_STATES: frozenset[str] = frozenset({"new", "established", "related", "invalid", "untracked"})

PROTO_NUMBERS: dict[str, int] = {
    "icmp": 1,
    "igmp": 2,
    "ipencap": 4,
    "tcp": 6,
    "egp": 8,
    "udp": 17,
    "ipv6": 41,
    "rsvp": 46,
    "gre": 47,
    "esp": 50,
    "ah": 51,
    "icmpv6": 58,
    "ipv6-icmp": 58,
    "icmp6": 58,
    "ospf": 89,
    "ospfigp": 89,
    "pim": 103,
    "vrrp": 112,
    "l2tp": 115,
    "sctp": 132,
    "dccp": 33,
    "udplite": 136,
    "mh": 135,
    "ipip": 94,
}
#: Protocols that carry ports.
PORT_PROTOCOLS = frozenset({6, 17, 33, 132, 136})

TCP_FLAGS: dict[str, int] = {
    "fin": 0x01,
    "syn": 0x02,
    "rst": 0x04,
    "psh": 0x08,
    "ack": 0x10,
    "urg": 0x20,
    "ecn": 0x40,
    "ece": 0x40,
    "cwr": 0x80,
}
TCP_FLAGS["all"] = 0xFF
TCP_FLAGS["none"] = 0


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a rule comes from: enough to point at it and to insert a rule beside it."""

    file: str
    line: int | None
    text: str
    table: str
    """``filter`` for iptables; ``<family> <name>`` (e.g. ``inet fw``) for nftables."""
    chain: str
    position: int
    """1-based position of the source rule in its chain (what ``iptables -I`` counts)."""
    handle: int | None = None
    """nftables rule handle, when known (rulesets read from ``nft -j``)."""
    name: str | None = None
    """How a vendor names the rule (``policy 12``, ``rule 'web-in'``, ``outside_in line
    3``): shown instead of ``chain#position``."""

    @property
    def where(self) -> str:
        if self.line is not None:
            return f"{self.file}:{self.line}"
        if self.handle is not None:
            return f"{self.table} {self.chain} handle {self.handle}"
        return f"{self.table} {self.chain} #{self.position}"


@dataclass(frozen=True, slots=True)
class IfaceMatch:
    """Interface names; ``prefix`` entries match every name that starts with them."""

    exact: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    negated: bool = False

    def matches(self, name: str) -> bool:
        hit = name in self.exact or any(name.startswith(p) for p in self.prefixes)
        return hit != self.negated

    def describe(self) -> str:
        names = sorted(self.exact) + [p + "*" for p in self.prefixes]
        text = ",".join(names) if len(names) != 1 else names[0]
        return ("!= " if self.negated else "") + text

    @classmethod
    def of(cls, names: list[str], *, negated: bool = False, wildcard: str = "+") -> IfaceMatch:
        exact = frozenset(n for n in names if not n.endswith(wildcard))
        prefixes = tuple(sorted(n[: -len(wildcard)] for n in names if n.endswith(wildcard)))
        return cls(exact, prefixes, negated)


@dataclass(frozen=True, slots=True)
class Match:
    """A conjunction of conditions; ``None`` means "any" for that field.

    ``orig_*`` fields are conntrack conditions on the original direction of the
    connection (``--ctorigdst``, ``ct original daddr``): the engine maps them onto the
    packet's own fields, straight for the request and swapped for the reply.
    """

    family: int | None = None
    src: Ivs | None = None
    dst: Ivs | None = None
    protos: frozenset[int] | None = None
    sport: Ivs | None = None
    dport: Ivs | None = None
    states: frozenset[str] | None = None
    tcp_flags: tuple[tuple[int, int, bool], ...] = ()
    """(mask, value, negated) each: the packet's flags masked with ``mask`` must (not)
    equal ``value``."""
    iif: IfaceMatch | None = None
    oif: IfaceMatch | None = None
    local_src: bool | None = None
    local_dst: bool | None = None
    direction: Literal["original", "reply"] | None = None
    orig_src: Ivs | None = None
    orig_dst: Ivs | None = None
    orig_sport: Ivs | None = None
    orig_dport: Ivs | None = None
    rpfilter: bool | None = None
    """Reverse-path check (``-m rpfilter``): True to match packets that pass it, False
    (``--invert``) for those that fail. Packets whose input interface comes from the
    interface map pass it by construction; with no known interface it is undecided."""
    opaque: tuple[str, ...] = ()
    """Conditions the tool cannot evaluate, as written (e.g. ``-m recent --update``)."""
    never: str | None = None
    """Why the match can never be true (e.g. ``-p udp`` and ``-p tcp`` together)."""
    src_names: frozenset[str] | None = None
    """The source is one of the addresses these DNS names resolve to (an FQDN object;
    ``*`` wildcards allowed). It holds for a flow end known by those names, and depends
    on DNS for any other end (see ``packet.names_status``)."""
    dst_names: frozenset[str] | None = None
    """The same for the destination."""
    dnat: frozenset[str] | None = None
    """The packet's connection was translated by one of these destination translations
    (``Ctx.dnat``; ``""`` stands for "not translated")."""

    def cube(self, reply: bool) -> tuple[Ivs | None, Ivs | None, Ivs | None, Ivs | None] | None:
        """(src, dst, sport, dport) of the packets this match can take in one direction.

        None when conntrack conditions make it empty in that direction.
        """
        if reply:
            pairs = (
                (self.src, self.orig_dst),
                (self.dst, self.orig_src),
                (self.sport, self.orig_dport),
                (self.dport, self.orig_sport),
            )
        else:
            pairs = (
                (self.src, self.orig_src),
                (self.dst, self.orig_dst),
                (self.sport, self.orig_sport),
                (self.dport, self.orig_dport),
            )
        out: list[Ivs | None] = []
        for own, orig in pairs:
            if own is None:
                out.append(orig)
            elif orig is None:
                out.append(own)
            else:
                both = ranges.intersect(own, orig)
                if not both:
                    return None
                out.append(both)
        return out[0], out[1], out[2], out[3]


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    target: str | None = None
    """Chain for jump/goto (a chain key), target name for other kinds."""
    text: str = ""


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of the IR. A source rule may give several IR rules (multiport --ports,
    verdict maps, set unions): they share the origin and keep the source order."""

    uid: int
    match: Match
    action: Action
    origin: Origin


@dataclass(frozen=True, slots=True)
class Chain:
    key: str
    """``<table>/<name>``: unique within a ruleset."""
    table: str
    name: str
    rules: tuple[Rule, ...]
    line: int | None = None


@dataclass(frozen=True, slots=True)
class BaseChain:
    """A chain attached to a hook: every packet on that hook walks it."""

    chain: str
    hook: Hook
    priority: int
    kind: ChainKind
    policy: Literal["accept", "drop"]
    families: frozenset[int]
    order: int
    """Declaration order, to break priority ties as the kernel does (first registered)."""
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """Something the parser could not read or evaluate exactly, with its place."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Ruleset:
    dialect: Dialect
    file: str
    chains: dict[str, Chain]
    bases: tuple[BaseChain, ...]
    families: frozenset[int]
    problems: tuple[Problem, ...] = ()
    sets_file: str | None = None
    nft_handles: bool = False
    """True when rule handles are known (read from ``nft -j``)."""
    notes: tuple[str, ...] = field(default=())
    device: Device | None = None
    """What a vendor configuration says besides its rules: interfaces and zones, address
    translations, what the fixes need (``audit/device.py``); None for Linux rulesets."""

    @property
    def rules(self) -> list[Rule]:
        return [rule for chain in self.chains.values() for rule in chain.rules]

    def rule(self, uid: int) -> Rule:
        inserted: Insertions | None = self.__dict__.get("_inserted")
        if inserted is not None:
            found = inserted.by_uid.get(uid)
            return inserted.origin.rule(uid) if found is None else found
        return self._by_uid()[uid]

    @property
    def rule_count(self) -> int:
        """How many IR rules the ruleset has (without building the list of them)."""
        inserted: Insertions | None = self.__dict__.get("_inserted")
        if inserted is not None:
            return inserted.origin.rule_count + len(inserted.by_uid)
        return len(self._by_uid())

    def _by_uid(self) -> dict[int, Rule]:
        cache: dict[int, Rule] | None = self.__dict__.get("_uid_cache")
        if cache is None:
            cache = {rule.uid: rule for rule in self.rules}
            self.__dict__["_uid_cache"] = cache
        return cache

    def with_rule_inserted(self, chain_key: str, index: int | None, rule: Rule) -> Ruleset:
        """A copy with ``rule`` inserted before position ``index`` (0-based) of a chain, at
        its end when ``index`` is None.

        The copy's chains are made when first read: the check of a fix (``delta.py``)
        walks the original's chains and the inserted rules, and a chain of thousands of
        rules is not copied for each fix. What does not depend on the rules' order is
        kept: the uid index (that of the original, and the inserted rules), the base
        chains."""
        inserted: Insertions = self.__dict__.get("_inserted") or Insertions(self, {}, {})
        copy: Ruleset = object.__new__(type(self))
        for name in _FIELDS_BESIDE_CHAINS:
            copy.__dict__[name] = self.__dict__[name]
        copy.__dict__["_inserted"] = inserted.added(chain_key, index, rule)
        if "_bases" in self.__dict__:
            copy.__dict__["_bases"] = self.__dict__["_bases"]
        return copy

    if not TYPE_CHECKING:  # the type checker sees ``chains`` as the field it is

        def __getattr__(self, name: str) -> object:
            # reached only for a missing attribute: the chains of a copy made by
            # ``with_rule_inserted``, made and kept on first read
            inserted = self.__dict__.get("_inserted")
            if name != "chains" or inserted is None:
                raise AttributeError(name)
            chains = self.__dict__["chains"] = inserted.spliced_chains()
            return chains

    def inserted_since(self, origin: Ruleset) -> dict[str, tuple[tuple[int, Rule], ...]] | None:
        """Chain -> (position, rule) of each rule inserted since ``origin`` (by
        ``with_rule_inserted``), in order, or None when this ruleset does not derive
        from it."""
        found: Insertions | None = self.__dict__.get("_inserted")
        if found is None:
            return {} if origin is self else None
        return found.chains if found.origin is origin else None

    @property
    def uses_names(self) -> bool:
        """Whether some rule matches DNS names (then queries carry their ends' names)."""
        found: bool | None = self.__dict__.get("_uses_names")
        if found is None:
            found = any(
                r.match.src_names is not None or r.match.dst_names is not None for r in self.rules
            )
            self.__dict__["_uses_names"] = found
        return found


_FIELDS_BESIDE_CHAINS = tuple(f.name for f in fields(Ruleset) if f.name != "chains")


@dataclass(frozen=True)
class Insertions:
    """The rules inserted into a ruleset by ``Ruleset.with_rule_inserted``, relative to the
    ruleset the first insertion started from."""

    origin: Ruleset
    chains: dict[str, tuple[tuple[int, Rule], ...]]
    """Changed chain -> (position in the new chain, rule) of its inserted rules, in order."""
    by_uid: dict[int, Rule]

    def added(self, chain_key: str, index: int | None, rule: Rule) -> Insertions:
        """These insertions and ``rule`` before position ``index`` (None: at the end)."""
        before = self.chains.get(chain_key, ())
        length = len(self.origin.chains[chain_key].rules) + len(before)
        at = length if index is None else index
        if not 0 <= at <= length:
            raise IndexError(f"no position {at} in {chain_key} ({length} rules)")
        moved = [(p + 1 if p >= at else p, r) for p, r in before]
        chains = dict(self.chains)
        chains[chain_key] = tuple(sorted([*moved, (at, rule)], key=itemgetter(0)))
        return Insertions(self.origin, chains, {**self.by_uid, rule.uid: rule})

    def spliced_chains(self) -> dict[str, Chain]:
        """The chains of the origin with the inserted rules in place."""
        chains = dict(self.origin.chains)
        for key, added in self.chains.items():
            rules = list(chains[key].rules)
            for position, rule in added:  # in order: each lands where it belongs
                rules.insert(position, rule)
            chains[key] = replace(chains[key], rules=tuple(rules))
        return chains


def successors(chain: Chain) -> set[str]:
    """Chains this chain jumps or goes to."""
    return {
        r.action.target
        for r in chain.rules
        if r.action.kind in ("jump", "goto") and r.action.target
    }


def reachable(ruleset: Ruleset, start: str) -> list[str]:
    """``start`` and every chain reachable from it, depth first, each once."""
    seen: dict[str, None] = {}
    stack = [start]
    while stack:
        key = stack.pop()
        if key in seen or key not in ruleset.chains:
            continue
        seen[key] = None
        stack.extend(sorted(successors(ruleset.chains[key]), reverse=True))
    return list(seen)
