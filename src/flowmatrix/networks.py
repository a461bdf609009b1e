"""Addresses and networks as the site writes them: ``parse_network`` reads one once
(cached), with a hint when it is not an address or has host bits set (standard library
only: the validated site and everything after the plan read addresses the same way)."""

from __future__ import annotations

import functools
import ipaddress

from flowmatrix.errors import HintedValueError
from flowmatrix.i18n import N_, _

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=1 << 16)
def exact_network(text: str) -> IPNetwork | None:
    # validation, the cross-checks and the planner each read every address of the site
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError:
        return None


def parse_network(text: str, *, what: str = N_("address")) -> IPNetwork:
    """An address or CIDR as a network; host bits set in a CIDR are an error with a hint."""
    network = exact_network(text)
    if network is not None:
        return network
    try:
        loose = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise HintedValueError(
            _("invalid {what} {text!r}").format(what=_(what), text=text),
            _("write an IPv4 or IPv6 address, or a CIDR such as 10.0.0.0/24"),
        ) from None
    raise HintedValueError(
        _("{what} {text!r} has host bits set").format(what=_(what), text=text),
        _("did you mean {network}?").format(network=loose.with_prefixlen),
    )
