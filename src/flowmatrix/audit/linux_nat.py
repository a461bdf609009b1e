"""The address translations of a Linux ruleset (nftables ``dnat``/``snat``/``masquerade``,
iptables ``DNAT``/``SNAT``/``MASQUERADE``), as the stage before the rules applies them.

A translation rule of a ``nat`` chain becomes a ``Translation`` with the rule's match
(addresses, protocol, ports, interfaces) and its target: one address, or one address and
port. Rules are taken in file order; the first whose conditions hold for a packet is the
one the stage applies (``stage.py``), as in a chain without jumps. A target the audit
does not read (a map, a range of addresses, ``redirect``, ``NETMAP``) is a translation
to an unknown address: a flow that meets it is judged "depends", never "allowed".
"""

from __future__ import annotations

from flowmatrix.audit import ranges
from flowmatrix.audit.device import Translation
from flowmatrix.audit.ir import Rule, Ruleset
from flowmatrix.audit.ranges import Ivs
from flowmatrix.i18n import _

_DESTINATION = {"dnat", "DNAT"}
_SOURCE = {"snat", "SNAT", "masquerade", "MASQUERADE"}
_OPTIONS = ("--to-destination", "--to-source", "--to", "to")


def translations(ruleset: Ruleset) -> tuple[Translation, ...]:
    """The translations of ``ruleset``'s nat chains (computed once per ruleset)."""
    cached: tuple[Translation, ...] | None = ruleset.__dict__.get("_linux_nat")
    if cached is None:
        cached = tuple(t for rule in ruleset.rules if (t := _translation(rule)) is not None)
        ruleset.__dict__["_linux_nat"] = cached
    return cached


def _translation(rule: Rule) -> Translation | None:
    action = rule.action
    if action.kind != "nat" or action.target is None:
        return None
    if action.target in _DESTINATION:
        kind: str = "destination"
    elif action.target in _SOURCE:
        kind = "source"
    else:
        return None
    to_addresses: Ivs | None = None
    to_ports: Ivs | None = None
    target = _target(action.text)
    readable = True
    if target is not None:
        address, port = target
        try:
            _family, interval = ranges.parse_prefix(address)
        except ValueError:
            readable = False
        else:
            to_addresses = (interval,)
            to_ports = ranges.point(port) if port is not None else None
    elif action.target not in ("masquerade", "MASQUERADE"):
        readable = False
    origin = rule.origin
    name = _("{chain} rule {position}").format(chain=origin.chain, position=origin.position)
    if not readable:
        name += " " + _("({action}: target not read)").format(action=action.text)
    return Translation(
        name=name,
        kind="destination" if kind == "destination" else "source",
        match=rule.match,
        to_addresses=to_addresses,
        to_ports=to_ports,
        origin=origin,
        readable=readable,
    )


def _target(text: str) -> tuple[str, int | None] | None:
    """(address, port) of ``dnat to 172.30.10.10:8080`` or ``-j DNAT --to-destination
    172.30.10.10``; None when the statement has no single address."""
    words = text.split()
    for option in _OPTIONS:
        if option in words:
            at = words.index(option)
            if at + 1 < len(words):
                return _address_port(words[at + 1])
    return None


def _address_port(value: str) -> tuple[str, int | None] | None:
    if "-" in value or "," in value:
        return None  # a range or pool: not one address
    if value.startswith("["):  # [2001:db8::1]:443
        address, _sep, rest = value[1:].partition("]")
        port = rest.lstrip(":")
        return address, int(port) if port.isdigit() else None
    if value.count(":") == 1:  # 10.0.0.1:443
        address, port = value.split(":")
        return address, int(port) if port.isdigit() else None
    return value, None
