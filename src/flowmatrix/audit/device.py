"""What a firewall's configuration says besides its rules: interfaces, zones, translations.

Linux rulesets name interfaces only; a vendor configuration also says which zone each
interface is in, which addresses it has (the site's zones can be mapped onto them, see
``binding.py``), and which address translations (NAT) happen before and after the
rules. The audit's engine stays the same: a zone is a set of interfaces in the IR
(``IfaceMatch``), and a translation is a stage applied to the flow before the rules see
it (``stage.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from flowmatrix.audit.ir import Match, Origin
from flowmatrix.audit.ranges import Ivs

if TYPE_CHECKING:
    from flowmatrix.audit.fixes import Blocked, Placement
    from flowmatrix.audit.ir import Rule, Ruleset
    from flowmatrix.audit.pipeline import Decision

#: The name a zone's interface set holds for a zone whose interfaces the file does not list.
ZONE_PREFIX = "zone:"


@dataclass(frozen=True, slots=True)
class DeviceInterface:
    """One interface of the device, under the name its rules use."""

    name: str
    zone: str | None = None
    addresses: tuple[str, ...] = ()
    """Its addresses with their prefix length (``10.0.0.1/24``): the networks behind it."""
    security_level: int | None = None
    """Cisco ASA: 0 (untrusted) to 100 (trusted)."""
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Translation:
    """An address translation (NAT), with the packets it applies to."""

    name: str
    """As the configuration names it: ``VIP web``, ``NAT rule publish``, ``object web``."""
    kind: Literal["destination", "source"]
    match: Match
    """The packets before translation (interfaces, addresses, protocol, port)."""
    to_addresses: Ivs | None
    """The translated destination (or source); None for an interface's own address."""
    to_ports: Ivs | None
    origin: Origin
    one_to_one: bool = True
    """Address i of the original range maps to address i of ``to_addresses`` (static NAT);
    False for a pool or a many-to-one mapping."""
    readable: bool = True
    """False when the target is not read (a map, a pool): where it applies, the address
    after translation is unknown."""


class FixWriter(Protocol):
    """Writes the fixes of a vendor's configuration in its own syntax (see ``fixes.py``)."""

    def placement(self, ruleset: Ruleset, decision: Decision) -> Placement | None:
        """Where a rule letting the blocked packet through goes."""

    def make_rule(
        self, ruleset: Ruleset, placement: Placement, items: list[Blocked], leg: str
    ) -> tuple[Rule, str, str | None]:
        """The IR rule (for re-evaluation), the commands, and a note."""


@dataclass(frozen=True)
class Device:
    """The parts of a vendor configuration the rules alone do not carry."""

    vendor: str
    """``FortiGate``, ``PAN-OS``, ``Cisco ASA``, ``Juniper SRX``."""
    interfaces: tuple[DeviceInterface, ...] = ()
    zones: dict[str, tuple[str, ...]] | None = None
    """Zone -> the interface names that stand for it in the IR (its member interfaces,
    and ``zone:<name>`` for a zone listed without interfaces)."""
    default_route: str | None = None
    """The interface of the default route, which leads to the Internet."""
    translations: tuple[Translation, ...] = ()
    filter_sees: Literal["translated", "original"] = "translated"
    """Which destination the rules match: after a destination translation (ASA 8.3+, SRX,
    FortiGate) or before it (PAN-OS: pre-NAT addresses, post-NAT zone)."""
    context: str | None = None
    """The VDOM or vsys audited, when the file holds several."""
    fix_writer: FixWriter | None = None

    def zone_of(self, interface: str) -> str | None:
        for zone, members in (self.zones or {}).items():
            if interface in members:
                return zone
        return None
