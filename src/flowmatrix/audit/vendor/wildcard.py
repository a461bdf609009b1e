"""Addresses under a wildcard mask (FortiGate ``type wildcard``, Junos ``wildcard-address``).

A wildcard mask keeps some bits of the address and lets the others vary; when the free
bits are not all at the end, the set is several networks. Each combination of the free
bits above the trailing run is one interval, up to ``LIMIT`` of them.
"""

from __future__ import annotations

import ipaddress

from flowmatrix.audit import ranges
from flowmatrix.audit.ranges import Ivs

LIMIT = 4096


def intervals(address: str, mask: str, *, inverted: bool = False) -> Ivs | None:
    """The IPv4 addresses matching ``address`` on the bits set in ``mask`` (on the bits
    clear in it when ``inverted``, as Cisco writes wildcards); None beyond ``LIMIT``."""
    try:
        base = int(ipaddress.IPv4Address(address))
        keep = int(ipaddress.IPv4Address(mask))
    except ValueError:
        return None
    if inverted:
        keep ^= 0xFFFFFFFF
    free = [bit for bit in range(32) if not keep >> bit & 1]
    trailing = 0
    while trailing < 32 and not keep >> trailing & 1:
        trailing += 1
    upper = [bit for bit in free if bit >= trailing]
    if 2 ** len(upper) > LIMIT:
        return None
    fixed = base & keep
    out = []
    for combination in range(2 ** len(upper)):
        value = fixed
        for index, bit in enumerate(upper):
            if combination >> index & 1:
                value |= 1 << bit
        out.append((value, value + (1 << trailing) - 1))
    return ranges.normalize(out)
