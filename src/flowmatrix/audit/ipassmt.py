"""Which interface an address lives behind: the interface-to-prefix map ("ipassmt").

A flow's input interface is the interface of its source address and its output
interface that of its destination, so rules with ``-i``/``-o`` (anti-spoofing chains,
per-VLAN chains) give definite answers. Two notations are read:

* the one of the fffuu / Iptables_Semantics tools, one interface per line::

      # comment
      eth0 = [10.0.0.0/8]
      eth1.96 = [131.159.14.0/25, 131.159.14.128-131.159.14.140]
      eth1.110 = [0.0.0.0/0]

* YAML: a mapping ``interface: [prefixes or ranges]``.

Overlapping entries are resolved like a routing table: the most specific wins, so
``0.0.0.0/0`` (or ``::/0``) names the interface toward the Internet.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

from flowmatrix.audit import ranges
from flowmatrix.audit.ir import IfaceMatch
from flowmatrix.audit.ranges import Interval, Ivs
from flowmatrix.errors import UserError
from flowmatrix.i18n import N_, _
from flowmatrix.inputfile import read_input_text

_LINE = re.compile(r"^\s*(?P<name>[^\s=#\[\]]+)\s*=\s*\[(?P<body>[^\]]*)\]\s*(#.*)?$")


@dataclass
class InterfaceMap:
    """Address to interface, most specific entry first."""

    entries: list[tuple[int, Interval, str]] = field(default_factory=list)
    source: str = ""
    _tables: dict[int, tuple[list[int], list[str | None]]] = field(default_factory=dict)

    def add(self, family: int, interval: Interval, name: str) -> None:
        self.entries.append((family, interval, name))
        self._tables.clear()

    @property
    def interfaces(self) -> list[str]:
        return sorted({name for _, _, name in self.entries})

    def _table(self, family: int) -> tuple[list[int], list[str | None]]:
        found = self._tables.get(family)
        if found is not None:
            return found
        mine = [(iv, name) for fam, iv, name in self.entries if fam == family]
        edges = {0}
        for (low, high), _name in mine:
            edges.add(low)
            edges.add(high + 1)
        starts = sorted(e for e in edges if e <= ranges.ADDR_MAX[family])
        names: list[str | None] = [None] * len(starts)
        # paint the widest first so that the most specific entry ends on top
        for (low, high), name in sorted(mine, key=lambda item: -(item[0][1] - item[0][0])):
            first = bisect_right(starts, low) - 1
            last = bisect_right(starts, high) - 1
            for index in range(first, last + 1):
                names[index] = name
        found = (starts, names)
        self._tables[family] = found
        return found

    def addresses_of(self, iface: IfaceMatch, family: int) -> Ivs:
        """Every address whose interface ``iface`` matches."""
        starts, names = self._table(family)
        out: list[Interval] = []
        for index, name in enumerate(names):
            if name is not None and iface.matches(name):
                end = starts[index + 1] - 1 if index + 1 < len(starts) else ranges.ADDR_MAX[family]
                out.append((starts[index], end))
        return ranges.normalize(out)

    def interface_of(self, family: int, address: int) -> str | None:
        starts, names = self._table(family)
        return names[bisect_right(starts, address) - 1]

    def split(self, family: int, ivs: Ivs) -> list[tuple[Ivs, str | None]]:
        """``ivs`` cut by interface: (part, interface or None when unmapped)."""
        starts, names = self._table(family)
        parts: dict[str | None, list[Interval]] = {}
        for low, high in ivs:
            index = bisect_right(starts, low) - 1
            cursor = low
            while cursor <= high:
                end = starts[index + 1] - 1 if index + 1 < len(starts) else ranges.ADDR_MAX[family]
                end = min(end, high)
                parts.setdefault(names[index], []).append((cursor, end))
                cursor = end + 1
                index += 1
        return [(ranges.normalize(items), name) for name, items in parts.items()]


def load_ipassmt(path: str | Path) -> InterfaceMap:
    text = read_input_text(path, what=N_("interface map"))
    if str(path).endswith((".yaml", ".yml")):
        return _from_yaml(path)
    return parse_ipassmt(text, str(path))


def parse_ipassmt(text: str, file: str) -> InterfaceMap:
    """The ``iface = [prefix, ...]`` notation."""
    found = InterfaceMap(source=file)
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parsed = _LINE.match(line)
        if parsed is None:
            raise UserError(
                _("cannot read {line!r}").format(line=line[:60]),
                file=file,
                line=number,
                hint=_("write one interface per line: eth0 = [10.0.0.0/8, 192.168.1.0/24]"),
            )
        name = parsed["name"]
        for item in parsed["body"].split(","):
            item = item.strip()
            if not item:
                continue
            _add(found, name, item, file, number)
    if not found.entries:
        raise UserError(
            _("no interface in the interface map"),
            file=file,
            hint=_("write one interface per line: eth0 = [10.0.0.0/8]"),
        )
    return found


def _add(
    found: InterfaceMap, name: str, item: str, file: str, number: int | None, col: int | None = None
) -> None:
    try:
        family, interval = ranges.parse_range(item)
    except ValueError as exc:
        raise UserError(
            _("{item!r} is not a prefix or a range: {error}").format(item=item, error=exc),
            file=file,
            line=number,
            col=col,
            hint=_("write 10.0.0.0/8 or 10.0.0.1-10.0.0.9"),
        ) from None
    found.add(family, interval, name)


def _from_yaml(path: str | Path) -> InterfaceMap:
    from flowmatrix.yamlio import load_yaml

    document = load_yaml(path)
    data = document.data
    found = InterfaceMap(source=str(path))
    if not isinstance(data, dict):
        raise UserError(
            _("the interface map must be a mapping 'interface: [prefixes]'"),
            file=str(path),
            line=1,
        )
    for name, items in data.items():
        line, col = document.position([name])
        if isinstance(items, str):
            items = [items]
        if not isinstance(items, list):
            raise UserError(
                _("interface {name!r}: expected a list of prefixes").format(name=name),
                file=str(path),
                line=line,
                col=col,
            )
        for index, item in enumerate(items):
            item_line, item_col = document.position([name, index])
            _add(found, str(name), str(item), str(path), item_line, item_col)
    if not found.entries:
        raise UserError(_("no interface in the interface map"), file=str(path))
    return found


def from_zones(zones: list[tuple[str, list[str], bool]]) -> InterfaceMap:
    """A map from a firewall's zones: (interface, CIDRs, is the Internet zone)."""
    found = InterfaceMap(source="site")
    for name, cidrs, internet in zones:
        if internet:
            found.add(4, (0, ranges.ADDR_MAX[4]), name)
            found.add(6, (0, ranges.ADDR_MAX[6]), name)
        for cidr in cidrs:
            family, interval = ranges.parse_prefix(cidr)
            found.add(family, interval, name)
    return found
