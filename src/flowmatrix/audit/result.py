"""The audit's answer, as plain data: what renderers (table, JSON, CSV, SARIF) read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from flowmatrix.audit.ir import Problem, Rule
from flowmatrix.audit.ranges import Ivs
from flowmatrix.evidence import STATUS_OF, Check, state_word
from flowmatrix.i18n import ngettext, pgettext
from flowmatrix.model import PickledByFields
from flowmatrix.records import quick_init

FATES_LISTED = 8
"""A part lists at most this many fates (the count of the others is given): output stays
bounded however many unevaluated conditions a path meets."""
PARTS_LISTED = 64
"""Parts a flow lists by default (the blocked first, then the undecided, then the
allowed): a ruleset of thousands of host rules cuts an Internet flow into thousands of
parts, each decided by its own rule; the flow's status counts them all."""
FlowStatus = Literal["allowed", "blocked", "partial", "depends", "unresolved"]


def status_text(status: str) -> str:
    """A status (``blocked``, ``depends``...) as a person reads it, in the current language."""
    return state_word("audit", status)


def addresses_text(text: str) -> str:
    """An address set as ``ranges.describe_addresses`` writes it, its ``any`` in words."""
    if text == "any":
        return pgettext("audit addresses", "any")
    if text == "any (IPv6)":
        return pgettext("audit addresses", "any (IPv6)")
    return text


def status_count(status: str, n: int, *, grouped: bool = False) -> str:
    """``12 allowed``, ``1 blocked``: a count of flows or parts of one status."""
    texts = {
        "allowed": ngettext("{n} allowed", "{n} allowed", n),
        "blocked": ngettext("{n} blocked", "{n} blocked", n),
        "partial": ngettext("{n} partial", "{n} partial", n),
        "depends": ngettext("{n} depends", "{n} depends", n),
        "unresolved": ngettext("{n} unresolved", "{n} unresolved", n),
    }
    return texts.get(status, "{n} " + status).format(n=f"{n:,}" if grouped else n)


@quick_init
@dataclass(frozen=True, slots=True)
class RuleRef(PickledByFields):
    """A rule of the audited ruleset, as the user knows it."""

    file: str
    line: int | None
    table: str
    chain: str
    position: int
    handle: int | None
    text: str
    name: str | None = None
    """A vendor's name for the rule (``policy 12``, ``rule 'web-in'``)."""

    @property
    def where(self) -> str:
        if self.line is not None:
            return f"{self.file}:{self.line}"
        if self.handle is not None:
            return f"{self.table} {self.chain} handle {self.handle}"
        return f"{self.table} {self.chain} #{self.position}"

    @property
    def label(self) -> str:
        """``chain#position``, e.g. ``FORWARD#12`` (a vendor's rule: its name)."""
        return self.name or f"{self.chain}#{self.position}"

    @classmethod
    def of(cls, rule: Rule) -> RuleRef:
        o = rule.origin
        return cls(o.file, o.line, o.table, o.chain, o.position, o.handle, o.text, o.name)


@quick_init
@dataclass(frozen=True, slots=True)
class Step:
    """What one base chain did with the packet."""

    chain: str
    """Base chain, ``table/chain`` (iptables) or ``family table/chain`` (nftables)."""
    end: str
    """accept, drop, reject, queue, unknown, policy-accept, policy-drop."""
    rule: RuleRef | None
    trace: tuple[RuleRef, ...]
    """Rules walked through: jumps, gotos, returns, then the deciding rule."""


@quick_init
@dataclass(frozen=True, slots=True)
class Condition:
    """An unevaluated condition, assumed to hold or not in one alternative."""

    rule: RuleRef
    holds: bool
    reasons: tuple[str, ...]


@quick_init
@dataclass(frozen=True, slots=True)
class Fate:
    """One possible fate of a part of a flow."""

    status: Literal["allowed", "blocked", "depends"]
    blocked_in: Literal["request", "reply"] | None
    decided_by: RuleRef | None
    """The deciding rule (None: a chain policy, see ``decision``)."""
    decision: str
    """Human summary: 'ACCEPT by FORWARD#12', 'policy DROP of filter/FORWARD'."""
    request: tuple[Step, ...]
    reply: tuple[Step, ...]
    conditions: tuple[Condition, ...]


@quick_init
@dataclass(frozen=True, slots=True)
class Part:
    """Packets of the flow that share their fate(s)."""

    family: int
    src: Ivs
    dst: Ivs
    sport: Ivs
    sources: str
    destinations: str
    source_ports: str
    iif: str | None
    oif: str | None
    status: Literal["allowed", "blocked", "depends"]
    fates: tuple[Fate, ...]
    """Its distinct fates (status and deciding rule), the likeliest first, at most
    ``FATES_LISTED`` of them."""
    more_fates: int = 0
    """How many more distinct fates it has than are listed."""


@quick_init
@dataclass(frozen=True, slots=True)
class Fix(PickledByFields):
    """A rule to add so that a blocked part passes, in the audited ruleset's own syntax."""

    command: str
    chain: str
    placement: str
    """Where and why there: 'before FORWARD#40 (jump to LOG_DROP)', 'at the end of ...'."""
    leg: Literal["request", "reply"]
    verified: bool
    """True when re-evaluating the ruleset with the fix makes the part pass."""
    note: str | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class FlowResult:
    flow_id: str
    requirement: str
    description: str
    source: str
    source_zone: str
    destination: str
    destination_zone: str
    protocol: str
    port: int
    required: bool
    """False for obsolete requirements: their being blocked is no finding."""
    flow_status: str
    status: FlowStatus
    path: str
    """forward (through a router), input (to the host), output (from the host)."""
    parts: tuple[Part, ...]
    fixes: tuple[Fix, ...] = ()
    notes: tuple[str, ...] = ()
    more_parts: tuple[tuple[str, int], ...] = ()
    """The parts not listed, counted by status (``PARTS_LISTED``)."""

    @property
    def is_finding(self) -> bool:
        return self.required and self.status in ("blocked", "partial")

    def check(self, covers: tuple[str, ...]) -> Check:
        """What this verdict says on the scale of every check: ``covers`` are the
        firewalls whose rules were judged (none for a host's own rules)."""
        detail = status_text(self.status)
        for decision in dict.fromkeys(f.decision for part in self.parts for f in part.fates):
            detail += f" ({decision})"
        if covers:
            detail = f"{covers[0]}: {detail}"
        status = STATUS_OF["audit"][self.status]
        return Check(self.flow_id, self.port, status, "audit", detail, covers=covers)

    @property
    def unlisted(self) -> str:
        """What the flow does not list: '1,800 more parts (9 blocked, 1,791 depends; ...)'."""
        if not self.more_parts:
            return ""
        counts = ", ".join(
            status_count(status, count, grouped=True) for status, count in self.more_parts
        )
        total = sum(count for _status, count in self.more_parts)
        return ngettext(
            "{total} more parts ({counts}; --parts 0 lists them all)",
            "{total} more parts ({counts}; --parts 0 lists them all)",
            total,
        ).format(total=f"{total:,}", counts=counts)


@quick_init
@dataclass(frozen=True, slots=True)
class WideRule(PickledByFields):
    """An accept rule wider than every planned flow it serves."""

    rule: RuleRef
    reasons: tuple[str, ...]
    flows: tuple[str, ...]
    """``<flow id>/<protocol>/<port>`` of the planned flows it lets through."""


@quick_init
@dataclass(frozen=True, slots=True)
class DeadRule(PickledByFields):
    rule: RuleRef
    reason: Literal["shadowed", "never-matches", "unreachable-chain"]
    detail: str
    shadowed_by: tuple[RuleRef, ...] = ()


@quick_init
@dataclass(frozen=True, slots=True)
class Unevaluated(PickledByFields):
    """A kind of condition the tool does not evaluate, and where it occurs."""

    condition: str
    rules: tuple[RuleRef, ...]


@dataclass(frozen=True)
class AuditReport:
    site: str
    site_file: str | None
    target: str
    """``firewall NAME`` or ``host NAME``."""
    path: str
    ruleset_file: str
    dialect: str
    interfaces_from: str
    """Where the interfaces of the packets come from: an ipassmt file, the site, nothing."""
    source_ports: str
    flows: tuple[FlowResult, ...]
    wide_rules: tuple[WideRule, ...] = ()
    unused_rules: tuple[RuleRef, ...] = ()
    dead_rules: tuple[DeadRule, ...] = ()
    unevaluated: tuple[Unevaluated, ...] = ()
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = field(default=())
    site_digest: str | None = None
    """``sha256:<hex>`` of the site file's bytes."""

    @property
    def findings(self) -> list[FlowResult]:
        return [f for f in self.flows if f.is_finding]

    @property
    def covers(self) -> tuple[str, ...]:
        """The firewalls of the path this audit judged: the one audited, or none for a
        host's own rules."""
        kind, _sep, name = self.target.partition(" ")
        return (name,) if kind == "firewall" and name else ()

    def counts(self) -> dict[str, int]:
        out = {"allowed": 0, "blocked": 0, "partial": 0, "depends": 0, "unresolved": 0}
        for flow in self.flows:
            out[flow.status] += 1
        return out
