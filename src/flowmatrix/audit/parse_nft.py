"""nftables rulesets (``nft -j list ruleset``, or text read by ``nft_text``) into the IR.

Chains are keyed ``<family> <table>/<chain>``; chains with a hook become base chains
with their priority. Verdict maps and concatenated sets become several IR rules (one
per element, exact because elements do not overlap). Statements that only observe or
mark (counter, log, meta mark set) do not change the verdict; ``limit`` and ``quota``
are conditions the tool cannot evaluate.

Size: one converter, one function per nftables expression kind, all filling the rule
being built; the expression kinds are many, each function is short.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from typing import Any

from flowmatrix import namesets
from flowmatrix.audit import ranges
from flowmatrix.audit.ir import (
    PORT_PROTOCOLS,
    PROTO_NUMBERS,
    TCP_FLAGS,
    Action,
    ActionKind,
    BaseChain,
    Chain,
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
from flowmatrix.inputfile import parse_json

_FAMILIES = {"ip": frozenset({4}), "ip6": frozenset({6}), "inet": frozenset({4, 6})}
_PORT_PROTO = {"tcp": 6, "udp": 17, "udplite": 136, "sctp": 132, "dccp": 33}
_NAT = {"snat", "dnat", "masquerade", "redirect", "tproxy"}
_OBSERVE = {
    "counter",
    "log",
    "mangle",
    "meta",
    "ct",
    "set",
    "map",
    "dup",
    "fwd",
    "synproxy",
    "flow",
    "ct helper",
    "ct timeout",
    "ct expectation",
    "secmark",
    "tunnel",
    "xt-target-continue",
}
_XT_NON_TERMINAL = {
    "LOG",
    "NFLOG",
    "ULOG",
    "MARK",
    "CONNMARK",
    "TCPMSS",
    "TRACE",
    "CLASSIFY",
    "DSCP",
    "TOS",
    "TTL",
    "HL",
    "CHECKSUM",
    "SET",
    "AUDIT",
    "CT",
}
_XT_TERMINAL: dict[str, ActionKind] = {
    "ACCEPT": "accept",
    "DROP": "drop",
    "REJECT": "reject",
    "RETURN": "return",
    "DNAT": "nat",
    "SNAT": "nat",
    "MASQUERADE": "nat",
    "REDIRECT": "nat",
}


@dataclass
class _Source:
    """Where rules come from when read from text (lines, texts, handles)."""

    lines: dict[str, list[tuple[int | None, str, int | None]]] = field(default_factory=dict)


@dataclass
class _Context:
    file: str
    sets: dict[tuple[str, str, str], dict[str, Any]]
    problems: list[Problem]
    line: int | None = None


def parse_nft_json(text: str, file: str) -> Ruleset:
    """A ruleset from ``nft -j list ruleset`` output."""
    document = parse_json(text, file, hint=_("give the output of 'nft -j list ruleset'"))
    objects = document.get("nftables") if isinstance(document, dict) else None
    if not isinstance(objects, list):
        raise UserError(
            _("no 'nftables' list in the JSON document"),
            file=file,
            hint=_("give the output of 'nft -j list ruleset'"),
        )
    try:
        return build_ruleset(objects, file, handles_real=True)
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
        # valid JSON of another shape than nft writes (a number where an object goes...)
        raise UserError(
            _("unexpected content in the nftables JSON: {kind}: {error}").format(
                kind=type(exc).__name__, error=exc
            ),
            file=file,
            hint=_("give the unedited output of 'nft -j list ruleset'"),
        ) from None


def build_ruleset(
    objects: list[dict[str, Any]],
    file: str,
    *,
    handles_real: bool,
    text_rules: dict[str, list[tuple[int | None, str, int | None]]] | None = None,
    chain_lines: dict[str, int] | None = None,
    problems: list[Problem] | None = None,
    notes: tuple[str, ...] = (),
) -> Ruleset:
    """The IR from objects in the ``nft -j`` shape.

    ``text_rules`` gives, per chain key, the line, text and handle of each rule when the
    objects come from the kernel but the user gave text (rules are matched by order).
    """
    found_problems = list(problems or [])
    sets: dict[tuple[str, str, str], dict[str, Any]] = {}
    declared: dict[str, dict[str, Any]] = {}
    rules_by_chain: dict[str, list[dict[str, Any]]] = {}
    for item in objects:
        if not isinstance(item, dict) or len(item) != 1:
            continue
        kind, body = next(iter(item.items()))
        if kind in ("set", "map"):
            sets[(body["family"], body["table"], body["name"])] = body
        elif kind == "chain":
            key = _chain_key(body["family"], body["table"], body["name"])
            previous = declared.get(key)
            if previous is None or "hook" in body:
                declared[key] = {**(previous or {}), **body}
            rules_by_chain.setdefault(key, [])
        elif kind == "rule":
            key = _chain_key(body["family"], body["table"], body["chain"])
            if key not in declared:
                raise UserError(
                    _("rule for chain {chain!r}, which is not declared").format(
                        chain=body["chain"]
                    ),
                    file=file,
                    line=body.get("line"),
                    hint=_("declare the chain before its rules"),
                )
            if body.get("insert"):
                rules_by_chain[key].insert(0, body)
            else:
                rules_by_chain[key].append(body)
    chains: dict[str, Chain] = {}
    bases: list[BaseChain] = []
    uid = 0
    families: set[int] = set()
    ctx = _Context(file, sets, found_problems)
    for order, (key, body) in enumerate(declared.items()):
        if chain_lines and key in chain_lines:
            body = {**body, "line": chain_lines[key]}
        family_name = body["family"]
        table = f"{family_name} {body['table']}"
        texts = (text_rules or {}).get(key)
        raw_rules = rules_by_chain.get(key, [])
        if texts is not None and len(texts) != len(raw_rules):
            found_problems.append(
                Problem(
                    file,
                    body.get("line"),
                    _("chain {chain}: rule count differs from the text; lines not shown").format(
                        chain=body["name"]
                    ),
                )
            )
            texts = None
        rules: list[Rule] = []
        for position, raw in enumerate(raw_rules, start=1):
            line, text, handle = raw.get("line"), raw.get("text"), raw.get("handle")
            if texts is not None:
                line, text, handle = texts[position - 1]
            if not handles_real:
                handle = None
            ctx.line = line
            origin = Origin(
                file,
                line,
                text or _render(raw.get("expr", [])),
                table,
                body["name"],
                position,
                handle,
            )
            try:
                pairs = _rule(raw, family_name, body["table"], ctx)
            except (KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
                # a shape this reader does not know: the rule's verdict is unknown
                found_problems.append(
                    Problem(file, line, _("rule not read: {error!r}").format(error=exc))
                )
                pairs = [
                    (
                        Match(opaque=(_("not read: {text}").format(text=origin.text),)),
                        Action("unknown", "unread", _("not read")),
                    )
                ]
            for match, action in pairs:
                rules.append(Rule(uid, match, action, origin))
                uid += 1
        chains[key] = Chain(key, table, body["name"], tuple(rules), body.get("line"))
        fams = _FAMILIES.get(family_name)
        if "hook" in body:
            if fams is None:
                found_problems.append(
                    Problem(
                        file,
                        body.get("line"),
                        _("{family} chain {chain}: not on the IP path, ignored").format(
                            family=family_name, chain=body["name"]
                        ),
                    )
                )
                continue
            families |= fams
            hook = body["hook"]
            if hook not in ("prerouting", "input", "forward", "output", "postrouting"):
                found_problems.append(
                    Problem(
                        file,
                        body.get("line"),
                        _("hook {hook} of chain {chain} ignored").format(
                            hook=hook, chain=body["name"]
                        ),
                    )
                )
                continue
            bases.append(
                BaseChain(
                    key,
                    hook,
                    int(body.get("prio", 0)),
                    body.get("type", "filter")
                    if body.get("type") in ("filter", "nat", "route")
                    else "filter",
                    "drop" if body.get("policy") == "drop" else "accept",
                    fams,
                    order,
                    body.get("line"),
                )
            )
    for chain in chains.values():
        for rule in chain.rules:
            if rule.action.kind in ("jump", "goto") and rule.action.target not in chains:
                raise UserError(
                    _("jump to unknown chain {chain!r}").format(chain=rule.action.target),
                    file=file,
                    line=rule.origin.line,
                )
    return Ruleset(
        "nftables",
        file,
        chains,
        tuple(bases),
        frozenset(families or {4, 6}),
        tuple(found_problems),
        nft_handles=handles_real,
        notes=notes,
    )


def _chain_key(family: str, table: str, name: str) -> str:
    return f"{family} {table}/{name}"


# -- one rule -------------------------------------------------------------------------------


def _rule(
    raw: dict[str, Any], family: str, table: str, ctx: _Context
) -> list[tuple[Match, Action]]:
    builder = MatchBuilder()
    if family == "ip":
        builder.family(4, "table family ip")
    elif family == "ip6":
        builder.family(6, "table family ip6")
    action = Action("continue")
    vmaps: list[tuple[Any, Any]] = []
    for expr in raw.get("expr", []):
        if not isinstance(expr, dict) or len(expr) != 1:
            builder.unknown(_("unreadable expression {text}").format(text=json.dumps(expr)[:60]))
            continue
        kind, body = next(iter(expr.items()))
        try:
            if kind == "match":
                _match(builder, body, family, table, ctx)
            elif kind in ("accept", "drop", "return", "continue", "queue", "reject"):
                mapped = {"continue": "continue"}.get(kind, kind)
                action = Action(mapped, kind, kind)  # type: ignore[arg-type]
            elif kind in ("jump", "goto"):
                target = _chain_key(family, table, body["target"])
                action = Action(kind, target, f"{kind} {body['target']}")
            elif kind == "vmap":
                vmaps.append((body["key"], body["data"]))
            elif kind in _NAT:
                action = Action("nat", kind, _nat_text(kind, body))
            elif kind == "notrack":
                action = Action("notrack", "notrack", "notrack")
            elif kind in ("limit", "quota", "numgen", "socket", "osf", "fib", "rt", "exthdr"):
                builder.unknown(_opaque_text(kind, body))
            elif kind == "unparsed":
                unread = _("not read: {text}").format(text=body)
                builder.unknown(unread)
                ctx.problems.append(Problem(ctx.file, ctx.line, unread))
            elif kind == "xt":
                action = _xt(builder, body, action)
            elif kind in _OBSERVE:
                continue
            else:
                builder.unknown(_opaque_text(kind, body))
                ctx.problems.append(
                    Problem(
                        ctx.file,
                        ctx.line,
                        _("statement {kind} not understood").format(kind=kind),
                    )
                )
        except (KeyError, ValueError, TypeError, IndexError) as exc:
            text = json.dumps(expr)[:80]
            builder.unknown(_("not read: {text}").format(text=text))
            ctx.problems.append(
                Problem(
                    ctx.file,
                    ctx.line,
                    _("cannot read {text}: {error}").format(text=text, error=exc),
                )
            )
    if not vmaps:
        return [(match, action) for match in builder.build()]
    if len(vmaps) > 1:
        builder.unknown(_("several verdict maps in one rule"))
    key, data = vmaps[0]
    out: list[tuple[Match, Action]] = []
    for element, verdict in _map_elements(data, family, table, ctx):
        branch = MatchBuilder(
            dict(builder.values),
            [list(a) for a in builder.alternatives],
            list(builder.opaque),
            builder.never,
        )
        try:
            _constrain(branch, key, "==", element, family, table, ctx)
        except (KeyError, ValueError, TypeError) as exc:
            branch.unknown(_("verdict map key not read: {error}").format(error=exc))
        verdict_action = _verdict(verdict, family, table)
        out.extend((match, verdict_action) for match in branch.build())
    return out


def _verdict(verdict: Any, family: str, table: str) -> Action:
    kind, body = next(iter(verdict.items()))
    if kind in ("jump", "goto"):
        return Action(kind, _chain_key(family, table, body["target"]), f"{kind} {body['target']}")
    if kind in ("accept", "drop", "return", "continue", "queue", "reject"):
        return Action(kind, kind, kind)
    return Action("unknown", kind, kind)


def _map_elements(data: Any, family: str, table: str, ctx: _Context) -> list[tuple[Any, Any]]:
    if isinstance(data, str) and data.startswith("@"):
        found = ctx.sets.get((family, table, data[1:]))
        if found is None:
            raise UserError(
                _("verdict map {name} is not declared").format(name=data),
                file=ctx.file,
                line=ctx.line,
            )
        items = found.get("elem", [])
    else:
        items = data["set"]
    out = []
    for item in items:
        if isinstance(item, list) and len(item) == 2:
            out.append((item[0], item[1]))
        elif isinstance(item, dict) and "elem" in item:
            value = item["elem"]
            out.append((value["val"], value.get("data")))
    return out


def _xt(builder: MatchBuilder, body: dict[str, Any], action: Action) -> Action:
    name = str(body.get("name", "?"))
    if body.get("type") == "match":
        builder.unknown(_("xt match {name} (loaded through iptables-nft)").format(name=name))
        return action
    if name in _XT_NON_TERMINAL:
        return action
    if name in _XT_TERMINAL:
        return Action(_XT_TERMINAL[name], name, f"xt target {name}")
    return Action("unknown", name, f"xt target {name}")


def _opaque_text(kind: str, body: Any) -> str:
    if isinstance(body, dict) and "text" in body:
        return str(body["text"])
    if kind == "limit" and isinstance(body, dict):
        over = "over " if body.get("inv") else ""
        return f"limit rate {over}{body.get('rate')}/{body.get('per')}"
    return f"{kind} {json.dumps(body)[:60]}" if body else kind


# -- matches --------------------------------------------------------------------------------


def _match(
    builder: MatchBuilder, body: dict[str, Any], family: str, table: str, ctx: _Context
) -> None:
    _constrain(builder, body["left"], body.get("op", "=="), body["right"], family, table, ctx)


def _field(left: Any) -> tuple[str, str | None]:
    """(field kind, protocol) of a selector: ('src', 'ip'), ('dport', 'tcp'), ..."""
    if "payload" in left:
        payload = left["payload"]
        protocol = payload.get("protocol")
        name = payload.get("field")
        if protocol in ("ip", "ip6") and name in ("saddr", "daddr"):
            return ("src" if name == "saddr" else "dst"), protocol
        if protocol in ("ip", "ip6") and name in ("protocol", "nexthdr"):
            return "proto", protocol
        if protocol in (*_PORT_PROTO, "th") and name in ("sport", "dport"):
            return name, protocol
        if protocol == "tcp" and name == "flags":
            return "tcpflags", "tcp"
        if protocol in ("icmp", "icmpv6"):
            return "icmp", protocol
        return "opaque", None
    if "meta" in left:
        key = left["meta"]["key"]
        if key in ("iifname", "iif"):
            return "iif", None
        if key in ("oifname", "oif"):
            return "oif", None
        if key == "l4proto":
            return "proto", None
        if key in ("nfproto", "protocol"):
            return "nfproto", None
        return "opaque", None
    if "ct" in left:
        ct = left["ct"]
        key = ct["key"]
        direction = ct.get("dir")
        if key == "state":
            return "state", None
        if key == "direction":
            return "ctdir", None
        if (
            key in ("saddr", "daddr", "ip saddr", "ip daddr", "ip6 saddr", "ip6 daddr")
            and direction
        ):
            plain = key.split()[-1]
            return f"ct-{direction}-{plain}", ct.get("family")
        if key in ("proto-src", "proto-dst") and direction:
            return f"ct-{direction}-{key}", None
        if key == "l3proto":
            return "nfproto", None
        if key == "protocol":
            return "proto", None
        return "opaque", None
    return "opaque", None


def _describe_left(left: Any) -> str:
    if "payload" in left:
        return f"{left['payload'].get('protocol', '?')} {left['payload'].get('field', '?')}"
    if "meta" in left:
        return f"meta {left['meta']['key']}"
    if "ct" in left:
        return f"ct {left['ct'].get('dir', '') + ' ' if left['ct'].get('dir') else ''}{left['ct']['key']}"
    if "&" in left:
        return _describe_left(left["&"][0]) + " & ..."
    return json.dumps(left)[:40]


def _constrain(
    builder: MatchBuilder, left: Any, op: str, right: Any, family: str, table: str, ctx: _Context
) -> None:
    negated = op == "!="
    text = f"{_describe_left(left)} {op} {_render_value(right)}"
    if "concat" in left:
        _concat(builder, left["concat"], op, right, family, table, ctx, text)
        return
    if "&" in left:
        _masked(builder, left["&"], op, right, text)
        return
    kind, protocol = _field(left)
    if kind == "opaque":
        builder.unknown(text)
        return
    if op not in ("==", "!=", "in") and kind not in ("sport", "dport", "src", "dst"):
        builder.unknown(text)
        return
    if kind in ("src", "dst") and _name_set(builder, kind, protocol, op, right, family, table, ctx):
        return
    values = _values(right, family, table, ctx)
    if kind in ("src", "dst"):
        fam = 4 if protocol == "ip" else 6
        ivs = _address_ivs(values, fam)
        ivs = _compare(ivs, op, ranges.ADDR_MAX[fam])
        builder.addresses(kind, fam, ivs, negated, text)
    elif kind in ("sport", "dport"):
        if protocol == "th":
            builder.protos(frozenset(PORT_PROTOCOLS), False, text)
        else:
            builder.protos(frozenset({_PORT_PROTO[str(protocol)]}), False, text)
        ivs = _compare(_port_ivs(values, str(protocol)), op, 65535)
        builder.ports(kind, ivs, negated, text)
    elif kind == "proto":
        if protocol == "ip":
            builder.family(4, text)
        elif protocol == "ip6":
            builder.family(6, text)
        builder.protos(frozenset(_proto(v) for v in values), negated, text)
    elif kind == "nfproto":
        names = {str(v) for v in values}
        fams = {4 if n in ("ipv4", "ip", "2", "0x0800", "2048") else 6 for n in names}
        if negated:
            fams = {4, 6} - fams
        if len(fams) == 1:
            builder.family(fams.pop(), text)
        elif not fams:
            builder.impossible(text)
    elif kind in ("iif", "oif"):
        builder.iface(kind, IfaceMatch.of([str(v) for v in values], negated=negated, wildcard="*"))
    elif kind == "state":
        builder.states(frozenset(str(v) for v in values), negated, text)
    elif kind == "ctdir":
        value = str(values[0])
        if negated:
            value = "reply" if value == "original" else "original"
        builder.direction(value, text)
    elif kind.startswith("ct-"):
        _conntrack(builder, kind, protocol, values, op, negated, text)
    elif kind == "icmp":
        builder.protos(frozenset({1 if protocol == "icmp" else 58}), False, text)
        builder.unknown(text)
    elif kind == "tcpflags":
        _flags(builder, values, op, text)


def _conntrack(
    builder: MatchBuilder,
    kind: str,
    protocol: str | None,
    values: list[Any],
    op: str,
    negated: bool,
    text: str,
) -> None:
    _kind, direction, name = kind.split("-", 2)
    original = direction == "original"
    if name in ("saddr", "daddr"):
        fam = 6 if protocol == "ip6" else 4
        ivs = _compare(_address_ivs(values, fam), op, ranges.ADDR_MAX[fam])
        side = (
            ("orig_src" if name == "saddr" else "orig_dst")
            if original
            else ("orig_dst" if name == "saddr" else "orig_src")
        )
        builder.addresses(side, fam, ivs, negated, text)
    else:
        ivs = _compare(_port_ivs(values, "tcp"), op, 65535)
        side = (
            ("orig_sport" if name == "proto-src" else "orig_dport")
            if original
            else ("orig_dport" if name == "proto-src" else "orig_sport")
        )
        builder.ports(side, ivs, negated, text)


def _flags(builder: MatchBuilder, values: list[Any], op: str, text: str) -> None:
    value = _flag_bits(values)
    if op == "in":
        if bin(value).count("1") == 1:
            builder.tcp_flags(value, value, False)
        else:
            builder.unknown(text)
        return
    builder.tcp_flags(0xFF, value, op == "!=")


def _masked(builder: MatchBuilder, parts: list[Any], op: str, right: Any, text: str) -> None:
    left, mask = parts
    kind, _where = _field(left)
    if kind != "tcpflags" or op not in ("==", "!="):
        builder.unknown(text)
        return
    mask_bits = _flag_bits(mask if isinstance(mask, list) else [mask])
    value = _flag_bits(right if isinstance(right, list) else [right])
    builder.tcp_flags(mask_bits, value, op == "!=")


def _flag_bits(values: list[Any]) -> int:
    bits = 0
    for value in values:
        bits |= value if isinstance(value, int) else TCP_FLAGS[str(value)]
    return bits


def _concat(
    builder: MatchBuilder,
    items: list[Any],
    op: str,
    right: Any,
    family: str,
    table: str,
    ctx: _Context,
    text: str,
) -> None:
    kinds = [_field(item) for item in items]
    if op == "!=" or any(
        k not in ("src", "dst", "sport", "dport", "proto", "iif", "oif") for k, _value in kinds
    ):
        builder.unknown(text)
        return
    elements = _values(right, family, table, ctx)
    options: list[dict[str, Any]] = []
    for element in elements:
        parts = element["concat"] if isinstance(element, dict) and "concat" in element else None
        if parts is None or len(parts) != len(items):
            raise ValueError(
                _("element {element!r} does not fit {n} fields").format(
                    element=element, n=len(items)
                )
            )
        option: dict[str, Any] = {}
        for (kind, protocol), value in zip(kinds, parts, strict=True):
            if kind in ("src", "dst"):
                fam = 4 if protocol == "ip" else 6
                option["family"] = fam
                option[kind] = _address_ivs([value], fam)
            elif kind in ("sport", "dport"):
                option[kind] = _port_ivs([value], str(protocol))
                protos = (
                    frozenset(PORT_PROTOCOLS)
                    if protocol == "th"
                    else frozenset({_PORT_PROTO[str(protocol)]})
                )
                option["protos"] = option.get("protos", protos) & protos
            elif kind == "proto":
                option["protos"] = option.get("protos", frozenset(range(256))) & frozenset(
                    {_proto(value)}
                )
            else:
                option[kind] = IfaceMatch.of([str(value)], wildcard="*")
        options.append(option)
    builder.alternative(options)


def _name_set(
    builder: MatchBuilder,
    kind: str,
    protocol: str | None,
    op: str,
    right: Any,
    family: str,
    table: str,
    ctx: _Context,
) -> bool:
    """An address set that stands for DNS names (``namesets``: an ``fqdn_*`` set whose
    comment lists its names) is judged through those names, whatever it holds now (its
    elements are what the names resolved to when it was filled, and they expire)."""
    if not (isinstance(right, str) and right.startswith("@") and namesets.is_name_set(right[1:])):
        return False
    found = ctx.sets.get((family, table, right[1:]))
    names = namesets.names_from_comment(found.get("comment")) if found else None
    if not names:
        return False
    fam = 4 if protocol == "ip" else 6
    text = _("{condition} (the addresses of {names})").format(
        condition=f"{kind} {op} {right}", names=", ".join(names)
    )
    if op not in ("==", "in"):
        builder.unknown(f"DNS: {text}")
        return True
    builder.family(fam, text)
    builder.names(f"{kind}_names", names, text)
    return True


def _values(right: Any, family: str, table: str, ctx: _Context) -> list[Any]:
    """The right-hand side as a list of elements (named sets resolved)."""
    if isinstance(right, str) and right.startswith("@"):
        found = ctx.sets.get((family, table, right[1:]))
        if found is None:
            raise UserError(
                _("set {name} is not declared").format(name=right), file=ctx.file, line=ctx.line
            )
        items = found.get("elem", [])
        return [
            item["elem"]["val"] if isinstance(item, dict) and "elem" in item else item
            for item in items
        ]
    if isinstance(right, dict) and "set" in right:
        return [
            item["elem"]["val"] if isinstance(item, dict) and "elem" in item else item
            for item in right["set"]
        ]
    if isinstance(right, list):
        return right
    return [right]


def _address_ivs(values: list[Any], family: int) -> Ivs:
    out: list[tuple[int, int]] = []
    for value in values:
        if isinstance(value, dict) and "prefix" in value:
            prefix = value["prefix"]
            fam, interval = ranges.parse_prefix(f"{prefix['addr']}/{prefix['len']}")
        elif isinstance(value, dict) and "range" in value:
            low, high = value["range"]
            fam, interval = ranges.parse_range(f"{low}-{high}")
        else:
            fam, interval = ranges.parse_prefix(str(value))
        if fam != family:
            raise ValueError(
                _("{address} is not an IPv{family} address").format(address=value, family=family)
            )
        out.append(interval)
    return ranges.normalize(out)


def _port(value: Any, protocol: str) -> int:
    if isinstance(value, int):
        return value
    text = str(value)
    if text.isdigit():
        return int(text)
    try:
        return socket.getservbyname(text, protocol if protocol in ("tcp", "udp") else "tcp")
    except OSError:
        raise ValueError(_("unknown service name {name!r}").format(name=text)) from None


def _port_ivs(values: list[Any], protocol: str) -> Ivs:
    out: list[tuple[int, int]] = []
    for value in values:
        if isinstance(value, dict) and "range" in value:
            low, high = value["range"]
            out.append((_port(low, protocol), _port(high, protocol)))
        else:
            port = _port(value, protocol)
            out.append((port, port))
    return ranges.normalize(out)


def _compare(ivs: Ivs, op: str, maximum: int) -> Ivs:
    """``< 1024`` and friends as interval sets (a single value on the right)."""
    if op in ("==", "!=", "in"):
        return ivs
    value = ivs[0][0]
    bounds = {
        "<": (0, value - 1),
        "<=": (0, value),
        ">": (value + 1, maximum),
        ">=": (value, maximum),
    }[op]
    return ranges.normalize([bounds])


def _proto(value: Any) -> int:
    if isinstance(value, int):
        return value
    text = str(value)
    return int(text) if text.isdigit() else PROTO_NUMBERS[text]


# -- rule text for rulesets read from JSON ---------------------------------------------------


def _render_value(value: Any) -> str:
    if isinstance(value, dict):
        if "prefix" in value:
            return f"{value['prefix']['addr']}/{value['prefix']['len']}"
        if "range" in value:
            return f"{_render_value(value['range'][0])}-{_render_value(value['range'][1])}"
        if "set" in value:
            return "{ " + ", ".join(_render_value(v) for v in value["set"]) + " }"
        if "concat" in value:
            return " . ".join(_render_value(v) for v in value["concat"])
        return json.dumps(value)[:40]
    if isinstance(value, list):
        if len(value) == 2 and isinstance(value[1], dict):
            return f"{_render_value(value[0])} : {_render(value[1:])}"
        return ",".join(_render_value(v) for v in value)
    if (
        isinstance(value, str)
        and not value.startswith("@")
        and not value[:1].isdigit()
        and ":" not in value
        and value.isidentifier() is False
    ):
        return f'"{value}"'
    return str(value)


def _render(exprs: list[Any]) -> str:
    """A readable nft-like text for a rule read from JSON."""
    words: list[str] = []
    for expr in exprs:
        if not isinstance(expr, dict) or len(expr) != 1:
            continue
        kind, body = next(iter(expr.items()))
        if kind == "match":
            op = body.get("op", "==")
            shown = "" if op in ("==", "in") else f"{op} "
            left = body["left"]
            left_text = (
                " . ".join(_describe_left(x) for x in left["concat"])
                if isinstance(left, dict) and "concat" in left
                else _describe_left(left)
            )
            words.append(f"{left_text} {shown}{_render_value(body['right'])}")
        elif kind in ("jump", "goto"):
            words.append(f"{kind} {body['target']}")
        elif kind == "vmap":
            words.append(f"{_describe_left(body['key'])} vmap {_render_value(body['data'])}")
        elif kind in ("counter", "log") or body is None:
            words.append(kind)
        else:
            words.append(_opaque_text(kind, body))
    return " ".join(words)


def _nat_text(kind: str, body: Any) -> str:
    """``dnat to 172.30.10.10:8080``: the statement with its target when it is one
    address (and port); the bare keyword otherwise (a map, a range, masquerade)."""
    if not isinstance(body, dict):
        return kind
    addr, port = body.get("addr"), body.get("port")
    if not isinstance(addr, str):
        return kind
    return f"{kind} to {addr}" + (f":{port}" if isinstance(port, int) else "")
