"""ns.conf commands -> ``Inventory``: one handler per command the flow matrix needs.

Commands are matched on their leading words, case-insensitively (``add lb vserver``,
``bind serviceGroup``...). Anything else is counted under its command words and skipped;
a command that is known but malformed (a missing word, an address that is not one) is a
``Problem`` with its line and column, never a crash and never a copy of the line.

Size: one small handler per ns.conf command the inventory needs (about thirty), each a
few lines, listed together so that the commands read are seen at once.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from flowmatrix.errors import UserError
from flowmatrix.i18n import N_, _
from flowmatrix.importers.netscaler.items import (
    AuthServer,
    Endpoint,
    Infra,
    Inventory,
    Member,
    OwnAddress,
    Problem,
    Route,
    Server,
    Service,
    UrlRef,
    VServer,
)
from flowmatrix.importers.netscaler.lexer import (
    Command,
    LexError,
    make_command,
    plain,
    reads,
    split_words,
)
from flowmatrix.inputfile import read_input_bytes

Handler = Callable[[Inventory, Command], None]


class Malformed(ValueError):
    """A known command with a missing or invalid value; ``word`` is its 0-based position."""

    def __init__(self, message: str, word: int | None = None, option: str | None = None) -> None:
        super().__init__(message)
        self.word = word
        self.option = option


# --- values ----------------------------------------------------------------------------


_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
#: An IPv4 address as ipaddress writes it (no leading zeros): taken as is, without parsing.
_CANONICAL_V4 = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")


def canonical_address(text: str) -> str:
    """The address as ipaddress writes it; raises ValueError for what is not one."""
    if _CANONICAL_V4.fullmatch(text):
        return text
    return str(ipaddress.ip_address(text))


def _address(text: str, what: str, word: int | None = None, option: str | None = None) -> str:
    try:
        return canonical_address(text)
    except ValueError:
        raise Malformed(
            _("{what} is not an IP address").format(what=_(what)), word, option
        ) from None


def _port(text: str | None, what: str, word: int | None = None, option: str | None = None) -> int:
    if text is None or not text.isdigit() or not 0 < int(text) < 65536:
        raise Malformed(
            _("{what} is not a port number (1-65535)").format(what=_(what)), word, option
        )
    return int(text)


def _word(cmd: Command, index: int, what: str) -> str:
    if len(cmd.words) <= index:
        raise Malformed(_("missing {what}").format(what=_(what)), None)
    return cmd.words[index]


def _words(cmd: Command, first: int, *whats: str) -> tuple[str, ...]:
    """Positional words ``first``... (one per ``what``); the first missing one is named."""
    words = cmd.words
    end = first + len(whats)
    if len(words) >= end:
        return words[first:end]
    raise Malformed(_("missing {what}").format(what=_(whats[max(len(words) - first, 0)])), None)


def _endpoint(text: str) -> Endpoint:
    try:
        return Endpoint(address=canonical_address(text))
    except ValueError:
        return Endpoint(fqdn=text.rstrip(".").lower())


def _network(
    address: str, mask: str | None
) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    if mask is None:
        return None
    try:
        return ipaddress.ip_network(f"{address}/{mask}", strict=False)
    except ValueError:
        raise Malformed(_("the netmask is not valid"), 4) from None


def _url(cmd: Command, text: str, origin: str) -> UrlRef:
    option = origin.rsplit("-", 1)[-1].lower()
    try:
        parts = urlsplit(text if "://" in text else f"http://{text}")
        explicit = parts.port
    except ValueError:
        raise Malformed(_("the URL is not valid (host or port)"), option=option) from None
    scheme = (parts.scheme or "http").lower()
    if not parts.hostname:
        raise Malformed(_("the URL has no host"), option=option)
    port = explicit or (443 if scheme == "https" else 80)
    return UrlRef(text, scheme, _endpoint(parts.hostname), port, cmd.line, origin)


# --- handlers --------------------------------------------------------------------------


def _set_ns_config(inv: Inventory, cmd: Command) -> None:
    address = cmd.option("IPAddress")
    if address is None:
        return
    nsip = _address(address, "-IPAddress", option="ipaddress")
    inv.addresses = [a for a in inv.addresses if a.kind != "NSIP"]
    inv.addresses.insert(
        0, OwnAddress(nsip, "NSIP", _network(nsip, cmd.option("netmask")), cmd.line)
    )


def _set_hostname(inv: Inventory, cmd: Command) -> None:
    inv.hostname = _word(cmd, 3, N_("host name"))


def _add_ns_ip(inv: Inventory, cmd: Command) -> None:
    text = _word(cmd, 3, N_("address"))
    if "/" in text:  # add ns ip6 fd00::5/64
        address, prefix = text.split("/", 1)
        address = _address(address, N_("the address"), 3)
        network = _network(address, prefix)
    else:
        address = _address(text, N_("the address"), 3)
        mask = cmd.words[4] if len(cmd.words) > 4 else None
        network = _network(address, mask)
    kind = (cmd.option("type") or "SNIP").upper()
    kind = {"GSLBSITEIP": "GSLBsiteIP"}.get(kind, kind)
    if kind == "NSIP" and inv.nsip is not None:
        return
    inv.addresses.append(OwnAddress(address, kind, network, cmd.line))


def _set_aaa(inv: Inventory, cmd: Command) -> None:
    address = cmd.option("aaadnatIp")
    if address is not None:
        inv.aaa = (_address(address, "-aaadnatIp", option="aaadnatip"), cmd.line)


def _add_vserver(kind: str) -> Handler:
    def handle(inv: Inventory, cmd: Command) -> None:
        name, protocol = _words(cmd, 3, N_("vserver name"), N_("service type"))
        protocol = protocol.upper()
        address = port = None
        if len(cmd.words) > 6:
            address = _address(cmd.words[5], N_("the virtual server address"), 5)
            if address in ("0.0.0.0", "::"):
                address = None  # a non-addressable vserver (its port is 0)
            else:
                port = _port(cmd.words[6], N_("the port"), 6)
        inv.vservers[name] = VServer(kind, name, protocol, address, port, cmd.line)

    return handle


def _bind_lb_vserver(inv: Inventory, cmd: Command) -> None:
    vserver = inv.vservers.get(_word(cmd, 3, N_("vserver name")))
    target = cmd.words[4] if len(cmd.words) > 4 else None
    target = target or cmd.option("serviceName") or cmd.option("serviceGroupName")
    if vserver is not None and target:
        vserver.bound.append((target, cmd.line))


def _bind_cs_vserver(inv: Inventory, cmd: Command) -> None:
    vserver = inv.vservers.get(_word(cmd, 3, N_("vserver name")))
    target = cmd.option("lbvserver") or cmd.option("targetLBVserver")
    if vserver is not None and target:
        vserver.bound.append((target, cmd.line))


def _bind_vpn_vserver(inv: Inventory, cmd: Command) -> None:
    name = _word(cmd, 3, N_("vserver name"))
    url = cmd.option("staServer")
    if url:
        inv.sta.append(_url(cmd, url, f"bind vpn vserver {name} -staServer"))


def _add_server(inv: Inventory, cmd: Command) -> None:
    name, target = _words(cmd, 2, N_("server name"), N_("address or domain name"))
    inv.servers[name] = Server(name, _endpoint(target), cmd.line)


def _add_service(inv: Inventory, cmd: Command) -> None:
    name, server, protocol, port_text = _words(
        cmd, 2, N_("service name"), N_("server"), N_("service type"), N_("port")
    )
    protocol = protocol.upper()
    port = _port(port_text, N_("the port"), 5)
    _ensure_server(inv, server, cmd.line)
    inv.services[name] = Service(name, protocol, cmd.line, [Member(server, port, cmd.line)])


def _add_service_group(inv: Inventory, cmd: Command) -> None:
    name, protocol = _words(cmd, 2, N_("service group name"), N_("service type"))
    inv.services[name] = Service(name, protocol.upper(), cmd.line, group=True)


def _bind_service_group(inv: Inventory, cmd: Command) -> None:
    group = inv.services.get(_word(cmd, 2, N_("service group name")))
    if group is None or len(cmd.words) < 5:
        return  # a monitor or policy binding
    server = cmd.words[3]
    port = _port(cmd.words[4], N_("the port"), 4)
    _ensure_server(inv, server, cmd.line)
    group.members.append(Member(server, port, cmd.line))


def _ensure_server(inv: Inventory, name: str, line: int) -> None:
    """A service may name an address directly: NetScaler then creates the server itself."""
    if name not in inv.servers:
        with contextlib.suppress(ValueError):
            inv.servers[name] = Server(name, Endpoint(canonical_address(name)), line)


def _server_option(cmd: Command) -> Endpoint:
    address = cmd.option("serverIP")
    if address is not None:
        return Endpoint(address=_address(address, "-serverIP", option="serverip"))
    name = cmd.option("serverName")
    if name is not None:
        return Endpoint(fqdn=name.rstrip(".").lower())
    raise Malformed(_("no -serverIP or -serverName"))


def _add_ldap(inv: Inventory, cmd: Command) -> None:
    name = _word(cmd, 3, N_("action name"))
    security = (cmd.option("secType") or "PLAINTEXT").upper()
    default = 636 if security == "SSL" else 389
    port_text = cmd.option("serverPort")
    port = _port(port_text, "-serverPort", option="serverport") if port_text else default
    inv.auth.append(AuthServer("ldap", name, _server_option(cmd), port, security, cmd.line))


def _add_radius(inv: Inventory, cmd: Command) -> None:
    name = _word(cmd, 3, N_("action name"))
    port_text = cmd.option("serverPort")
    port = _port(port_text, "-serverPort", option="serverport") if port_text else 1812
    inv.auth.append(AuthServer("radius", name, _server_option(cmd), port, "", cmd.line))


def _add_nameserver(inv: Inventory, cmd: Command) -> None:
    target = _word(cmd, 3, N_("name server"))
    try:
        address = canonical_address(target)
    except ValueError:
        inv.skipped["add dns nameServer (a DNS vserver)"] += 1
        return
    transport = {"TCP": "tcp", "UDP_TCP": "udp+tcp"}.get((cmd.option("type") or "").upper(), "udp")
    inv.infra.append(Infra("dns", Endpoint(address), 53, transport, cmd.line))


def _add_ntp(inv: Inventory, cmd: Command) -> None:
    if len(cmd.words) > 3:
        endpoint = Endpoint(address=_address(cmd.words[3], N_("the NTP server"), 3))
    elif cmd.option("serverName"):
        endpoint = Endpoint(fqdn=str(cmd.option("serverName")).lower())
    else:
        raise Malformed(_("no NTP server address or -serverName"))
    inv.infra.append(Infra("ntp", endpoint, 123, "udp", cmd.line))


def _add_syslog(inv: Inventory, cmd: Command) -> None:
    name = _word(cmd, 3, N_("action name"))
    if len(cmd.words) > 4:
        endpoint = Endpoint(address=_address(cmd.words[4], N_("the syslog server"), 4))
    elif cmd.option("serverDomainName"):
        endpoint = Endpoint(fqdn=str(cmd.option("serverDomainName")).lower())
    else:
        raise Malformed(_("no syslog server address or -serverDomainName"))
    port_text = cmd.option("serverPort")
    port = _port(port_text, "-serverPort", option="serverport") if port_text else 514
    transport = (cmd.option("transport") or "UDP").lower()
    inv.infra.append(Infra("syslog", endpoint, port, transport, cmd.line, name))


def _add_route(inv: Inventory, cmd: Command) -> None:
    if cmd.words[1].lower() == "route6":
        network_text, gateway = _words(cmd, 2, N_("network"), N_("gateway"))
    else:
        address, netmask, gateway = _words(cmd, 2, N_("network"), N_("netmask"), N_("gateway"))
        network_text = f"{address}/{netmask}"
    network = _route_network(network_text)
    inv.routes.append(Route(network, _address(gateway, N_("the gateway"), 4), cmd.line))


#: Netmask -> prefix length, for the netmasks routes use (a handful per ns.conf).
_PREFIXES = {str(ipaddress.IPv4Network(f"0.0.0.0/{n}").netmask): n for n in range(33)}


def _route_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    address, _ignored, mask = text.partition("/")
    prefix = _PREFIXES.get(mask)
    try:
        if prefix is not None and _CANONICAL_V4.fullmatch(address):
            host = int.from_bytes(socket.inet_aton(address), "big")
            return ipaddress.IPv4Network((host & ~((1 << (32 - prefix)) - 1), prefix))
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise Malformed(_("the route's network or netmask is not valid"), 2) from None


def _storefront_options(origin: str) -> Handler:
    def handle(inv: Inventory, cmd: Command) -> None:
        label = f"{origin} {cmd.words[3]}" if len(cmd.words) > 3 else origin
        for option in ("storefronturl", "wihome"):
            value = cmd.option(option)
            if value and value.lower() not in ("none", '""'):
                spelled = cmd.spelled.get(option, option)
                inv.storefront.append(_url(cmd, value, f"{label} -{spelled}"))

    return handle


def _add_dns_record(inv: Inventory, cmd: Command) -> None:
    name = _word(cmd, 3, N_("record name")).rstrip(".").lower()
    for word in cmd.words[4:]:
        try:
            inv.dns_records.setdefault(name, []).append(canonical_address(word))
        except ValueError:
            continue


#: Leading command words (lower case) -> handler. Longest match wins.
HANDLERS: dict[str, Handler] = {
    "set ns config": _set_ns_config,
    "set ns hostname": _set_hostname,
    "add ns ip": _add_ns_ip,
    "add ns ip6": _add_ns_ip,
    "set aaa parameter": _set_aaa,
    "add vpn vserver": _add_vserver("vpn"),
    "add lb vserver": _add_vserver("lb"),
    "add cs vserver": _add_vserver("cs"),
    "bind lb vserver": _bind_lb_vserver,
    "bind cs vserver": _bind_cs_vserver,
    "bind vpn vserver": _bind_vpn_vserver,
    "add server": _add_server,
    "add service": _add_service,
    "add servicegroup": _add_service_group,
    "bind servicegroup": _bind_service_group,
    "add authentication ldapaction": _add_ldap,
    "add authentication radiusaction": _add_radius,
    "add dns nameserver": _add_nameserver,
    "add ntp server": _add_ntp,
    "add audit syslogaction": _add_syslog,
    "add route": _add_route,
    "add route6": _add_route,
    "add vpn sessionaction": _storefront_options("add vpn sessionAction"),
    "set vpn parameter": _storefront_options("set vpn parameter"),
    "add dns addrec": _add_dns_record,
    "add dns aaaarec": _add_dns_record,
}


def _skip_key(words: list[str]) -> str:
    """The command words of a line skipped (never its names or values)."""
    key: list[str] = []
    for word in words[:3]:
        if not word.isalpha():
            break
        key.append(word)
    return " ".join(key) or "(not a command)"


def _column(text: str, cmd: Command, error: Malformed) -> int:
    """Where the faulty word or option is on the line (1-based), searched in the raw text."""
    needle: str | None = None
    if error.option is not None:
        needle = "-" + cmd.spelled.get(error.option, error.option)
    elif error.word is not None and error.word < len(cmd.words):
        needle = cmd.words[error.word]
    if needle:
        found = text.find(needle)
        if found >= 0:
            return found + 1
    return 1


Found = tuple[str, Handler]
#: The first two command words as written -> the handler of those two words (None when
#: they are not a command), and whether some command has three words starting with them.
_HEADS: dict[str, tuple[Found | None, bool]] = {}
#: The first three words as written -> their handler, or the skip key when none.
_TRIPLES: dict[str, Found | str] = {}
#: The first two words as written -> the handler, for the commands of two words only (the
#: most frequent lines: servers, services, members, routes), looked up before ``_classify``.
_TWO_WORD: dict[str, Found] = {}
_WITH_THIRD = {key.rsplit(" ", 1)[0] for key in HANDLERS if key.count(" ") == 2}


def _found(key: str) -> Found | None:
    handler = HANDLERS.get(key)
    return None if handler is None else (key, handler)


def _classify(words: list[str]) -> Found | str:
    """The handler of a command, by its first three words, else its first two; or, for a
    command the matrix does not need, the key it is counted under. Memoised per spelling."""
    if len(words) < 2:
        return _found(words[0].lower()) or _skip_key(words)
    two = words[0] + " " + words[1]
    head = _HEADS.get(two)
    if head is None:
        key = two.lower()
        head = _HEADS[two] = (_found(key), key in _WITH_THIRD)
    if head[0] is not None and not head[1]:
        _TWO_WORD[two] = head[0]
    if len(words) < 3 or (head[0] is not None and not head[1]):
        return head[0] or _skip_key(words)
    three = two + " " + words[2]
    found = _TRIPLES.get(three)
    if found is None:
        found = _TRIPLES[three] = _found(three.lower()) or head[0] or _skip_key(words)
    return found


def read_text(text: str, file: str) -> Inventory:
    """Read ns.conf text into an inventory; bad lines become problems, never exceptions."""
    inv = Inventory(file)
    number = 0
    skipped = inv.skipped
    taken = inv.taken
    commands = 0
    two_word = _TWO_WORD.get
    triple = _TRIPLES.get
    for number, line in enumerate(text.splitlines(), start=1):
        if plain(line):
            words = line.split()
        else:
            head = line.split(None, 3)[:3]  # command words, when they are plain words
            skip: Found | str | None = None
            if len(head) == 3:
                skip = triple(" ".join(head))  # what _classify memoised for these words
            if skip is None and head:
                skip = _classify(head)
            if isinstance(skip, str) and plain(" ".join(head)) and reads(line):
                commands += 1  # a command the matrix does not need: counted, not parsed
                skipped[skip] += 1
                continue
            try:
                words = split_words(line)
            except LexError as exc:
                inv.problems.append(Problem(number, exc.col, str(exc)))
                continue
        if not words:
            continue
        commands += 1
        found: Found | str | None = None
        if len(words) > 1:
            two = words[0] + " " + words[1]
            found = two_word(two)
            if found is None and len(words) > 2:
                found = triple(two + " " + words[2])
        if found is None:
            found = _classify(words)
        if isinstance(found, str):
            skipped[found] += 1
            continue
        key, handler = found
        cmd = make_command(number, words, "-" in line)
        try:
            handler(inv, cmd)
        except Malformed as exc:
            where = " ".join(cmd.words[: key.count(" ") + 1])
            inv.problems.append(
                Problem(
                    number,
                    _column(line, cmd, exc),
                    _("{command}: {message}").format(command=where, message=exc),
                )
            )
            continue
        taken[key] += 1
    inv.commands += commands
    inv.lines = number
    return inv


def read_file(path: str | Path) -> Inventory:
    """Read an ns.conf file (UTF-8, or Latin-1 as a NetScaler may write); errors exit 2."""
    name = str(path)
    raw = read_input_bytes(path, what=N_("ns.conf file"))
    if b"\x00" in raw:
        offset = raw.index(b"\x00")
        line = raw.count(b"\n", 0, offset) + 1
        raise UserError(
            _("binary data (NUL byte), not an ns.conf text file"),
            file=name,
            line=line,
            hint=_(
                "give the saved configuration (shell: /nsconfig/ns.conf, "
                "or 'show ns runningConfig')"
            ),
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return read_text(text, name)
