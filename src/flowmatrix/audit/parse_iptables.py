"""``iptables-save`` / ``ip6tables-save`` files into the IR.

Every table becomes chains ``<table>/<chain>``; built-in chains become base chains with
the priorities nftables uses for the same tables (raw -300, mangle -150, nat -100/100,
filter 0, security 50), so both dialects share one evaluation pipeline. Matches the
tool cannot evaluate (``-m recent``, ``-m mac``, ``-m limit`` ...) stay in the rule as
opaque conditions; what cannot be read at all is reported as a problem with its line.

Size: one reader of the iptables-save format: its tables, rule options and match
modules, so that what it evaluates (and what it leaves unevaluated) is listed once.
"""

from __future__ import annotations

import itertools
import re
import shlex
import socket
from dataclasses import dataclass, field

from flowmatrix import namesets
from flowmatrix.audit import ranges
from flowmatrix.audit.ipset import IpsetDb
from flowmatrix.audit.ir import (
    PROTO_NUMBERS,
    TCP_FLAGS,
    Action,
    ActionKind,
    BaseChain,
    Chain,
    ChainKind,
    Dialect,
    Hook,
    IfaceMatch,
    Match,
    Origin,
    Problem,
    Rule,
    Ruleset,
)
from flowmatrix.audit.matchbuild import MatchBuilder
from flowmatrix.audit.ranges import Ivs
from flowmatrix.errors import UserError
from flowmatrix.i18n import _

#: table -> built-in chain -> (hook, priority, kind)
BUILTINS: dict[str, dict[str, tuple[Hook, int, ChainKind]]] = {
    "raw": {"PREROUTING": ("prerouting", -300, "filter"), "OUTPUT": ("output", -300, "filter")},
    "mangle": {
        "PREROUTING": ("prerouting", -150, "filter"),
        "INPUT": ("input", -150, "filter"),
        "FORWARD": ("forward", -150, "filter"),
        "OUTPUT": ("output", -150, "route"),
        "POSTROUTING": ("postrouting", -150, "filter"),
    },
    "nat": {
        "PREROUTING": ("prerouting", -100, "nat"),
        "INPUT": ("input", 100, "nat"),
        "OUTPUT": ("output", -100, "nat"),
        "POSTROUTING": ("postrouting", 100, "nat"),
    },
    "filter": {
        "INPUT": ("input", 0, "filter"),
        "FORWARD": ("forward", 0, "filter"),
        "OUTPUT": ("output", 0, "filter"),
    },
    "security": {
        "INPUT": ("input", 50, "filter"),
        "FORWARD": ("forward", 50, "filter"),
        "OUTPUT": ("output", 50, "filter"),
    },
}

_TERMINAL: dict[str, ActionKind] = {
    "ACCEPT": "accept",
    "DROP": "drop",
    "REJECT": "reject",
    "RETURN": "return",
    "QUEUE": "queue",
    "NFQUEUE": "queue",
    "TARPIT": "drop",
    "SNAT": "nat",
    "DNAT": "nat",
    "MASQUERADE": "nat",
    "REDIRECT": "nat",
    "NETMAP": "nat",
    "NOTRACK": "notrack",
}
_NON_TERMINAL = frozenset(
    {
        "LOG",
        "NFLOG",
        "ULOG",
        "TRACE",
        "AUDIT",
        "MARK",
        "CONNMARK",
        "CONNSECMARK",
        "SECMARK",
        "TCPMSS",
        "TOS",
        "DSCP",
        "ECN",
        "TTL",
        "HL",
        "CLASSIFY",
        "CHECKSUM",
        "SET",
        "IDLETIMER",
        "LED",
        "RATEEST",
        "TEE",
        "HMARK",
        "TCPOPTSTRIP",
        "NETLOG",
    }
)
#: Matches that are evaluated; every other ``-m`` module is opaque.
_EVALUATED = frozenset(
    {
        "tcp",
        "udp",
        "sctp",
        "dccp",
        "udplite",
        "multiport",
        "state",
        "conntrack",
        "iprange",
        "set",
        "addrtype",
        "pkttype",
        "icmp",
        "icmp6",
        "icmpv6",
        "comment",
        "rpfilter",
    }
)
_TOP_LONG = {
    "--source": "-s",
    "--src": "-s",
    "--destination": "-d",
    "--dst": "-d",
    "--protocol": "-p",
    "--in-interface": "-i",
    "--out-interface": "-o",
    "--match": "-m",
    "--jump": "-j",
    "--goto": "-g",
    "--fragment": "-f",
}
_TOP = frozenset({"-s", "-d", "-p", "-i", "-o", "-m", "-j", "-g", "-f", *_TOP_LONG})
#: Options the protocol matches accept without ``-m`` (``-p tcp --dport 22``).
_IMPLICIT = {
    "--dport": "tcp",
    "--destination-port": "tcp",
    "--sport": "tcp",
    "--source-port": "tcp",
    "--tcp-flags": "tcp",
    "--syn": "tcp",
    "--tcp-option": "tcp",
    "--icmp-type": "icmp",
    "--icmpv6-type": "icmp6",
}
_ARITY = {
    "--tcp-flags": 2,
    "--syn": 0,
    "--comment": 1,
    "--log-prefix": 1,
    "--set": 0,
    "--rsource": 0,
    "--rdest": 0,
    "--update": 0,
    "--rcheck": 0,
    "--remove": 0,
}
_PORT_OPTIONS = {
    "--dport": "dport",
    "--destination-port": "dport",
    "--sport": "sport",
    "--source-port": "sport",
}


@dataclass
class _RawRule:
    chain: str
    line: int
    text: str
    tokens: list[str]
    insert_at: int | None = None


@dataclass
class _Table:
    name: str
    line: int
    chains: dict[str, int] = field(default_factory=dict)
    policies: dict[str, str] = field(default_factory=dict)
    rules: list[_RawRule] = field(default_factory=list)


def parse_iptables(
    text: str, file: str, *, ipsets: IpsetDb | None = None, family: int | None = None
) -> Ruleset:
    """Parse an ``iptables-save`` (or ``ip6tables-save``) text.

    Raises UserError when the text is not such a file at all; anything smaller that
    cannot be read becomes a ``Problem`` with its line, and the rule an opaque one.
    """
    if family is None:
        family = _guess_family(text)
    tables = _read_tables(text, file)
    problems: list[Problem] = []
    chains: dict[str, Chain] = {}
    bases: list[BaseChain] = []
    uid = 0
    order = 0
    parser = _RuleParser(file, family, ipsets, problems, _name_sets(text))
    for table in tables.values():
        builtins = BUILTINS.get(table.name)
        if builtins is None:
            problems.append(
                Problem(
                    file, table.line, _("unknown table {name!r} ignored").format(name=table.name)
                )
            )
            continue
        for raw in table.rules:  # built-in chains exist without a declaration
            if raw.chain in builtins:
                table.chains.setdefault(raw.chain, table.line)
        ordered: dict[str, list[_RawRule]] = {name: [] for name in table.chains}
        for raw in table.rules:
            if raw.chain not in ordered:
                raise UserError(
                    _("rule for chain {chain!r}, which table {table} does not declare").format(
                        chain=raw.chain, table=table.name
                    ),
                    file=file,
                    line=raw.line,
                    hint=_("add ':{chain} - [0:0]' or '-N {chain}'").format(chain=raw.chain),
                )
            bucket = ordered[raw.chain]
            if raw.insert_at is None:
                bucket.append(raw)
            else:
                bucket.insert(max(0, min(len(bucket), raw.insert_at - 1)), raw)
        for name, raws in ordered.items():
            rules: list[Rule] = []
            for position, raw in enumerate(raws, start=1):
                origin = Origin(file, raw.line, raw.text, table.name, name, position)
                for match, action in parser.parse(raw, table):
                    rules.append(Rule(uid, match, action, origin))
                    uid += 1
            key = f"{table.name}/{name}"
            chains[key] = Chain(key, table.name, name, tuple(rules), table.chains[name])
            if name in builtins:
                hook, priority, kind = builtins[name]
                policy = table.policies.get(name, "ACCEPT")
                bases.append(
                    BaseChain(
                        key,
                        hook,
                        priority,
                        kind,
                        "drop" if policy == "DROP" else "accept",
                        frozenset({family}),
                        order,
                        table.chains[name],
                    )
                )
                order += 1
    dialect: Dialect = "ip6tables" if family == 6 else "iptables"
    return Ruleset(
        dialect,
        file,
        chains,
        tuple(bases),
        frozenset({family}),
        tuple(problems),
        sets_file=ipsets.file if ipsets else None,
    )


_HEADER_TOOL = re.compile(r"\b(ip6?)tables(?:-save|-restore|-legacy-save|-nft-save)\b")


def _name_sets(text: str) -> dict[str, tuple[str, ...]]:
    """The name sets the file's comments list (``namesets.listing``): set -> names."""
    found: dict[str, tuple[str, ...]] = {}
    for line in text[:65536].splitlines():
        if line.startswith("#"):
            listed = namesets.names_from_listing(line)
            if listed is not None:
                found[listed[0]] = listed[1]
    return found


def _guess_family(text: str) -> int:
    """The family a comment of the file's head names (``# Generated by ip6tables-save``,
    ``# flowmatrix: ip6tables-restore rules``), else that of the first address."""
    for line in text[:8192].splitlines():
        if not line.lstrip().startswith("#"):
            continue
        tool = _HEADER_TOOL.search(line)
        if tool is not None:
            return 6 if tool.group(1) == "ip6" else 4
    for line in text.splitlines():
        if line.startswith("-A "):
            words = line.split()
            for flag, value in itertools.pairwise(words):
                if flag in ("-s", "-d"):
                    return 6 if ":" in value else 4
    return 4


def _tokens(line: str, file: str, number: int) -> list[str]:
    if '"' not in line and "'" not in line and "\\" not in line:
        return line.split()
    try:
        return shlex.split(line, posix=True)
    except ValueError as exc:
        raise UserError(
            _("unreadable line: {error}").format(error=exc), file=file, line=number
        ) from None


def _read_tables(text: str, file: str) -> dict[str, _Table]:
    tables: dict[str, _Table] = {}
    current: _Table | None = None
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("*"):
            name = line[1:].strip()
            current = tables.setdefault(name, _Table(name, number))
            continue
        if line == "COMMIT":
            current = None
            continue
        if current is None:
            raise UserError(
                _("{line!r} outside a table").format(line=line[:40]),
                file=file,
                line=number,
                hint=_("an iptables-save file starts each table with '*filter' (or *nat, ...)"),
            )
        if line.startswith("["):
            closing = line.find("]")
            line = line[closing + 1 :].strip() if closing > 0 else line
        if line.startswith(":"):
            words = line[1:].split()
            if not words:
                raise UserError(_("chain declaration without a name"), file=file, line=number)
            current.chains.setdefault(words[0], number)
            if len(words) > 1 and words[1] != "-":
                current.policies[words[0]] = words[1]
            continue
        words = _tokens(line, file, number)
        if not words:
            raise UserError(
                _("unreadable line {line!r}").format(line=line[:40]), file=file, line=number
            )
        command = words[0]
        if command in ("-N", "--new-chain") and len(words) == 2:
            current.chains.setdefault(words[1], number)
        elif command in ("-P", "--policy") and len(words) == 3:
            current.chains.setdefault(words[1], number)
            current.policies[words[1]] = words[2]
        elif command in ("-A", "--append") and len(words) >= 2:
            current.rules.append(_RawRule(words[1], number, line, words[2:]))
        elif command in ("-I", "--insert") and len(words) >= 2:
            rest = words[2:]
            at = 1
            if rest and rest[0].isdigit():
                at = int(rest[0])
                rest = rest[1:]
            current.rules.append(_RawRule(words[1], number, line, rest, insert_at=at))
        else:
            raise UserError(
                _("unexpected command {command!r}").format(command=command),
                file=file,
                line=number,
                hint=_("expected iptables-save output: '-A CHAIN ...', ':CHAIN POLICY', COMMIT"),
            )
    if not tables:
        raise UserError(
            _("no table found: not an iptables-save file"),
            file=file,
            hint=_("give the output of 'iptables-save' or 'ip6tables-save'"),
        )
    return tables


class _RuleParser:
    def __init__(
        self,
        file: str,
        family: int,
        ipsets: IpsetDb | None,
        problems: list[Problem],
        name_sets: dict[str, tuple[str, ...]],
    ) -> None:
        self.file = file
        self.family = family
        self.ipsets = ipsets
        self.problems = problems
        self.name_sets = name_sets
        """Sets that stand for DNS names (``namesets``), as the file's comments list them:
        judged through those names, whatever the ipset holds."""

    def problem(self, raw: _RawRule, message: str) -> None:
        self.problems.append(Problem(self.file, raw.line, message))

    def parse(self, raw: _RawRule, table: _Table) -> list[tuple[Match, Action]]:
        builder = MatchBuilder()
        action = Action("continue", text="")
        tokens = raw.tokens
        module: str | None = None
        protocol: str | None = None
        i = 0
        while i < len(tokens):
            negated = False
            token = tokens[i]
            if token == "!":
                negated = True
                i += 1
                if i >= len(tokens):
                    self.problem(raw, _("'!' at the end of the rule"))
                    break
                token = tokens[i]
            option = _TOP_LONG.get(token, token)
            args, i = self._args(tokens, i + 1, option)
            if args and args[0] == "!":  # old syntax: --dport ! 22
                negated = not negated
                args = args[1:]
            try:
                if option == "-j" or option == "-g":
                    action, i = self._target(raw, table, option, tokens, i, args)
                    continue
                if option == "-m":
                    module = args[0] if args else None
                    if module == "rpfilter":
                        builder.values.setdefault("rpfilter", True)
                    if module is not None and module not in _EVALUATED:
                        opaque, i = self._opaque_module(tokens, i, module)
                        builder.unknown(opaque)
                        module = None
                    continue
                if option == "-p":
                    protocol = self._protocol(builder, args, negated)
                    continue
                self._option(builder, raw, option, args, negated, module, protocol)
            except (ValueError, IndexError, KeyError) as exc:
                written = " ".join([token, *args])
                self.problem(
                    raw, _("cannot read {text!r}: {error}").format(text=written, error=exc)
                )
                builder.unknown(_("unreadable: {text}").format(text=written))
        return [(match, action) for match in builder.build()]

    @staticmethod
    def _args(tokens: list[str], i: int, option: str) -> tuple[list[str], int]:
        """The arguments of an option: its fixed arity, or every token up to the next option."""
        arity = _ARITY.get(option)
        if arity is not None:
            return tokens[i : i + arity], i + arity
        start = i
        while i < len(tokens):
            token = tokens[i]
            if token == "!" and i == start:
                i += 1
                continue
            if token == "!" or (
                token.startswith("-") and len(token) > 1 and not token[1].isdigit()
            ):
                break
            i += 1
        return tokens[start:i], i

    def _opaque_module(self, tokens: list[str], i: int, module: str) -> tuple[str, int]:
        """Consume a module the tool does not evaluate; return its text."""
        parts = [f"-m {module}"]
        while i < len(tokens):
            token = tokens[i]
            probe = tokens[i + 1] if token == "!" and i + 1 < len(tokens) else token
            if probe in _TOP or probe in _IMPLICIT:
                break
            parts.append(shlex.quote(token) if " " in token else token)
            i += 1
        return " ".join(parts), i

    def _protocol(self, builder: MatchBuilder, args: list[str], negated: bool) -> str | None:
        name = args[0].lower()
        if name in ("all", "0"):
            if negated:
                builder.impossible("'! -p all' matches nothing")
            return None
        number = int(name) if name.isdigit() else PROTO_NUMBERS[name]
        builder.protos(frozenset({number}), negated, f"-p {name}")
        if negated:
            return None
        return {
            6: "tcp",
            17: "udp",
            132: "sctp",
            33: "dccp",
            136: "udplite",
            1: "icmp",
            58: "icmp6",
        }.get(number, name)

    def _option(
        self,
        builder: MatchBuilder,
        raw: _RawRule,
        option: str,
        args: list[str],
        negated: bool,
        module: str | None,
        protocol: str | None,
    ) -> None:
        family = self.family
        if option in ("-s", "-d"):
            side = "src" if option == "-s" else "dst"
            ivs = _addresses(args[0], family)
            builder.addresses(side, family, ivs, negated, f"{option} {args[0]}")
        elif option in ("-i", "-o"):
            side = "iif" if option == "-i" else "oif"
            builder.iface(side, IfaceMatch.of([args[0]], negated=negated))
        elif option == "-f":
            if not negated:
                builder.impossible("-f matches only second and later fragments")
        elif option in _PORT_OPTIONS:
            if protocol not in ("tcp", "udp", "sctp", "dccp", "udplite"):
                raise ValueError(
                    _("{option} needs -p tcp, udp, sctp or dccp").format(option=option)
                )
            builder.ports(_PORT_OPTIONS[option], _port_range(args[0], protocol), negated, option)
        elif option in ("--tcp-flags", "--syn"):
            if option == "--syn":
                mask, value = 0x17, 0x02
            else:
                mask = _flags(args[0])
                value = _flags(args[1])
            builder.tcp_flags(mask, value, negated)
        elif option == "--tcp-option":
            builder.unknown(f"{'! ' if negated else ''}--tcp-option {' '.join(args)}")
        elif option in ("--dports", "--destination-ports", "--sports", "--source-ports", "--ports"):
            proto = protocol or "tcp"
            ivs = ranges.normalize(
                iv for part in args[0].split(",") for iv in _port_range(part, proto)
            )
            if option == "--ports":
                if negated:
                    # neither port in the list: both sides outside it
                    builder.ports("sport", ivs, True, option)
                    builder.ports("dport", ivs, True, option)
                else:
                    outside = ranges.complement(ivs, 65535)
                    builder.alternative([{"dport": ivs}, {"dport": outside, "sport": ivs}])
            else:
                side = "dport" if option.startswith(("--dports", "--destination")) else "sport"
                builder.ports(side, ivs, negated, option)
        elif option in ("--state", "--ctstate"):
            self._states(builder, raw, option, args[0], negated)
        elif option == "--ctproto":
            name = args[0].lower()
            number = int(name) if name.isdigit() else PROTO_NUMBERS[name]
            builder.protos(frozenset({number}), negated, "--ctproto")
        elif option in _CT_ADDRESS:
            side = _CT_ADDRESS[option]
            builder.addresses(side, family, _addresses(args[0], family), negated, option)
        elif option in _CT_PORT:
            side = _CT_PORT[option]
            low, _sep, high = args[0].partition(":")
            builder.ports(side, ((int(low), int(high or low)),), negated, option)
        elif option == "--ctdir":
            way = args[0].lower()
            if way not in ("original", "reply"):
                raise ValueError(_("--ctdir is ORIGINAL or REPLY"))
            if negated:
                way = "reply" if way == "original" else "original"
            builder.direction(way, option)
        elif option in ("--ctstatus", "--ctexpire"):
            builder.unknown(f"-m conntrack {'! ' if negated else ''}{option} {' '.join(args)}")
        elif option in ("--src-range", "--dst-range"):
            side = "src" if option == "--src-range" else "dst"
            fam, interval = ranges.parse_range(args[0])
            builder.addresses(side, fam, (interval,), negated, option)
        elif option == "--match-set":
            self._match_set(builder, args, negated)
        elif option in (
            "--return-nomatch",
            "--update-counters",
            "--update-subcounters",
            "--packets-eq",
            "--packets-lt",
            "--packets-gt",
            "--bytes-eq",
            "--bytes-lt",
            "--bytes-gt",
        ):
            if option.startswith(("--packets", "--bytes")):
                builder.unknown(f"-m set {option} {' '.join(args)}")
        elif option in ("--src-type", "--dst-type"):
            self._addrtype(builder, option, args[0], negated)
        elif option in ("--limit-iface-in", "--limit-iface-out"):
            pass
        elif option == "--pkt-type":
            self._pkttype(builder, args[0].lower(), negated)
        elif option in ("--icmp-type", "--icmpv6-type"):
            number = 58 if option == "--icmpv6-type" or protocol == "icmp6" else 1
            builder.protos(frozenset({number}), False, option)
            # the type itself is not evaluated (flows are TCP or UDP)
            builder.unknown(f"{'! ' if negated else ''}{option} {' '.join(args)}")
        elif option == "--comment":
            pass
        elif (
            option in ("--invert", "--loose", "--validmark", "--accept-local")
            and module == "rpfilter"
        ):
            if option == "--invert":
                builder.values["rpfilter"] = False
            elif option == "--validmark":
                builder.unknown("-m rpfilter --validmark")
        elif option.startswith("-"):
            self.problem(raw, _("option {option} not understood").format(option=option))
            builder.unknown(f"{'! ' if negated else ''}{option} {' '.join(args)}".strip())
        else:
            raise ValueError(_("unexpected {option!r}").format(option=option))

    def _states(
        self, builder: MatchBuilder, raw: _RawRule, option: str, text: str, negated: bool
    ) -> None:
        names = {part.strip().lower() for part in text.split(",")}
        nat = names & {"snat", "dnat"}
        if nat:
            builder.unknown(f"{option} {text}")
            names -= nat
            if not names:
                return
        unknown = names - {"new", "established", "related", "invalid", "untracked"}
        if unknown:
            raise ValueError(
                _("unknown state(s) {states}").format(states=", ".join(sorted(unknown)))
            )
        if nat and not negated:
            # SNAT/DNAT widen the set: the rule may also match NATed packets in other states
            return
        builder.states(frozenset(names), negated, f"{option} {text}")

    def _match_set(self, builder: MatchBuilder, args: list[str], negated: bool) -> None:
        name, flags = args[0], args[1].split(",") if len(args) > 1 else ["src"]
        text = f"-m set {'! ' if negated else ''}--match-set {name} {','.join(flags)}"
        names = self.name_sets.get(name) if namesets.is_name_set(name) else None
        if names is not None and flags in (["src"], ["dst"]):
            if negated:
                builder.unknown(
                    _("DNS: {text} (the addresses of {names})").format(
                        text=text, names=", ".join(names)
                    )
                )
            else:
                builder.family(4 if name.endswith("_v4") else 6, text)
                builder.names(f"{flags[0]}_names", names, text)
            return
        if self.ipsets is None:
            builder.unknown(
                _("{text} (contents unknown: give the 'ipset save' file)").format(text=text)
            )
            return
        found = self.ipsets.alternatives(name, flags)
        if isinstance(found, str):
            builder.unknown(f"{text} ({found})")
            return
        if not negated:
            builder.alternative(found)
            return
        if (
            len(found) == 1
            and set(found[0]) <= {"family", "src", "dst", "sport", "dport"}
            and len(set(found[0]) - {"family"}) == 1
        ):
            (side,) = set(found[0]) - {"family"}
            ivs = found[0][side]
            if side in ("src", "dst"):
                builder.addresses(side, found[0]["family"], ivs, True, text)
            else:
                builder.ports(side, ivs, True, text)
            return
        builder.unknown(_("{text} (negated multi-field set)").format(text=text))

    def _addrtype(self, builder: MatchBuilder, option: str, text: str, negated: bool) -> None:
        types = {t.upper() for t in text.split(",")}
        side = "src" if option == "--src-type" else "dst"
        if types == {"LOCAL"}:
            builder.boolean(f"local_{side}", not negated, option)
        elif types == {"MULTICAST"}:
            ivs = _MULTICAST[self.family]
            builder.addresses(side, self.family, ivs, negated, option)
        else:
            builder.unknown(f"-m addrtype {'! ' if negated else ''}{option} {text}")

    def _pkttype(self, builder: MatchBuilder, kind: str, negated: bool) -> None:
        multicast = _MULTICAST[self.family]
        if kind == "multicast":
            builder.addresses("dst", self.family, multicast, negated, "--pkt-type multicast")
        elif kind == "broadcast" and self.family == 4:
            builder.addresses(
                "dst",
                4,
                ((ranges.ADDR_MAX[4], ranges.ADDR_MAX[4]),),
                negated,
                "--pkt-type broadcast",
            )
        elif kind == "unicast":
            special = (
                multicast
                if self.family == 6
                else ranges.union(multicast, ((ranges.ADDR_MAX[4], ranges.ADDR_MAX[4]),))
            )
            builder.addresses("dst", self.family, special, not negated, "--pkt-type unicast")
        else:
            builder.unknown(f"-m pkttype {'! ' if negated else ''}--pkt-type {kind}")

    def _target(
        self,
        raw: _RawRule,
        table: _Table,
        option: str,
        tokens: list[str],
        i: int,
        args: list[str],
    ) -> tuple[Action, int]:
        if not args:
            raise ValueError(_("{option} without a target").format(option=option))
        name = args[0]
        extra = args[1:]
        # target options run to the end of the rule or up to the next match option
        while i < len(tokens) and tokens[i] not in _TOP:
            extra.append(tokens[i])
            i += 1
        text = " ".join([option, name, *extra])
        if name in table.chains and name not in BUILTINS.get(table.name, {}):
            kind: ActionKind = "goto" if option == "-g" else "jump"
            return Action(kind, f"{table.name}/{name}", text), i
        if option == "-g":
            raise ValueError(_("goto to unknown chain {name!r}").format(name=name))
        if name == "CT":
            return Action("notrack" if "--notrack" in extra else "continue", text=text), i
        if name in _TERMINAL:
            return Action(_TERMINAL[name], name, text), i
        if name in _NON_TERMINAL:
            return Action("continue", name, text), i
        self.problem(
            raw, _("target {name} not understood: its verdict is unknown").format(name=name)
        )
        return Action("unknown", name, text), i


_CT_ADDRESS = {
    "--ctorigsrc": "orig_src",
    "--ctorigdst": "orig_dst",
    "--ctreplsrc": "orig_dst",
    "--ctrepldst": "orig_src",
}
_CT_PORT = {
    "--ctorigsrcport": "orig_sport",
    "--ctorigdstport": "orig_dport",
    "--ctreplsrcport": "orig_dport",
    "--ctrepldstport": "orig_sport",
}
_MULTICAST: dict[int, Ivs] = {
    4: (ranges.parse_prefix("224.0.0.0/4")[1],),
    6: (ranges.parse_prefix("ff00::/8")[1],),
}


def _addresses(text: str, family: int) -> Ivs:
    intervals = []
    for part in text.split(","):
        fam, interval = ranges.parse_prefix(part)
        if fam != family:
            raise ValueError(
                _("{address} is not an IPv{family} address").format(address=part, family=family)
            )
        intervals.append(interval)
    return ranges.normalize(intervals)


def _port(text: str, protocol: str) -> int:
    if text.isdigit():
        value = int(text)
        if value > 65535:
            raise ValueError(_("port {port} out of range").format(port=value))
        return value
    try:
        return socket.getservbyname(text, protocol if protocol in ("tcp", "udp") else "tcp")
    except OSError:
        raise ValueError(_("unknown service name {name!r}").format(name=text)) from None


def _port_range(text: str, protocol: str | None) -> Ivs:
    proto = protocol or "tcp"
    if ":" in text:
        low_text, high_text = text.split(":", 1)
        low = _port(low_text, proto) if low_text else 0
        high = _port(high_text, proto) if high_text else 65535
        if low > high:
            low, high = high, low  # iptables swaps an inverted range
        return ((low, high),)
    value = _port(text, proto)
    return ((value, value),)


def _flags(text: str) -> int:
    value = 0
    for name in text.lower().split(","):
        value |= TCP_FLAGS[name]
    return value
