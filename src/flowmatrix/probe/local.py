"""The addresses of this host (of the calling thread's network namespace)."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _proc_net() -> Path:
    # /proc/thread-self follows a thread that entered another network namespace
    thread = Path("/proc/thread-self/net")
    return thread if thread.exists() else Path("/proc/net")


def _ipv4_from_fib_trie(text: str) -> list[IPAddress]:
    """Local IPv4 addresses: the leaves of the trie marked '/32 host LOCAL'."""
    found: list[IPAddress] = []
    last: str | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("|--"):
            last = stripped[3:].strip()
        elif stripped.startswith("/32 host LOCAL") and last is not None:
            found.append(ipaddress.IPv4Address(last))
    return found


def _ipv6_from_if_inet6(text: str) -> list[IPAddress]:
    found: list[IPAddress] = []
    for line in text.splitlines():
        fields = line.split()
        if fields and len(fields[0]) == 32:
            found.append(ipaddress.IPv6Address(int(fields[0], 16)))
    return found


def local_addresses() -> tuple[IPAddress, ...]:
    """Every address configured on this host, loopback included."""
    base = _proc_net()
    found: list[IPAddress] = []
    try:
        found += _ipv4_from_fib_trie((base / "fib_trie").read_text())
    except OSError:
        found += _from_hostname(socket.AF_INET)
    try:
        found += _ipv6_from_if_inet6((base / "if_inet6").read_text())
    except OSError:
        if os.path.exists("/proc/net/if_inet6"):
            raise
    return tuple(dict.fromkeys(found))


def _from_hostname(family: socket.AddressFamily) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, family)
    except OSError:
        return []
    return [ipaddress.ip_address(info[4][0]) for info in infos]


def is_local(address: IPAddress, local: tuple[IPAddress, ...]) -> bool:
    """``address`` is one of this host's (all of 127.0.0.0/8 is)."""
    return address in local or (address.version == 4 and address.is_loopback)
