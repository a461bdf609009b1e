"""Sets of integers as sorted disjoint intervals: addresses, ports and protocol numbers.

An ``Ivs`` is a tuple of inclusive ``(low, high)`` pairs, sorted, disjoint and never
adjacent, so two equal sets always have the same representation. Addresses are plain
integers (IPv4 in 0..2**32-1, IPv6 in 0..2**128-1); the family travels beside them.
"""

from __future__ import annotations

import ipaddress
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from functools import lru_cache

from flowmatrix.i18n import _

Interval = tuple[int, int]
Ivs = tuple[Interval, ...]

EMPTY: Ivs = ()
PORTS: Ivs = ((0, 65535),)
ADDR_MAX = {4: (1 << 32) - 1, 6: (1 << 128) - 1}
ALL_ADDRESSES: dict[int, Ivs] = {4: ((0, ADDR_MAX[4]),), 6: ((0, ADDR_MAX[6]),)}


def normalize(intervals: Iterable[Interval]) -> Ivs:
    """Sort and merge overlapping or adjacent intervals."""
    items = sorted(intervals)
    merged: list[list[int]] = []
    for low, high in items:
        if low > high:
            continue
        if merged and low <= merged[-1][1] + 1:
            if high > merged[-1][1]:
                merged[-1][1] = high
        else:
            merged.append([low, high])
    return tuple((a, b) for a, b in merged)


def point(value: int) -> Ivs:
    return ((value, value),)


def union(a: Ivs, b: Ivs) -> Ivs:
    if not a:
        return b
    if not b:
        return a
    return normalize(a + b)


def intersect(a: Ivs, b: Ivs) -> Ivs:
    """Intersection by a linear merge of the two sorted lists; an interval against many
    (a rule's network against a finely split region) by bisection."""
    if len(a) > len(b):
        a, b = b, a
    if len(a) == 1:
        low, high = a[0]
        if len(b) == 1:
            top = min(high, b[0][1])
            start = max(low, b[0][0])
            return ((start, top),) if start <= top else ()
        first = bisect_left(b, low, key=_high)
        last = bisect_right(b, high, lo=first, key=_low)
        if first == last:
            return ()
        found = b[first:last]
        if found[0][0] < low or found[-1][1] > high:
            edges = list(found)
            edges[0] = (max(low, edges[0][0]), edges[0][1])
            edges[-1] = (edges[-1][0], min(high, edges[-1][1]))
            return tuple(edges)
        return found
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        low = max(a[i][0], b[j][0])
        high = min(a[i][1], b[j][1])
        if low <= high:
            out.append((low, high))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def meets(a: Ivs, b: Ivs) -> bool:
    """Whether ``a`` and ``b`` share a value (``intersect`` without building it)."""
    if len(a) > len(b):
        a, b = b, a
    for low, high in a:
        at = bisect_left(b, low, key=_high)
        if at < len(b) and b[at][0] <= high:
            return True
    return False


def _high(interval: Interval) -> int:
    return interval[1]


def _low(interval: Interval) -> int:
    return interval[0]


def complement(a: Ivs, maximum: int) -> Ivs:
    """Everything in 0..maximum that is not in ``a``."""
    out: list[Interval] = []
    cursor = 0
    for low, high in a:
        if low > cursor:
            out.append((cursor, low - 1))
        cursor = high + 1
    if cursor <= maximum:
        out.append((cursor, maximum))
    return tuple(out)


def difference(a: Ivs, b: Ivs) -> Ivs:
    if not a or not b:
        return a
    if len(b) == 1:  # one network out of a finely split set: only the edges change
        low, high = b[0]
        first = bisect_left(a, low, key=_high)
        last = bisect_right(a, high, lo=first, key=_low)
        if first == last:
            return a
        out = list(a[:first])
        if a[first][0] < low:
            out.append((a[first][0], low - 1))
        if a[last - 1][1] > high:
            out.append((high + 1, a[last - 1][1]))
        out.extend(a[last:])
        return tuple(out)
    maximum = max(a[-1][1], b[-1][1])
    return intersect(a, complement(b, maximum))


def is_subset(a: Ivs, b: Ivs) -> bool:
    """True when every value of ``a`` is in ``b``."""
    j = 0
    for low, high in a:
        while j < len(b) and b[j][1] < low:
            j += 1
        if j == len(b) or b[j][0] > low or b[j][1] < high:
            return False
    return True


def contains(a: Ivs, value: int) -> bool:
    return any(low <= value <= high for low, high in a)


# -- addresses ---------------------------------------------------------------------------


def parse_prefix(text: str) -> tuple[int, Interval]:
    """``10.0.0.0/8``, ``10.1.2.3``, ``10.0.0.0/255.0.0.0`` or ``fe80::/10`` as (family, interval).

    Host bits are ignored, as iptables and nft do. Raises ValueError on bad input.
    """
    text = text.strip()
    if "/" in text:
        address, mask = text.split("/", 1)
        ip = ipaddress.ip_address(address)
        if mask.isdigit():
            length = int(mask)
        else:
            mask_ip = ipaddress.ip_address(mask)
            if mask_ip.version != ip.version:
                raise ValueError(
                    _("mask {mask!r} does not fit {address!r}").format(mask=mask, address=address)
                )
            bits = format(int(mask_ip), f"0{ip.max_prefixlen}b")
            if "01" in bits:
                raise ValueError(_("non-contiguous mask {mask!r}").format(mask=mask))
            length = bits.count("1")
        if not 0 <= length <= ip.max_prefixlen:
            raise ValueError(_("prefix length {length} out of range").format(length=length))
        host_bits = ip.max_prefixlen - length
        low = (int(ip) >> host_bits) << host_bits
        return ip.version, (low, low + (1 << host_bits) - 1)
    ip = ipaddress.ip_address(text)
    return ip.version, (int(ip), int(ip))


def parse_range(text: str) -> tuple[int, Interval]:
    """``a-b`` (an address range) or a prefix, as (family, interval)."""
    if "-" in text and "/" not in text:
        first, last = text.split("-", 1)
        low = ipaddress.ip_address(first.strip())
        high = ipaddress.ip_address(last.strip())
        if low.version != high.version:
            raise ValueError(_("range {text!r} mixes IPv4 and IPv6").format(text=text))
        if int(low) > int(high):
            raise ValueError(_("range {text!r} is empty").format(text=text))
        return low.version, (int(low), int(high))
    return parse_prefix(text)


def format_address(value: int, family: int) -> str:
    return str(ipaddress.IPv4Address(value) if family == 4 else ipaddress.IPv6Address(value))


def to_cidrs(ivs: Ivs, family: int) -> list[str]:
    """The smallest list of CIDRs covering exactly ``ivs`` (single hosts without /32)."""
    bits = 32 if family == 4 else 128
    out: list[str] = []
    for low, high in ivs:
        cursor = low
        while cursor <= high:
            length = bits
            # grow the block while it stays aligned and inside the interval
            while length > 0:
                block = 1 << (bits - length + 1)
                if cursor % block or cursor + block - 1 > high:
                    break
                length -= 1
            text = format_address(cursor, family)
            out.append(text if length == bits else f"{text}/{length}")
            cursor += 1 << (bits - length)
    return out


@lru_cache(maxsize=4096)
def describe_addresses(ivs: Ivs, family: int) -> str:
    """Short human text for an address set: CIDRs, ranges, or 'any' (the parts of a
    flow share their destinations: each set is written once)."""
    if ivs == ALL_ADDRESSES[family]:
        return "any" if family == 4 else "any (IPv6)"
    if len(ivs) <= 4:  # more intervals than that make more CIDRs
        cidrs = to_cidrs(ivs, family)
        if len(cidrs) <= 4:
            return ", ".join(cidrs)
    parts = [
        format_address(low, family)
        if low == high
        else f"{format_address(low, family)}-{format_address(high, family)}"
        for low, high in ivs
    ]
    return ", ".join(parts)


def describe_ports(ivs: Ivs) -> str:
    if ivs == PORTS:
        return "any"
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in ivs)
