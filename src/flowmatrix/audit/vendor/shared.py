"""What the vendor readers share: addresses, ports, secrets, and what was left unread."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Generic, TypeVar

from flowmatrix.audit import ranges
from flowmatrix.audit.ir import Problem
from flowmatrix.audit.ranges import Ivs
from flowmatrix.audit.vendor.policy import Addresses
from flowmatrix.errors import UserError
from flowmatrix.i18n import _

T = TypeVar("T")

#: Keywords whose value is a secret, in any vendor's syntax: the value is never echoed.
SECRET_WORDS = (
    "password",
    "passwd",
    "passphrase",
    "psksecret",
    "pre-shared-key",
    "secret",
    "key",
    "private-key",
    "phash",
    "community",
    "encrypted-password",
    "ascii-text",
    "hexadecimal-key",
    "authentication-key",
    "auth-pwd",
    "md5",
    "sha",
    "ssh-rsa",
    "ssh-dss",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ENC",
    "encrypted",
    "hash",
    "certificate",
    "auth-key",
    "radius-secret",
    "tacacs-key",
    # the settings whose name goes on after the secret word
    "community-string",  # PAN-OS snmp-community-string
    "psksecret-remote",  # FortiOS IPsec
    "key-string",  # FortiOS OSPF md5-keys
    "password-value",  # Junos plain-text-password-value
    "pwd",  # FortiOS SNMPv3 auth-pwd, priv-pwd
    "authpwd",  # PAN-OS SNMPv3
    "privpwd",
    "authkey",  # PAN-OS
)
_SECRET = re.compile(r"(?i)\b(" + "|".join(SECRET_WORDS) + r")(\s+)([^\n;]+)")
#: Elements whose content is a secret (PAN-OS XML); a name ending in one of them, after
#: hyphens (``<bind-password>``, ``<snmp-community-string>``), is one too.
SECRET_ELEMENTS = (
    "phash",
    "password",
    "passwd",
    "passphrase",
    "key",
    "pre-shared-key",
    "private-key",
    "secret",
    "community",
    "community-string",
    "authpwd",
    "privpwd",
    "authkey",
)
_SECRET_XML = re.compile(r"(?i)<((?:[\w.]+-)*(?:" + "|".join(SECRET_ELEMENTS) + r"))>[^<]*(?=<)")
_LOWER_WORDS = {word.lower() for word in SECRET_WORDS + SECRET_ELEMENTS}
#: The keywords and elements no other one is part of: a text holding none of them (in
#: lower case) holds none at all.
_SHORTEST_WORDS = tuple(
    sorted(w for w in _LOWER_WORDS if not any(o != w and o in w for o in _LOWER_WORDS))
)


def redact(text: str) -> str:
    """``text`` with what follows a secret keyword on its line replaced by ``<secret>``."""
    if not may_hold_secret(text):
        return text
    return redact_always(text)


def may_hold_secret(text: str) -> bool:
    """False when ``text`` cannot hold a secret keyword or element: an ASCII text (where
    matching regardless of case is matching in lower case) without any of them in lower
    case. Other texts are left to the expressions themselves (their matching regardless
    of case pairs a few other letters with ASCII ones: the Kelvin sign with ``k``, the
    long s with ``s``)."""
    if not text.isascii():
        return True
    lowered = text.lower()
    return any(word in lowered for word in _SHORTEST_WORDS)


def redact_always(text: str) -> str:
    """``redact`` without the check that the text may hold a keyword."""
    text = _SECRET_XML.sub(lambda m: f"<{m.group(1)}><secret>", text)
    return _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}<secret>", text)


@dataclass
class Notes:
    """What a reader skips (with its place) and what it assumes (notes)."""

    file: str
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _seen: set[Problem] = field(default_factory=set)
    skipped: int = 0
    """How many times ``skip`` was called (a problem listed already counts again)."""

    def skip(self, line: int | None, message: str) -> None:
        self.skipped += 1
        problem = Problem(self.file, line, redact(message))
        if problem not in self._seen:
            self._seen.add(problem)
            self.problems.append(problem)

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(redact(message))

    def error(self, line: int | None, message: str, hint: str | None = None) -> UserError:
        return UserError(redact(message), file=self.file, line=line, hint=hint)


#: A text whose double-quoted values are all closed. Only a double-quoted value goes on
#: over lines, as the devices write certificates, keys and messages: a single-quoted one
#: ends on its line, and a single quote left open is read as a character, as the
#: readers' words read it.
_CLOSED = re.compile(r"""(?:[^"']|"(?:[^"\\]|\\.)*"|'(?:[^'\\\n]|\\[^\n])*'|')*+""", re.S)
#: The end of a double-quoted value that a line before opened: up to its closing quote.
_VALUE_END = re.compile(r'(?:[^"\\]|\\.)*+"', re.S)


def opens_value(line: str) -> bool:
    """Whether ``line`` opens a double-quoted value it does not close."""
    return _CLOSED.fullmatch(line) is None


def value_over_lines(text: str, number: int, lines: Iterator[tuple[int, str]], notes: Notes) -> str:
    """``text`` (line ``number``), whose last double-quoted value is open, with the next
    ``lines`` (taken from them) up to the one that closes it: one command. Each line
    is looked at once, from the quote that opens the value on: no line is read again."""
    last = number
    for at, more in lines:
        last = at
        text += "\n" + more
        end = _VALUE_END.match(more)
        if end is not None and _CLOSED.fullmatch(more, end.end()) is not None:
            return text
    raise notes.error(
        last,
        _("the quoted value opened at line {line} is not closed").format(line=number),
        hint=_("the file ends before its closing quote (a truncated file?)"),
    )


class ReadOnce(Generic[T]):
    """Readings of named objects (an object group as addresses), kept by name.

    A configuration names the same objects in thousands of rules. Once every object of
    the file is known, reading one gives the same each time, but for what it skips: a
    reading that skipped nothing is kept and given again; one that skipped something is
    done again at each use, each listing its problems at the line of that use."""

    def __init__(self, notes: Notes, read: Callable[[str, int], T]) -> None:
        self.notes = notes
        self.read = read
        self.kept: dict[str, T] = {}

    def __call__(self, name: str, line: int) -> T:
        if name in self.kept:
            return self.kept[name]
        skipped = self.notes.skipped
        found = self.read(name, line)
        if self.notes.skipped == skipped:
            self.kept[name] = found
        return found


class Nesting:
    """The groups a reading of nested groups is inside, outermost first, and every group
    it has entered.

    A group met again while it is being read names itself, through the groups between
    (a cycle: no device accepts one); the reading lists it at the line that names it
    again and goes on without it. A group met again once read, through another group
    (a diamond: A holds B and C, both hold D), is legal: its members are the same."""

    def __init__(self) -> None:
        self.path: list[str] = []
        self.entered: set[str] = set()

    def cycle(self, name: str) -> str | None:
        """``A -> B -> A`` when ``name`` is being read, else None."""
        if name not in self.path:
            return None
        return " -> ".join([*self.path[self.path.index(name) :], name])

    def enter(self, name: str) -> None:
        self.path.append(name)
        self.entered.add(name)

    def leave(self) -> None:
        self.path.pop()


ADDRESSES_KEPT = 1 << 16
"""Address texts whose reading is kept (``network`` and the like): a configuration names
the same hosts in thousands of objects and rules; ``ipaddress`` reads each once."""


@lru_cache(maxsize=ADDRESSES_KEPT)
def network(text: str) -> tuple[int, Ivs] | None:
    """``10.0.0.0/8``, ``10.0.0.1``, ``2001:db8::/32``: (family, interval); None if not one."""
    try:
        net = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None
    low = int(net.network_address)
    return net.version, ((low, low + net.num_addresses - 1),)


@lru_cache(maxsize=ADDRESSES_KEPT)
def address_mask(address: str, mask: str) -> tuple[int, Ivs] | None:
    """``10.0.0.0 255.0.0.0`` (a netmask; a non-contiguous one is not an address set)."""
    try:
        net = ipaddress.ip_network(f"{address}/{mask}", strict=False)
    except ValueError:
        return None
    low = int(net.network_address)
    return net.version, ((low, low + net.num_addresses - 1),)


@lru_cache(maxsize=ADDRESSES_KEPT)
def address_range(first: str, last: str) -> tuple[int, Ivs] | None:
    try:
        low, high = ipaddress.ip_address(first.strip()), ipaddress.ip_address(last.strip())
    except ValueError:
        return None
    if low.version != high.version or int(low) > int(high):
        return None
    return low.version, ((int(low), int(high)),)


def as_addresses(found: tuple[int, Ivs] | None) -> Addresses | None:
    return None if found is None else Addresses.of(*found)


def other_family(family: int, *ends: Addresses) -> bool:
    """Whether one of ``ends`` lists addresses, none in ``family``: a NAT rule of those
    addresses does not apply to ``family`` (rather than to any address of it)."""
    return any(
        not end.everything and any(end.by_family.values()) and not end.by_family.get(family)
        for end in ends
    )


def interface_network(address: str, mask: str | None = None) -> str | None:
    """An interface address as ``address/prefix`` (what the zone binding reads)."""
    try:
        if mask is None:
            iface = ipaddress.ip_interface(address)
        else:
            iface = ipaddress.ip_interface(f"{address}/{mask}")
    except ValueError:
        return None
    return iface.with_prefixlen


def port_range(text: str, names: dict[str, int] | None = None) -> Ivs | None:
    """``443``, ``8000-8080``, ``https`` (with ``names``): an interval set, None if bad."""
    text = text.strip()
    if names is not None and text.lower() in names:
        value = names[text.lower()]
        return ((value, value),)
    low_text, _ignored, high_text = text.partition("-")
    low = _port(low_text, names)
    high = _port(high_text, names) if high_text else low
    if low is None or high is None or low > high:
        return None
    return ((low, high),)


def _port(text: str, names: dict[str, int] | None) -> int | None:
    text = text.strip()
    if text.isdigit():
        value = int(text)
        return value if 0 <= value <= 65535 else None
    if names is not None:
        return names.get(text.lower())
    return None


def union_ports(parts: list[Ivs]) -> Ivs:
    return ranges.normalize(iv for part in parts for iv in part)


#: Port names as Cisco ASA writes them (``show running-config`` replaces numbers by these).
ASA_PORTS: dict[str, int] = {
    "aol": 5190,
    "bgp": 179,
    "biff": 512,
    "bootpc": 68,
    "bootps": 67,
    "chargen": 19,
    "cifs": 3020,
    "citrix-ica": 1494,
    "cmd": 514,
    "ctiqbe": 2748,
    "daytime": 13,
    "discard": 9,
    "dnsix": 195,
    "domain": 53,
    "echo": 7,
    "exec": 512,
    "finger": 79,
    "ftp": 21,
    "ftp-data": 20,
    "gopher": 70,
    "h323": 1720,
    "hostname": 101,
    "http": 80,
    "https": 443,
    "ident": 113,
    "imap4": 143,
    "irc": 194,
    "isakmp": 500,
    "kerberos": 750,
    "klogin": 543,
    "kshell": 544,
    "ldap": 389,
    "ldaps": 636,
    "login": 513,
    "lotusnotes": 1352,
    "lpd": 515,
    "mobile-ip": 434,
    "nameserver": 42,
    "netbios-dgm": 138,
    "netbios-ns": 137,
    "netbios-ssn": 139,
    "nfs": 2049,
    "nntp": 119,
    "ntp": 123,
    "pcanywhere-data": 5631,
    "pcanywhere-status": 5632,
    "pim-auto-rp": 496,
    "pop2": 109,
    "pop3": 110,
    "pptp": 1723,
    "radius": 1645,
    "radius-acct": 1646,
    "rip": 520,
    "rsh": 514,
    "rtsp": 554,
    "secureid-udp": 5510,
    "sip": 5060,
    "smtp": 25,
    "snmp": 161,
    "snmptrap": 162,
    "sqlnet": 1521,
    "ssh": 22,
    "sunrpc": 111,
    "syslog": 514,
    "tacacs": 49,
    "talk": 517,
    "telnet": 23,
    "tftp": 69,
    "time": 37,
    "uucp": 540,
    "vxlan": 4789,
    "who": 513,
    "whois": 43,
    "www": 80,
    "xdmcp": 177,
}
