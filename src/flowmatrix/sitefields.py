"""The field types of the site file: names, addresses, CIDRs, ports and port ranges,
interface names. Each is an annotated type that validates its value (with a hint) and
gives its JSON schema; ``parse_network`` reads an address or network once, cached.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema

from flowmatrix.errors import HintedValueError
from flowmatrix.i18n import N_, _
from flowmatrix.networks import parse_network
from flowmatrix.portset import PortSet, parse_port_range

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"
_NAME = re.compile(NAME_PATTERN)


def _check_name(value: str) -> str:
    if not _NAME.match(value):
        raise HintedValueError(
            _("invalid name {value!r}").format(value=value),
            _(
                "names use letters, digits, '.', '_' and '-' (up to 63), starting with a letter "
                "or digit"
            ),
        )
    return value


def _check_address(value: str) -> str:
    parse_network(value)
    return value


def _check_cidr(value: str) -> str:
    parse_network(value, what=N_("CIDR"))
    return value


def _check_port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise HintedValueError(
            _("port {port} is outside 1-65535").format(port=value),
            _("ports are numbered 1 to 65535"),
        )
    return value


#: Linux names (eth0, bond0.20) and vendor ones (ethernet1/1, ge-0/0/0.0); never spaces or
#: quotes, and never a wildcard: iptables reads ``lan+`` as every ``lan*`` interface.
_IFNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/@-]{0,63}$")
_IFNAME_WILDCARDS = "+*?[]"


def _check_interface(value: str) -> str:
    wildcard = next((ch for ch in value if ch in _IFNAME_WILDCARDS), None)
    if wildcard is not None:
        raise HintedValueError(
            _("interface name {value!r} holds the wildcard {wildcard!r}").format(
                value=value, wildcard=wildcard
            ),
            _(
                "interface names are literal on every target, and iptables would read "
                "{value!r} as a pattern matching more interfaces: give the exact name"
            ).format(value=value),
        )
    if not _IFNAME.match(value) or value in (".", ".."):
        raise HintedValueError(
            _("invalid interface name {value!r}").format(value=value),
            _("an interface name uses letters, digits and '_.:/@-' (eth0, bond0.20, ethernet1/1)"),
        )
    return value


InterfaceName = Annotated[
    str,
    AfterValidator(_check_interface),
    WithJsonSchema({"type": "string", "pattern": _IFNAME.pattern}),
]
Name = Annotated[
    str,
    AfterValidator(_check_name),
    WithJsonSchema({"type": "string", "pattern": NAME_PATTERN}),
]
AddressText = Annotated[
    str, AfterValidator(_check_address), WithJsonSchema({"type": "string", "format": "ip-or-cidr"})
]
CidrText = Annotated[
    str, AfterValidator(_check_cidr), WithJsonSchema({"type": "string", "format": "cidr"})
]
Port = Annotated[
    int,
    AfterValidator(_check_port),
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": 65535}),
]


def _check_port_item(value: int | str) -> int | str:
    if isinstance(value, int):
        return _check_port(value)
    try:
        parse_port_range(value)
    except ValueError as exc:
        raise HintedValueError(str(exc), _("write a port (443) or a range (5228-5230)")) from None
    return value


PortItem = Annotated[
    int | str,
    AfterValidator(_check_port_item),
    WithJsonSchema(
        {
            "oneOf": [
                {"type": "integer", "minimum": 1, "maximum": 65535},
                {"type": "string", "pattern": r"^\s*[0-9]{1,5}\s*(-\s*[0-9]{1,5}\s*)?$"},
            ]
        }
    ),
]
"""A port (443) or an inclusive range of ports ("5228-5230")."""


def ports_of(items: Sequence[int | str]) -> PortSet:
    """Ports and ranges of ports (checked by ``PortItem``), ranges kept as ranges."""
    if all(isinstance(item, int) for item in items):
        return PortSet.of(items)  # type: ignore[arg-type]  # all ints: checked above
    return PortSet(
        (item, item) if isinstance(item, int) else parse_port_range(item) for item in items
    )
