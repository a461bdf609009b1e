"""What every rules target renders from: the plan's flows as seen by one firewall or host.

A ``RuleSpec`` is one flow on one chain (forward, or a host's input / output), with its
two ends reduced to what a packet filter can match: address lists per family, or 'any'.
Targets never look at the site again; they only turn specs into text.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from flowmatrix.i18n import _, current, language, ngettext, pgettext
from flowmatrix.model import Flow, Nat

Family = Literal[4, 6]
FAMILIES: tuple[Family, ...] = (4, 6)
Chain = Literal["forward", "input", "output"]
ScopeKind = Literal["firewall", "host", "proxy"]
Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose rules: a firewall's forward path, or a host's own input and output."""

    kind: ScopeKind
    name: str

    def describe(self) -> str:
        """``firewall fw-front``, in English (the generated rulesets' comments)."""
        return f"{self.kind} {self.name}"

    def said(self) -> str:
        """``describe()`` in the current language (what the user reads)."""
        if self.kind == "firewall":
            return _("firewall {name}").format(name=self.name)
        if self.kind == "host":
            return _("host {name}").format(name=self.name)
        return _("proxy {name}").format(name=self.name)


@dataclass(frozen=True, slots=True)
class Side:
    """One end of a rule: the addresses to match, or none ('any').

    An 'any' end in the Internet zone means every address that is in no other zone of
    the site: ``not_v4`` / ``not_v6`` hold the other zones' networks, which a rule must
    exclude (empty for a family the other zones do not use).
    """

    role: str
    zone: str
    key: str
    """Base name for the address objects of this end (role and zone, plus a host)."""
    any: bool
    v4: tuple[ipaddress.IPv4Network, ...] = ()
    v6: tuple[ipaddress.IPv6Network, ...] = ()
    names: tuple[str, ...] = ()
    """Names this end matches besides its addresses: one name set (nftables, ipset) or
    FQDN object per name, in every family the other end has."""
    any_reason: str | None = None
    """Why an 'any' end is 'any' by choice (the site's, the catalog's, the proxy's)."""
    not_v4: tuple[ipaddress.IPv4Network, ...] = ()
    not_v6: tuple[ipaddress.IPv6Network, ...] = ()
    not_key: str = ""
    """Base name for the objects holding the excluded networks (``zone_not_internet``)."""

    def networks(self, family: Family) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return self.v4 if family == 4 else self.v6

    def excluded(self, family: Family) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """Networks an 'any' end must not match in ``family`` (the site's other zones)."""
        return self.not_v4 if family == 4 else self.not_v6

    @property
    def has_exclusions(self) -> bool:
        return bool(self.not_v4 or self.not_v6)

    def matches_family(self, family: Family) -> bool:
        return self.any or bool(self.names) or bool(self.networks(family))

    @property
    def has_addresses(self) -> bool:
        return bool(self.v4 or self.v6)


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One flow on one chain of the scope."""

    flow: Flow
    chain: Chain
    source: Side
    destination: Side
    in_zone: str | None = None
    out_zone: str | None = None
    in_interface: str | None = None
    out_interface: str | None = None
    families: tuple[Family, ...] = ()
    """Families a rule is rendered for (one rule each); empty when both ends are 'any'
    with nothing to exclude."""
    problem: str | None = None
    """Why no rule can be rendered: the flow is missing (kept as a comment, an error)."""
    left_out: str | None = None
    """Why the flow is deliberately not opened (obsolete, not requested): a comment."""

    @property
    def renderable(self) -> bool:
        return self.problem is None and self.left_out is None

    @property
    def description(self) -> str:
        """The flow's description for the rule's comment, the reason for an explicit
        'any' end first (it must be read where the rule is)."""
        reasons = [s.any_reason for s in (self.source, self.destination) if s.any and s.any_reason]
        if not reasons:
            return self.flow.description
        return f"any Internet address: {'; '.join(reasons)}. {self.flow.description}"

    @property
    def family_free(self) -> bool:
        """Both ends are 'any' and exclude nothing: one rule, no address family match."""
        return self.problem is None and not self.families


@dataclass(frozen=True, slots=True)
class Finding:
    """Something the user must know about the generated rules."""

    severity: Severity
    message: str
    flow: str | None = None

    def __str__(self) -> str:
        text = self.message
        if self.flow:
            text = _("{flow}: {message}").format(flow=self.flow, message=text)
        return _("{severity}: {message}").format(
            severity=severity_label(self.severity), message=text
        )


def in_both(make: Callable[..., str], *args: object) -> tuple[str, str]:
    """``make(*args)`` in English (a comment of the generated rules: they stay English)
    and in the current language (the finding the user reads)."""
    with language("en"):
        english = make(*args)
    return english, (english if current() == "en" else make(*args))


def severity_label(severity: Severity) -> str:
    """``error``, ``warning`` or ``info``, in the current language."""
    if severity == "error":
        return pgettext("severity", "error")
    if severity == "warning":
        return pgettext("severity", "warning")
    return pgettext("severity", "info")


@dataclass(frozen=True, slots=True)
class NatSpec:
    """One address translation of a firewall scope, and its interface on the outside."""

    nat: Nat
    interface: str | None = None
    """The firewall's interface on the outside zone (None: the site does not say; the
    translation then matches addresses only, on every interface)."""


@dataclass(frozen=True)
class Selection:
    """The specs of one scope, in plan order, and what selecting them found."""

    scope: Scope
    site_name: str
    specs: tuple[RuleSpec, ...]
    findings: tuple[Finding, ...] = ()
    nat: tuple[NatSpec, ...] = ()
    """The firewall's address translations (a firewall scope only): see ``select``."""


@dataclass(frozen=True)
class FlowCounts:
    """What became of the flows of a scope: the summary line of ``rules``."""

    rendered: int = 0
    missing: int = 0
    """Required flows with no rule: each has an error finding."""
    left_out: int = 0
    """Obsolete or legacy flows the site does not keep."""
    explicit_any: int = 0
    """Rendered flows with an end opened to any Internet address by choice."""

    def text(self) -> str:
        rendered = ngettext(
            "{n} rendered ({explicit} as explicit any)",
            "{n} rendered ({explicit} as explicit any)",
            self.rendered,
        ).format(n=self.rendered, explicit=self.explicit_any)
        missing = ngettext("{n} missing", "{n} missing", self.missing).format(n=self.missing)
        left_out = ngettext(
            "{n} left out as obsolete", "{n} left out as obsolete", self.left_out
        ).format(n=self.left_out)
        return ", ".join((rendered, missing, left_out))


@dataclass(frozen=True)
class RulesOutput:
    """A generated configuration and the findings about it."""

    target: str
    scope: Scope
    text: str
    findings: tuple[Finding, ...] = field(default=())
    rules: int = 0
    """Rules (or terms) rendered."""
    flows: int = 0
    """Flows of the scope."""
    counts: FlowCounts = field(default_factory=FlowCounts)
    side_files: dict[str, str] = field(default_factory=dict)
    """Companion files of the output, by kind: ``dnsmasq`` (the lines that fill the name
    sets), ``ipset`` (an ``ipset restore`` file creating the sets iptables refers to)."""
    resolved: bool = False
    """Whether names were resolved (``--resolve``) into the output."""
    unresolved: tuple[str, ...] = ()
    """Names ``--resolve`` could not resolve: the output must not be written."""

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "warning")
