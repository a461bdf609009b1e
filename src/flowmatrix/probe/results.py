"""What a probe found: one ``ProbeResult`` per flow, destination address and port.

A failed probe is data, not an exception. ``to_dict`` is the JSON contract of
``flowmatrix verify --format json`` (documented in docs/verify.md and tested).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from flowmatrix.evidence import Check, probe_status, state_word, state_words

State = Literal[
    "open",
    "closed",
    "filtered",
    "unreachable",
    "open|filtered",
    "unresolved",
    "error",
    "not_probed",
]
#: States in which the flow does not work.
FAILED_STATES: frozenset[str] = frozenset(
    {"closed", "filtered", "unreachable", "unresolved", "error"}
)
#: States that neither prove nor disprove the flow.
INCONCLUSIVE_STATES: frozenset[str] = frozenset({"open|filtered", "not_probed"})
STATES: tuple[State, ...] = (
    "open",
    "closed",
    "filtered",
    "unreachable",
    "open|filtered",
    "unresolved",
    "error",
    "not_probed",
)

ReplyValue = str | int | float | bool | None


def state_labels() -> dict[str, str]:
    """Each state as people read it, in the current language (``evidence.state_words``)."""
    return state_words("verify")


def state_label(state: str) -> str:
    """``state`` as people read it, in the current language (the JSON keeps the code)."""
    return state_word("verify", state)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer of one probe engine (TCP connect, UDP exchange), before the flow context."""

    state: State
    reason: str
    latency_ms: float | None = None
    """Time from the answered attempt to its answer."""
    attempts: int = 1
    reply: dict[str, ReplyValue] | None = None
    """What the service answered (DNS rcode, NTP stratum, RADIUS code...), if it did."""
    findings: tuple[str, ...] = ()
    two_ended: bool = False
    """The far end's ``flowmatrix listen`` acknowledged the probe."""


@dataclass(frozen=True, slots=True)
class TlsInfo:
    """What the TLS handshake showed."""

    server_name: str | None
    """The SNI sent (the destination's FQDN when the plan knows it)."""
    version: str | None = None
    cipher: str | None = None
    subject: str | None = None
    issuer: str | None = None
    dns_names: tuple[str, ...] = ()
    ip_addresses: tuple[str, ...] = ()
    not_before: str | None = None
    """ISO 8601, UTC."""
    not_after: str | None = None
    sha256: str | None = None
    """SHA-256 fingerprint of the DER certificate, colon-separated."""
    trusted: bool | None = None
    """The chain verifies against this host's CA store (or --ca-file); None if not checked."""
    verify_error: str | None = None
    name_matches: bool | None = None
    """The certificate covers the name (or the address) the clients use; None if unknown."""
    expired: bool | None = None
    not_yet_valid: bool | None = None
    days_left: int | None = None
    error: str | None = None
    """Why the handshake failed, when it did."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "server_name": self.server_name,
            "version": self.version,
            "cipher": self.cipher,
            "subject": self.subject,
            "issuer": self.issuer,
            "dns_names": list(self.dns_names),
            "ip_addresses": list(self.ip_addresses),
            "not_before": self.not_before,
            "not_after": self.not_after,
            "days_left": self.days_left,
            "sha256": self.sha256,
            "trusted": self.trusted,
            "verify_error": self.verify_error,
            "name_matches": self.name_matches,
            "expired": self.expired,
            "not_yet_valid": self.not_yet_valid,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class DnsInfo:
    """How the destination's name resolved, compared with the addresses the plan documents."""

    name: str
    resolver: str
    """'system' (getaddrinfo: hosts file, then DNS) or the server asked (address:port)."""
    addresses: tuple[str, ...] = ()
    documented: tuple[str, ...] = ()
    """Addresses or networks the plan gives for this host (site file or catalog)."""
    undocumented: tuple[str, ...] = ()
    """Resolved addresses outside every documented one (information, not a failure)."""
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "resolver": self.resolver,
            "addresses": list(self.addresses),
            "documented": list(self.documented),
            "undocumented": list(self.undocumented),
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One flow, one destination address, one port: what was tried and what it showed."""

    flow: str
    requirement: str
    required: bool
    """False for flows the catalog marks obsolete or legacy: their failure is expected."""
    source_role: str
    source_host: str | None
    source_address: str | None
    """The local address the probe was sent from, when the plan names it."""
    destination_role: str
    destination_host: str | None
    fqdn: str | None
    address: str | None
    port: int | None
    protocol: str
    service: str | None
    state: State
    reason: str
    latency_ms: float | None = None
    attempts: int = 0
    tls: TlsInfo | None = None
    dns: DnsInfo | None = None
    reply: dict[str, ReplyValue] | None = None
    findings: tuple[str, ...] = ()
    """Problems found although the path may be open (expired certificate, wrong name...)."""
    two_ended: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def failed(self) -> bool:
        """The flow does not work as planned (or works with a finding)."""
        return probe_status(self.state, bool(self.findings)) == "failing"

    def check(self) -> Check:
        """What this result says on the scale of every check (``flowmatrix.evidence``)."""
        where = ":".join(str(v) for v in (self.address or self.fqdn, self.port) if v)
        reason = f"({self.reason})" if self.reason else ""
        detail = " ".join(filter(None, [where, state_label(self.state), reason]))
        if self.findings:
            detail += "; " + "; ".join(self.findings)
        status = probe_status(self.state, bool(self.findings))
        return Check(
            self.flow,
            self.port,
            status,
            "verify",
            detail,
            self.source_host,
            destination=self.address or self.destination_host,
        )

    @property
    def counts_against(self) -> bool:
        """A failure that makes ``verify`` exit 1: a failed required flow."""
        return self.required and self.failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "requirement": self.requirement,
            "required": self.required,
            "source": {
                "role": self.source_role,
                "host": self.source_host,
                "address": self.source_address,
            },
            "destination": {
                "role": self.destination_role,
                "host": self.destination_host,
                "fqdn": self.fqdn,
                "address": self.address,
                "port": self.port,
                "protocol": self.protocol,
                "service": self.service,
            },
            "state": self.state,
            "reason": self.reason,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 3),
            "attempts": self.attempts,
            "two_ended": self.two_ended,
            "tls": None if self.tls is None else self.tls.to_dict(),
            "dns": None if self.dns is None else self.dns.to_dict(),
            "reply": self.reply,
            "findings": list(self.findings),
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts over a run."""

    total: int
    by_state: dict[str, int]
    failed: int
    """Required results that failed (state or finding): non-zero means exit 1."""
    failed_optional: int
    """Failures of obsolete / legacy flows (reported, not counted)."""
    findings: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "by_state": self.by_state,
            "failed": self.failed,
            "failed_optional": self.failed_optional,
            "findings": self.findings,
        }


def summarise(results: Iterable[ProbeResult]) -> Summary:
    items = list(results)
    counts = Counter(r.state for r in items)
    return Summary(
        total=len(items),
        by_state={state: counts[state] for state in STATES if counts[state]},
        failed=sum(1 for r in items if r.counts_against),
        failed_optional=sum(1 for r in items if r.failed and not r.required),
        findings=sum(len(r.findings) for r in items),
    )
