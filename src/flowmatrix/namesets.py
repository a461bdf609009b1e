"""Address sets that stand for DNS names: one naming convention for rules, audit and lab.

A flow whose end is known by name only (``fcm.googleapis.com``) is rendered against a
named set per name and family, filled at run time (``dnsmasq`` ``nftset=`` / ``ipset=``
lines, or addresses pinned by ``rules --resolve``). The audit reads such a set back as
"the addresses of these names" rather than as a fixed list, and the lab fills it the way
production does. Everything that writes or reads these sets derives their names here.
"""

from __future__ import annotations

import hashlib
import re
from typing import Literal

Family = Literal[4, 6]

#: Prefix of every name set (nftables set, ipset).
PREFIX = "fqdn_"
#: A set's comment (nftables) starts with this, then the names, comma separated.
COMMENT_PREFIX = "flowmatrix names: "
#: ipset names are at most 31 characters (IPSET_MAXNAMELEN - 1).
IPSET_NAME_LIMIT = 31
_NOT_IDENTIFIER = re.compile(r"[^a-z0-9_]+")


def set_name(name: str, family: Family, limit: int = IPSET_NAME_LIMIT) -> str:
    """``fqdn_<name>_v4``: the set holding the addresses ``name`` resolves to.

    The name is lower-cased and reduced to ``[a-z0-9_]``; a name too long for ``limit``
    keeps a hash of the full name so that two names never share a set.
    """
    suffix = f"_v{family}"
    base = _NOT_IDENTIFIER.sub("_", name.lower().rstrip(".")).strip("_") or "x"
    room = limit - len(PREFIX) - len(suffix)
    if len(base) > room:
        digest = hashlib.sha256(name.lower().rstrip(".").encode()).hexdigest()[:8]
        base = base[: room - 9].rstrip("_") + "_" + digest
    return f"{PREFIX}{base}{suffix}"


def is_name_set(set_name_: str) -> bool:
    """Whether a set's name follows this convention."""
    return set_name_.startswith(PREFIX) and set_name_[-3:] in ("_v4", "_v6")


def comment(names: tuple[str, ...]) -> str:
    """The comment a name set carries: which names fill it."""
    return COMMENT_PREFIX + ", ".join(names)


def listing(set_name_: str, names: tuple[str, ...]) -> str:
    """The comment line of an iptables-restore file that says which names fill an ipset
    (ipsets carry no comment of their own)."""
    return f"#   {set_name_} ({', '.join(names)})"


_LISTING = re.compile(r"^#\s+(" + PREFIX + r"[a-z0-9_]+_v[46]) \(([^()]+)\)\s*$")


def names_from_listing(line: str) -> tuple[str, tuple[str, ...]] | None:
    """(set name, names) of a ``listing`` line, or None for any other line."""
    found = _LISTING.match(line.strip())
    if found is None:
        return None
    names = tuple(n.strip() for n in found.group(2).split(",") if n.strip())
    return (found.group(1), names) if names else None


def names_from_comment(text: str | None) -> tuple[str, ...] | None:
    """The names a set's comment lists, or None when it is not a name set's comment."""
    if not text or not text.startswith(COMMENT_PREFIX):
        return None
    return tuple(n.strip() for n in text[len(COMMENT_PREFIX) :].split(",") if n.strip())
