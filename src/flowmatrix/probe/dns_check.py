"""Name resolution for FQDN destinations, compared with the addresses the plan documents.

By default names go through this host's resolver (``getaddrinfo``: hosts file, then
DNS), as the real clients' would. ``--resolver ADDRESS[:PORT]`` asks one DNS server
directly instead (the one the NetScaler or XenMobile uses, say).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import os
import socket
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass

from flowmatrix.errors import UserError
from flowmatrix.i18n import _
from flowmatrix.probe.netns_thread import enter_netns_fd, thread_namespace_fd
from flowmatrix.probe.results import DnsInfo


@dataclass(frozen=True, slots=True)
class ResolverSpec:
    """A DNS server to ask directly."""

    address: str
    port: int = 53

    @property
    def label(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


def parse_resolver(text: str) -> ResolverSpec:
    """``ADDRESS``, ``ADDRESS:PORT`` or ``[IPv6]:PORT``."""
    value = text.strip()
    port_text: str | None = None
    if value.startswith("["):
        host, _bracket, rest = value[1:].partition("]")
        port_text = rest.removeprefix(":") or None
    elif value.count(":") == 1:
        host, port_text = value.split(":")
    else:
        host = value
    try:
        address = str(ipaddress.ip_address(host))
        port = int(port_text) if port_text is not None else 53
        if not 1 <= port <= 65535:
            raise ValueError(port)
    except ValueError:
        raise UserError(
            _("invalid resolver {value}").format(value=repr(text)),
            hint=_("give an address, e.g. 10.0.0.53, 10.0.0.53:5353 or [2001:db8::53]:53"),
        ) from None
    return ResolverSpec(address, port)


async def resolve(
    name: str, resolver: ResolverSpec | None, timeout: float
) -> tuple[tuple[str, ...], str | None]:
    """The addresses of ``name`` in preference order, and an error text if it did not resolve."""
    if resolver is not None:
        return await _ask_server(name, resolver, timeout)
    loop = asyncio.get_running_loop()
    lookup = functools.partial(socket.getaddrinfo, name, None, type=socket.SOCK_STREAM)
    try:
        async with asyncio.timeout(max(timeout, 5.0)):
            infos = await loop.run_in_executor(_executor.get(), lookup)
    except TimeoutError:
        return (), _("the resolver did not answer in time")
    except socket.gaierror as exc:
        return (), _("does not resolve: {error}").format(error=exc.strerror)
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos)), None


_executor: ContextVar[Executor | None] = ContextVar("flowmatrix_resolver_executor", default=None)


@contextlib.contextmanager
def same_namespace_resolution() -> Iterator[Executor | None]:
    """Resolve names in the calling thread's network namespace.

    ``getaddrinfo`` runs in worker threads, which stay in the process's namespace; when
    this thread entered another one (the lab, the tests), the workers follow it there,
    so that names are asked of that namespace's network and nothing leaks out. Yields
    the executor used (None: the event loop's default one).
    """
    fd = thread_namespace_fd()
    if fd is None:
        yield None
        return
    pool = ThreadPoolExecutor(
        max_workers=4, thread_name_prefix="resolve", initializer=enter_netns_fd, initargs=(fd,)
    )
    token = _executor.set(pool)
    try:
        yield pool
    finally:
        _executor.reset(token)
        pool.shutdown(wait=False, cancel_futures=True)
        os.close(fd)


async def _ask_server(
    name: str, resolver: ResolverSpec, timeout: float
) -> tuple[tuple[str, ...], str | None]:
    import dns.asyncresolver
    import dns.exception
    import dns.resolver

    client = dns.asyncresolver.Resolver(configure=False)
    client.nameservers = [resolver.address]
    client.port = resolver.port
    client.timeout = timeout
    client.lifetime = timeout * 2
    found: list[str] = []
    for rdtype in ("A", "AAAA"):
        try:
            answer = await client.resolve(name, rdtype, search=False)
        except dns.resolver.NXDOMAIN:
            return (), _("does not exist (NXDOMAIN from {resolver})").format(
                resolver=resolver.label
            )
        except dns.resolver.NoAnswer:
            continue
        except dns.resolver.NoNameservers as exc:
            return (), _("{resolver} failed to answer: {error}").format(
                resolver=resolver.label, error=exc
            )
        except dns.exception.Timeout:
            return (), _("{resolver} did not answer in time").format(resolver=resolver.label)
        found.extend(rdata.to_text() for rdata in answer)
    if not found:
        return (), _("has no A or AAAA record at {resolver}").format(resolver=resolver.label)
    return tuple(dict.fromkeys(found)), None


def undocumented(addresses: Iterable[str], documented: Sequence[str]) -> tuple[str, ...]:
    """The resolved addresses that fall in none of the documented addresses or networks."""
    networks = []
    for item in documented:
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            continue
    outside = []
    for address in addresses:
        ip = ipaddress.ip_address(address)
        if not any(ip.version == net.version and ip in net for net in networks):
            outside.append(address)
    return tuple(outside)


async def dns_info(
    name: str, documented: Sequence[str], resolver: ResolverSpec | None, timeout: float
) -> DnsInfo:
    addresses, error = await resolve(name, resolver, timeout)
    label = resolver.label if resolver is not None else "system"
    outside = undocumented(addresses, documented) if documented else ()
    return DnsInfo(name, label, addresses, tuple(documented), outside, error)
