"""Contents of ipsets from an ``ipset save`` file, for ``-m set --match-set`` matches.

Supported types: ``hash:ip``, ``hash:net``, ``bitmap:ip`` (addresses, with ``nomatch``
exceptions), ``hash:ip,port``, ``hash:net,port`` (address and protocol:port),
``bitmap:port`` and ``list:set`` of those. Other types stay unevaluated.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowmatrix.audit import ranges
from flowmatrix.audit.ir import PROTO_NUMBERS
from flowmatrix.errors import UserError
from flowmatrix.i18n import N_, _
from flowmatrix.inputfile import read_input_text

_SUPPORTED = {
    "hash:ip": ("addr",),
    "hash:net": ("addr",),
    "bitmap:ip": ("addr",),
    "hash:ip,port": ("addr", "port"),
    "hash:net,port": ("addr", "port"),
    "bitmap:port": ("port",),
    "list:set": ("set",),
}


@dataclass
class IpSet:
    name: str
    kind: str
    family: int
    line: int
    members: list[tuple[Any, ...]] = field(default_factory=list)
    exceptions: list[tuple[int, tuple[int, int]]] = field(default_factory=list)


@dataclass
class IpsetDb:
    """Named sets read from one ``ipset save`` file."""

    file: str
    sets: dict[str, IpSet] = field(default_factory=dict)

    def alternatives(self, name: str, flags: list[str]) -> list[dict[str, Any]] | str:
        """Field constraints, one dict per alternative; or the reason it cannot be used."""
        return self._alternatives(name, flags, depth=0)

    def _alternatives(self, name: str, flags: list[str], depth: int) -> list[dict[str, Any]] | str:
        found = self.sets.get(name)
        if found is None:
            return f"ipset {name!r} is not in {self.file}"
        dims = _SUPPORTED.get(found.kind)
        if dims is None:
            return f"ipset type {found.kind} is not evaluated"
        if dims == ("set",):
            if depth > 4:
                return f"ipset {name!r} nests sets too deeply"
            out: list[dict[str, Any]] = []
            for (member,) in found.members:
                sub = self._alternatives(member, flags, depth + 1)
                if isinstance(sub, str):
                    return sub
                out.extend(sub)
            return out
        if len(flags) < len(dims):
            return f"--match-set {name} gives {len(flags)} direction(s) for a {found.kind} set"
        if dims == ("addr",):
            side = "src" if flags[0] == "src" else "dst"
            ivs = ranges.normalize(m[0] for m in found.members)
            exceptions = ranges.normalize(e[1] for e in found.exceptions)
            # nomatch entries are exceptions only for addresses no more specific entry covers;
            # subtracting them is exact when exceptions are nested in wider entries (the usual use)
            ivs = ranges.difference(ivs, exceptions)
            return [{"family": found.family, side: ivs}]
        if dims == ("port",):
            side = "sport" if flags[0] == "src" else "dport"
            return [{side: ranges.normalize(m[0] for m in found.members)}]
        addr_side = "src" if flags[0] == "src" else "dst"
        port_side = "sport" if flags[1] == "src" else "dport"
        grouped: dict[tuple[int, tuple[int, int]], list[tuple[int, int]]] = {}
        for interval, proto, port in found.members:
            grouped.setdefault((proto, port), []).append(interval)
        return [
            {
                "family": found.family,
                addr_side: ranges.normalize(addrs),
                "protos": frozenset({proto}),
                port_side: (port,),
            }
            for (proto, port), addrs in sorted(grouped.items())
        ]


def load_ipsets(path: str | Path) -> IpsetDb:
    text = read_input_text(path, what=N_("ipset file"), errors="replace")
    return parse_ipsets(text, str(path))


def parse_ipsets(text: str, file: str) -> IpsetDb:
    db = IpsetDb(file)
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise UserError(
                _("unreadable line: {error}").format(error=exc), file=file, line=number
            ) from None
        command = words[0]
        if command in ("create", "-N", "-exist") and len(words) >= 3:
            family = 6 if "inet6" in words[3:] else 4
            db.sets[words[1]] = IpSet(words[1], words[2], family, number)
        elif command in ("add", "-A") and len(words) >= 3:
            target = db.sets.get(words[1])
            if target is None:
                raise UserError(
                    _("'add' to set {name!r} before its 'create'").format(name=words[1]),
                    file=file,
                    line=number,
                    hint=_("give the output of 'ipset save'"),
                )
            _add(target, words[2], "nomatch" in words[3:], file, number)
        elif command in ("flush", "destroy", "swap", "rename"):
            continue
        else:
            raise UserError(
                _("not an 'ipset save' line: {line!r}").format(line=line[:60]),
                file=file,
                line=number,
                hint=_("give the output of 'ipset save'"),
            )
    return db


def _add(target: IpSet, element: str, nomatch: bool, file: str, number: int) -> None:
    dims = _SUPPORTED.get(target.kind)
    if dims is None:
        return
    try:
        if dims == ("set",):
            target.members.append((element,))
        elif dims == ("port",):
            low, _sep, high = element.partition("-")
            target.members.append(((int(low), int(high or low)),))
        elif dims == ("addr",):
            family, interval = ranges.parse_range(element)
            if nomatch:
                target.exceptions.append((family, interval))
            else:
                target.members.append((interval,))
        else:
            address, _sep, port_text = element.partition(",")
            _family, interval = ranges.parse_range(address)
            proto_name, _sep, port = port_text.rpartition(":")
            proto = PROTO_NUMBERS[proto_name or "tcp"]
            low, _sep, high = port.partition("-")
            target.members.append((interval, proto, (int(low), int(high or low))))
    except (ValueError, KeyError) as exc:
        raise UserError(
            _("cannot read set element {element!r} of {name}: {error}").format(
                element=element, name=target.name, error=exc
            ),
            file=file,
            line=number,
        ) from None
