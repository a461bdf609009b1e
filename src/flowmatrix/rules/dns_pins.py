"""Today's DNS answers for the names a ruleset matches (``rules --resolve``).

The answers are pinned into the output (name sets' elements, or plain addresses for a
platform without FQDN objects), with the time, the resolver and the TTL written beside
them. A name that does not resolve, or a resolver that does not answer, is an error:
nothing is written rather than a set that silently matches nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flowmatrix.errors import UserError
from flowmatrix.i18n import _
from flowmatrix.rules.firewall_view import Family

#: Seconds the resolver gets for one name and one record type.
LIFETIME = 3.0


@dataclass(frozen=True)
class Answer:
    """What one name resolved to, when, and from which resolver."""

    name: str
    v4: tuple[str, ...] = ()
    v6: tuple[str, ...] = ()
    ttl: int | None = None
    """The smallest TTL of the answers, in seconds."""
    when: str = ""
    """UTC time of the query, ISO 8601."""
    server: str = ""

    def addresses(self, family: Family) -> tuple[str, ...]:
        return self.v4 if family == 4 else self.v6

    def describe(self) -> str:
        shown = ", ".join((*self.v4, *self.v6)) or "no address"
        ttl = f", TTL {self.ttl} s" if self.ttl is not None else ""
        return f"{self.name}: {shown} (resolved {self.when} by {self.server}{ttl})"


@dataclass(frozen=True)
class Failure:
    """A name that gave no address in the families its flows need."""

    name: str
    reason: str


def parse_resolver(text: str) -> tuple[str, int]:
    """``ADDR`` or ``ADDR:PORT`` or ``[V6]:PORT`` -> (address, port)."""
    import ipaddress

    host, port = text, 53
    if text.startswith("["):
        host, _sep, rest = text[1:].partition("]")
        if rest.startswith(":"):
            port = _port(rest[1:], text)
    elif text.count(":") == 1:
        host, _sep, tail = text.partition(":")
        port = _port(tail, text)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise UserError(
            _("--resolver {value!r} is not an address").format(value=text),
            hint=_("give the resolver's IP address, optionally with :PORT (127.0.0.1:5353)"),
        ) from None
    return host, port


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise UserError(
            _("--resolver {value!r}: bad port").format(value=whole),
            hint=_("a port is 1 to 65535"),
        )
    return int(text)


def resolve(
    needs: Mapping[str, Iterable[Family]], resolver: str | None = None
) -> tuple[dict[str, Answer], list[Failure]]:
    """Resolve each name for the families it needs (A for 4, AAAA for 6).

    ``resolver`` is ``ADDR[:PORT]``; None uses the system's resolvers (resolv.conf).
    """
    import dns.exception
    import dns.resolver

    if resolver is None:
        engine = dns.resolver.Resolver()
        server = ", ".join(str(n) for n in engine.nameservers) or "the system resolver"
        shown = ", ".join(str(n) for n in engine.nameservers) or _("the system resolver")
    else:
        address, port = parse_resolver(resolver)
        engine = dns.resolver.Resolver(configure=False)
        engine.nameservers = [address]
        engine.port = port
        server = shown = resolver
    engine.lifetime = LIFETIME
    answers: dict[str, Answer] = {}
    failures: list[Failure] = []
    for name, families in sorted(needs.items()):
        when = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        found: dict[Family, tuple[str, ...]] = {}
        ttls: list[int] = []
        problem = None
        for family in sorted(set(families)):
            kind = "A" if family == 4 else "AAAA"
            try:
                reply = engine.resolve(name, kind, search=False)
            except dns.resolver.NXDOMAIN:
                problem = _("the name does not exist (NXDOMAIN)")
                break
            except dns.resolver.NoAnswer:
                found[family] = ()
                continue
            except (dns.resolver.NoNameservers, dns.exception.Timeout) as exc:
                problem = _("the resolver {server} does not answer ({error})").format(
                    server=shown, error=type(exc).__name__
                )
                break
            except dns.exception.DNSException as exc:
                problem = f"{type(exc).__name__}: {exc}"
                break
            found[family] = tuple(sorted({r.to_text() for r in reply}, key=_sort_key))
            if reply.rrset is not None:
                ttls.append(reply.rrset.ttl)
        if problem is None and not any(found.values()):
            kinds = " or ".join("A" if f == 4 else "AAAA" for f in sorted(set(families)))
            problem = _("no {kinds} record").format(kinds=kinds)
        if problem is not None:
            failures.append(Failure(name, problem))
            continue
        answers[name] = Answer(
            name, found.get(4, ()), found.get(6, ()), min(ttls) if ttls else None, when, server
        )
    return answers, failures


def _sort_key(address: str) -> tuple[int, int]:
    import ipaddress

    parsed = ipaddress.ip_address(address)
    return parsed.version, int(parsed)
