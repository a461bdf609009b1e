"""``nft list ruleset`` text into the objects ``nft -j list ruleset`` prints.

The text is read into the same JSON shape the kernel gives (tables, chains, sets, maps,
rules with their expressions), so one converter (``parse_nft.py``) serves both, and each
object keeps its line. The common language is covered: tables, chains with type, hook,
priority and policy, named sets and maps (intervals, concatenations, verdict maps),
rules with payload, meta and ct matches, anonymous sets, verdicts, and the usual
statements. A rule part it cannot read becomes ``{"unparsed": text}``: the converter
makes it a condition that is not evaluated, never a silent guess.

Size: a grammar. The tokenizer and a reader for each statement of the nftables language
stay in one file, so that one file says what the text reader accepts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flowmatrix.errors import UserError
from flowmatrix.i18n import _

PRIORITY_NAMES = {
    "raw": -300,
    "mangle": -150,
    "dstnat": -100,
    "filter": 0,
    "security": 50,
    "srcnat": 100,
    "out": 100,
    "dstnat_bridge": -300,
}
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}();,]|!=|==|<=|>=|[<>&|^]|[^\s{}();,"]+')
_VERDICTS = {"accept", "drop", "return", "continue"}
_PAYLOAD = {
    "ip": {
        "saddr",
        "daddr",
        "protocol",
        "version",
        "hdrlength",
        "dscp",
        "ecn",
        "length",
        "id",
        "frag-off",
        "ttl",
        "checksum",
    },
    "ip6": {
        "saddr",
        "daddr",
        "nexthdr",
        "version",
        "dscp",
        "ecn",
        "flowlabel",
        "length",
        "hoplimit",
    },
    "tcp": {
        "sport",
        "dport",
        "flags",
        "sequence",
        "ackseq",
        "doff",
        "window",
        "checksum",
        "urgptr",
    },
    "udp": {"sport", "dport", "length", "checksum"},
    "udplite": {"sport", "dport", "checksum"},
    "sctp": {"sport", "dport", "vtag", "checksum"},
    "dccp": {"sport", "dport", "type"},
    "th": {"sport", "dport"},
    "icmp": {"type", "code", "checksum", "id", "sequence", "mtu", "gateway"},
    "icmpv6": {"type", "code", "checksum", "id", "sequence", "mtu", "max-delay"},
    "ether": {"saddr", "daddr", "type"},
    "vlan": {"id", "pcp", "cfi", "type"},
    "arp": {"htype", "ptype", "hlen", "plen", "operation", "saddr", "daddr"},
}
_META_BARE = {
    "iif",
    "oif",
    "iifname",
    "oifname",
    "iiftype",
    "oiftype",
    "mark",
    "skuid",
    "skgid",
    "rtclassid",
    "nfproto",
    "l4proto",
    "priority",
    "cpu",
    "iifgroup",
    "oifgroup",
    "cgroup",
    "pkttype",
}
_CT_KEYS = {
    "state",
    "direction",
    "status",
    "mark",
    "expiration",
    "helper",
    "l3proto",
    "protocol",
    "saddr",
    "daddr",
    "proto-src",
    "proto-dst",
    "label",
    "zone",
    "id",
    "count",
    "bytes",
    "packets",
    "avgpkt",
}
_OPS = {
    "==": "==",
    "!=": "!=",
    "eq": "==",
    "ne": "!=",
    "<": "<",
    ">": ">",
    "<=": "<=",
    ">=": ">=",
    "lt": "<",
    "gt": ">",
    "le": "<=",
    "ge": ">=",
}
_STOP = _VERDICTS | {
    "jump",
    "goto",
    "reject",
    "queue",
    "counter",
    "log",
    "limit",
    "comment",
    "notrack",
    "snat",
    "dnat",
    "masquerade",
    "redirect",
    "quota",
    "vmap",
    "meta",
    "ct",
    "ip",
    "ip6",
    "tcp",
    "udp",
    "th",
    "sctp",
    "dccp",
    "udplite",
    "icmp",
    "icmpv6",
    "iif",
    "oif",
    "iifname",
    "oifname",
    "mark",
    "ether",
    "vlan",
    "arp",
    "fib",
    "rt",
    "exthdr",
    "numgen",
    "jhash",
    "symhash",
    "osf",
    "socket",
    "tproxy",
    "synproxy",
    "flow",
    "add",
    "update",
    "delete",
    "dup",
    "fwd",
    "set",
    "reset",
    "l4proto",
    "nfproto",
    "ah",
    "esp",
    "comp",
    "hbh",
    "rt0",
    "frag",
    "dst",
    "mh",
    "skuid",
    "skgid",
    "tunnel",
    "xt",
}


@dataclass
class _Tok:
    text: str
    line: int


def tokenize(text: str) -> list[_Tok]:
    """Tokens with their line; comments dropped (``# handle N`` kept as ``#handle``)."""
    out: list[_Tok] = []
    for number, line in enumerate(text.splitlines(), start=1):
        code, comment = _split_comment(line)
        for match in _TOKEN.finditer(code):
            out.append(_Tok(match.group(0), number))
        handle = re.search(r"\bhandle (\d+)", comment or "")
        if handle:
            out.append(_Tok(f"#handle={handle.group(1)}", number))
        out.append(_Tok("\n", number))
    return out


def _split_comment(line: str) -> tuple[str, str | None]:
    quoted = False
    for index, char in enumerate(line):
        if char == '"' and (index == 0 or line[index - 1] != "\\"):
            quoted = not quoted
        elif char == "#" and not quoted:
            return line[:index], line[index:]
    return line, None


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1].replace('\\"', '"')
    return text


class NftTextParser:
    """Reads one file; ``objects`` is the ``nftables`` list of the JSON form."""

    def __init__(self, text: str, file: str) -> None:
        self.file = file
        self.defines: dict[str, str] = {}
        substituted = self._substitute(text)
        self.lines = substituted.splitlines()
        self.tokens = tokenize(substituted)
        self.pos = 0
        self.objects: list[dict[str, Any]] = []
        self.problems: list[tuple[int, str]] = []
        self.handles_seen = False

    # -- reading tokens --------------------------------------------------------------------

    def _substitute(self, text: str) -> str:
        lines = []
        for line in text.splitlines():
            found = re.match(r"\s*define\s+(\w+)\s*=\s*(.+?)\s*$", line)
            if found:
                self.defines[found.group(1)] = found.group(2)
                lines.append("")
                continue
            for _attempt in range(8):
                replaced = re.sub(
                    r"\$(\w+)", lambda m: self.defines.get(m.group(1), m.group(0)), line
                )
                if replaced == line:
                    break
                line = replaced
            lines.append(line)
        return "\n".join(lines)

    def peek(self, offset: int = 0) -> str | None:
        index = self.pos + offset
        return self.tokens[index].text if index < len(self.tokens) else None

    def source_text(self, first: int, last: int) -> str:
        """The rule as written (its lines, comments and extra spaces removed)."""
        parts = [_split_comment(line)[0].strip() for line in self.lines[first - 1 : last]]
        text = " ".join(p for p in parts if p)
        return text.rstrip(";").strip()

    def line(self) -> int:
        if self.pos < len(self.tokens):
            return self.tokens[self.pos].line
        return self.tokens[-1].line if self.tokens else 1

    def take(self) -> str:
        if self.pos >= len(self.tokens):
            raise UserError(
                _("unexpected end of file"),
                file=self.file,
                line=self.line(),
                hint=_("a '}' is missing"),
            )
        token = self.tokens[self.pos].text
        self.pos += 1
        return token

    def expect(self, text: str) -> None:
        line = self.line()
        found = self.take()
        if found != text:
            raise UserError(
                _("expected {expected!r}, found {found!r}").format(expected=text, found=found),
                file=self.file,
                line=line,
            )

    def skip_separators(self) -> None:
        while self.peek() in ("\n", ";"):
            self.pos += 1

    def statement_tokens(self) -> list[_Tok]:
        """Tokens up to the end of the statement (newline or ';' outside braces)."""
        depth = 0
        out: list[_Tok] = []
        while self.pos < len(self.tokens):
            token = self.tokens[self.pos]
            if token.text in ("\n", ";") and depth == 0:
                break
            if token.text.startswith("#handle="):
                break
            if token.text == "}" and depth == 0:
                break
            if token.text in ("{", "("):
                depth += 1
            elif token.text in ("}", ")"):
                depth -= 1
            if token.text != "\n":
                out.append(token)
            self.pos += 1
        return out

    # -- structure --------------------------------------------------------------------------

    def parse(self) -> list[dict[str, Any]]:
        while True:
            self.skip_separators()
            token = self.peek()
            if token is None:
                break
            line = self.line()
            if token == "table":
                self.take()
                self._table(line)
            elif token in ("flush", "delete", "destroy"):
                self.statement_tokens()
            elif token in ("add", "create", "insert") and self.peek(1) == "rule":
                self._command_rule(line)
            elif token in ("add", "create") and self.peek(1) in (
                "table",
                "chain",
                "set",
                "map",
                "element",
            ):
                self._command_object(line)
            elif token.startswith("#handle="):
                self.take()
            else:
                raise UserError(
                    _("unexpected {token!r} at the top level").format(token=token),
                    file=self.file,
                    line=line,
                    hint=_("expected the output of 'nft list ruleset' (table blocks)"),
                )
        return self.objects

    def _names(self) -> tuple[str, str]:
        first = _unquote(self.take())
        if first in ("ip", "ip6", "inet", "arp", "bridge", "netdev") and self.peek() not in (
            "{",
            "\n",
            ";",
            None,
        ):
            return first, _unquote(self.take())
        return "ip", first

    def _table(self, line: int) -> None:
        family, name = self._names()
        self.objects.append({"table": {"family": family, "name": name, "line": line}})
        self._skip_handle()
        self.expect("{")
        while True:
            self.skip_separators()
            token = self.peek()
            if token is None:
                raise UserError(
                    _("table {name}: missing '}}'").format(name=name), file=self.file, line=line
                )
            if token == "}":
                self.take()
                return
            inner_line = self.line()
            if token == "chain":
                self.take()
                self._chain(family, name, inner_line)
            elif token in ("set", "map"):
                self.take()
                self._set(family, name, token, inner_line)
            elif token in ("flags", "comment"):
                self.statement_tokens()
            elif token.startswith("#handle="):
                self.take()
            else:
                kind = self.take()
                self._skip_block()
                self.problems.append(
                    (
                        inner_line,
                        _("table {name}: {kind} block ignored").format(name=name, kind=kind),
                    )
                )

    def _skip_handle(self) -> None:
        while self.peek() is not None and self.peek().startswith("#handle="):  # type: ignore[union-attr]
            self.take()

    def _skip_block(self) -> None:
        depth = 0
        while self.pos < len(self.tokens):
            token = self.take()
            if token == "{":
                depth += 1
            elif token == "}":
                depth -= 1
                if depth <= 0:
                    return

    def _chain(self, family: str, table: str, line: int) -> None:
        name = _unquote(self.take())
        chain: dict[str, Any] = {"family": family, "table": table, "name": name, "line": line}
        handle = self._handle()
        if handle is not None:
            chain["handle"] = handle
        self.objects.append({"chain": chain})
        self.expect("{")
        handle = self._handle()
        if handle is not None:
            chain["handle"] = handle
        while True:
            self.skip_separators()
            self._handle()
            self.skip_separators()
            token = self.peek()
            if token is None:
                raise UserError(
                    _("chain {name}: missing '}}'").format(name=name), file=self.file, line=line
                )
            if token == "}":
                self.take()
                return
            rule_line = self.line()
            tokens = self.statement_tokens()
            handle = self._handle()
            if not tokens:
                continue
            words = [t.text for t in tokens]
            if words[0] == "type":
                self._chain_header(chain, words, rule_line)
            elif words[0] == "policy" and len(words) >= 2:
                chain["policy"] = words[1]
            elif words[0] in ("comment", "devices", "device", "flags"):
                continue
            else:
                rule: dict[str, Any] = {
                    "family": family,
                    "table": table,
                    "chain": name,
                    "line": rule_line,
                    "text": self.source_text(tokens[0].line, tokens[-1].line),
                }
                if ";" in rule["text"] or rule["text"].startswith(("chain ", "table ")):
                    rule["text"] = _join(words)  # several statements share the line
                if handle is not None:
                    rule["handle"] = handle
                rule["expr"], comment = RuleReader(words, self).read()
                if comment is not None:
                    rule["comment"] = comment
                self.objects.append({"rule": rule})

    def _handle(self) -> int | None:
        found = None
        while self.peek() is not None and self.peek().startswith("#handle="):  # type: ignore[union-attr]
            found = int(self.take().split("=", 1)[1])
            self.handles_seen = True
        return found

    def _chain_header(self, chain: dict[str, Any], words: list[str], line: int) -> None:
        try:
            chain["type"] = words[1]
            index = words.index("hook")
            chain["hook"] = words[index + 1]
            if "priority" in words:
                at = words.index("priority") + 1
                chain["prio"] = _priority(words[at:])
            else:
                chain["prio"] = 0
            if "policy" in words:
                chain["policy"] = words[words.index("policy") + 1]
        except (ValueError, IndexError):
            raise UserError(
                _("cannot read the chain header"),
                file=self.file,
                line=line,
                hint=_("type filter hook forward priority 0; policy drop;"),
            ) from None

    def _set(self, family: str, table: str, kind: str, line: int) -> None:
        name = _unquote(self.take())
        body: dict[str, Any] = {"family": family, "table": table, "name": name, "line": line}
        self._handle()
        self.expect("{")
        while True:
            self.skip_separators()
            self._handle()
            self.skip_separators()
            token = self.peek()
            if token is None:
                raise UserError(
                    _("{kind} {name}: missing '}}'").format(kind=kind, name=name),
                    file=self.file,
                    line=line,
                )
            if token == "}":
                self.take()
                break
            tokens = self.statement_tokens()
            self._handle()
            words = [t.text for t in tokens]
            if not words:
                continue
            if words[0] == "type" or words[0] == "typeof":
                spec = " ".join(words[1:])
                if ":" in words:
                    key, _sep, data = spec.partition(" : ")
                    body["type"] = [w.strip() for w in key.split(" . ")]
                    body["map"] = data.strip()
                else:
                    body["type"] = [w.strip() for w in spec.split(" . ")]
                if len(body["type"]) == 1:
                    body["type"] = body["type"][0]
            elif words[0] == "flags":
                body["flags"] = [w for w in words[1:] if w != ","]
            elif words[0] == "comment" and len(words) > 1:
                body["comment"] = _unquote(" ".join(words[1:]))
            elif words[0] == "elements":
                reader = RuleReader(words[2:], self)
                try:
                    value = reader.value()
                except (IndexError, ValueError, KeyError):
                    raise UserError(
                        _("{kind} {name}: cannot read the elements").format(kind=kind, name=name),
                        file=self.file,
                        line=tokens[0].line,
                    ) from None
                items = value["set"] if isinstance(value, dict) and "set" in value else [value]
                body["elem"] = items
        self.objects.append({kind: body})

    def _command_rule(self, line: int) -> None:
        tokens = self.statement_tokens()
        words = [t.text for t in tokens]
        if len(words) < 5:
            raise UserError(_("incomplete 'add rule' command"), file=self.file, line=line)
        verb = words[0]
        rest = words[2:]
        family = "ip"
        if rest[0] in ("ip", "ip6", "inet", "arp", "bridge", "netdev"):
            family = rest.pop(0)
        table, chain = rest[0], rest[1]
        body = rest[2:]
        if body[:1] in (["position"], ["index"], ["handle"]):
            self.problems.append(
                (
                    line,
                    _("'{verb} rule ... {where}' placed at the end").format(
                        verb=verb, where=body[0]
                    ),
                )
            )
            body = body[2:]
        rule: dict[str, Any] = {
            "family": family,
            "table": table,
            "chain": chain,
            "line": line,
            "text": " ".join(body),
        }
        rule["expr"], comment = RuleReader(body, self).read()
        if comment is not None:
            rule["comment"] = comment
        if verb == "insert":
            rule["insert"] = True
        self.objects.append({"rule": rule})

    def _command_object(self, line: int) -> None:
        verb, kind = self.take(), self.take()
        if kind == "table":
            family, name = self._names()
            self.objects.append({"table": {"family": family, "name": name, "line": line}})
            if self.peek() == "{":
                self._skip_block()
            return
        if kind == "chain":
            family, table = self._names()
            name = _unquote(self.take())
            chain: dict[str, Any] = {"family": family, "table": table, "name": name, "line": line}
            if self.peek() == "{":
                self.take()
                words = [t.text for t in self.statement_tokens()]
                if words and words[0] == "type":
                    self._chain_header(chain, words, line)
                while self.peek() not in ("}", None):
                    self.skip_separators()
                    more = [t.text for t in self.statement_tokens()]
                    if more[:1] == ["policy"] and len(more) > 1:
                        chain["policy"] = more[1]
                self.expect("}")
            self.objects.append({"chain": chain})
            return
        self.statement_tokens()
        self.problems.append(
            (line, _("'{verb} {kind}' command not read").format(verb=verb, kind=kind))
        )


def _join(words: list[str]) -> str:
    return " ".join(words).replace(" , ", ", ")


def _priority(words: list[str]) -> int:
    """``0``, ``-150``, ``filter``, ``filter + 10``, ``mangle - 5``."""
    text = " ".join(w for w in words if w != ";")
    found = re.match(r"^\s*(-?\d+|[a-z_]+)\s*(?:([+-])\s*(\d+))?", text)
    if not found:
        raise ValueError(text)
    base_text, sign, offset = found.groups()
    if base_text.lstrip("-").isdigit():
        base = int(base_text)
    elif base_text in PRIORITY_NAMES:
        base = PRIORITY_NAMES[base_text]
    else:
        raise ValueError(_("unknown priority {name!r}").format(name=base_text))
    if sign:
        base += int(offset) if sign == "+" else -int(offset)
    return base


class RuleReader:
    """The expressions of one rule, in the JSON form."""

    def __init__(self, words: list[str], parser: NftTextParser) -> None:
        self.words = words
        self.pos = 0
        self.parser = parser

    def peek(self, offset: int = 0) -> str | None:
        index = self.pos + offset
        return self.words[index] if index < len(self.words) else None

    def take(self) -> str:
        word = self.words[self.pos]
        self.pos += 1
        return word

    def read(self) -> tuple[list[dict[str, Any]], str | None]:
        exprs: list[dict[str, Any]] = []
        comment: str | None = None
        while self.pos < len(self.words):
            start = self.pos
            word = self.peek()
            assert word is not None
            try:
                if word == "comment":
                    self.take()
                    comment = _unquote(self.take())
                    continue
                exprs.append(self.statement())
            except (IndexError, ValueError, KeyError):
                self.pos = start
                exprs.append({"unparsed": self._skip_unknown()})
        return exprs, comment

    def _skip_unknown(self) -> str:
        """Consume an unreadable part up to the next word that starts something known."""
        parts = [self.take()]
        depth = parts[0].count("{") - parts[0].count("}")
        while self.pos < len(self.words):
            word = self.words[self.pos]
            if depth == 0 and word in _STOP:
                break
            depth += word.count("{") + word.count("(") - word.count("}") - word.count(")")
            parts.append(word)
            self.pos += 1
        return " ".join(parts)

    def statement(self) -> dict[str, Any]:
        word = self.take()
        if word in _VERDICTS:
            return {word: None}
        if word in ("jump", "goto"):
            return {word: {"target": _unquote(self.take())}}
        if word == "reject":
            args: dict[str, Any] = {}
            if self.peek() == "with":
                self.take()
                kind = self.take()
                if kind == "tcp":
                    self.take()  # reset
                    args = {"type": "tcp reset"}
                else:
                    if self.peek() == "type":
                        self.take()
                    args = {"type": kind, "expr": self.take()}
            return {"reject": args or None}
        if word == "queue":
            self._rest_of_statement()
            return {"queue": {}}
        if word == "counter":
            while self.peek() in ("packets", "bytes", "name"):
                self.take()
                self.take()
            return {"counter": None}
        if word == "log":
            while self.peek() in (
                "prefix",
                "level",
                "group",
                "snaplen",
                "queue-threshold",
                "flags",
            ):
                option = self.take()
                self.take()
                if option == "flags":
                    while self.peek() == ",":
                        self.take()
                        self.take()
            return {"log": {}}
        if word == "limit":
            text = ["limit"]
            while self.peek() is not None and self.peek() not in _STOP:
                text.append(self.take())
            return {"limit": {"text": " ".join(text)}}
        if word == "quota":
            text = ["quota"]
            while self.peek() is not None and self.peek() not in _STOP:
                text.append(self.take())
            return {"quota": {"text": " ".join(text)}}
        if word == "notrack":
            return {"notrack": None}
        if word in ("snat", "dnat", "masquerade", "redirect"):
            return {word: self._nat_target()}
        if word == "vmap":
            raise ValueError(_("vmap without a key"))
        self.pos -= 1
        return self.match()

    def _nat_target(self) -> dict[str, Any]:
        """``[ip|ip6] to ADDRESS[:PORT]`` as nft -j writes it (``addr``, ``port``); the
        other forms (maps, ranges, flags) are kept unread."""
        words: list[str] = []
        while self.peek() is not None and self.peek() not in _VERDICTS | {"comment"}:
            words.append(self.take())
        if words and words[0] in ("ip", "ip6"):
            words = words[1:]
        if len(words) < 2 or words[0] != "to":
            return {}
        target = "".join(words[1:])
        body: dict[str, Any] = {"addr": target}
        address, colon, port = target.rpartition(":")
        if colon and port.isdigit() and (address.count(":") == 0 or address.endswith("]")):
            body = {"addr": address.strip("[]"), "port": int(port)}
        return body

    def _rest_of_statement(self) -> None:
        while self.peek() is not None and self.peek() not in _VERDICTS | {"comment"}:
            self.take()

    def selector(self) -> dict[str, Any]:
        word = self.take()
        if word in _PAYLOAD and self.peek() in _PAYLOAD[word]:
            return {"payload": {"protocol": word, "field": self.take()}}
        if word == "meta":
            key = self.take()
            return {"meta": {"key": key}}
        if word in _META_BARE:
            return {"meta": {"key": word}}
        if word == "ct":
            key = self.take()
            if key in ("original", "reply"):
                direction = key
                key = self.take()
                if key in ("ip", "ip6"):
                    family = key
                    key = self.take()
                    return {"ct": {"key": key, "dir": direction, "family": family}}
                return {"ct": {"key": key, "dir": direction}}
            if key not in _CT_KEYS:
                raise ValueError(key)
            return {"ct": {"key": key}}
        raise ValueError(word)

    def match(self) -> dict[str, Any]:
        left = self.selector()
        if self.peek() == ".":
            items = [left]
            while self.peek() == ".":
                self.take()
                items.append(self.selector())
            left = {"concat": items}
        if self.peek() == "&":
            self.take()
            mask = self.value()
            left = {"&": [left, mask]}
        op = "=="
        if self.peek() in _OPS:
            op = _OPS[self.take()]
        if self.peek() == "vmap":
            self.take()
            data = self.value(map_values=True)
            return {"vmap": {"key": left, "data": data}}
        if self.peek() == "set" and self.peek(1) is not None:
            raise ValueError("set statement")
        right = self.value()
        if self.peek() == "/" and isinstance(left, dict) and "payload" in left:
            # tcp flags syn / syn,ack
            self.take()
            mask = self.value()
            left = {"&": [left, mask]}
        return {"match": {"op": op, "left": left, "right": right}}

    def value(self, map_values: bool = False) -> Any:
        word = self.take()
        if word == "{":
            items: list[Any] = []
            while self.peek() != "}":
                if self.peek() in (",", "\n"):
                    self.take()
                    continue
                element = self._element()
                if map_values or self.peek() == ":":
                    self.expect_word(":")
                    element = [element, self._verdict_or_value()]
                items.append(element)
            self.take()
            return {"set": items}
        if word == "(":
            depth = 1
            parts = []
            while depth:
                token = self.take()
                depth += (token == "(") - (token == ")")
                if depth:
                    parts.append(token)
            return [p for p in "".join(parts).split("|") if p]
        if "," in word and not word.startswith('"'):
            return [_scalar(w) for w in word.split(",") if w]
        if self.peek() == "," and self.peek(1) is not None and self.peek(1) not in _STOP:
            values = [_scalar(word)]
            while self.peek() == "," and self.peek(1) is not None:
                self.take()
                values.append(_scalar(self.take()))
            return values
        return _scalar(word)

    def expect_word(self, word: str) -> None:
        found = self.take()
        if found != word:
            raise ValueError(
                _("expected {expected}, found {found}").format(expected=word, found=found)
            )

    def _element(self) -> Any:
        value = _scalar(self.take())
        if self.peek() == ".":
            items = [value]
            while self.peek() == ".":
                self.take()
                items.append(_scalar(self.take()))
            return {"concat": items}
        return value

    def _verdict_or_value(self) -> Any:
        word = self.take()
        if word in _VERDICTS:
            return {word: None}
        if word in ("jump", "goto"):
            return {word: {"target": _unquote(self.take())}}
        return _scalar(word)


def _scalar(word: str) -> Any:
    """A value word as nft JSON writes it: numbers as int, prefixes and ranges as objects."""
    if word.startswith('"'):
        return _unquote(word)
    if word.startswith("@"):
        return word
    if word.isdigit():
        return int(word)
    if word.startswith("0x"):
        return int(word, 16)
    if "/" in word and not word.startswith("/"):
        address, _sep, length = word.partition("/")
        if length.isdigit():
            return {"prefix": {"addr": address, "len": int(length)}}
    if "-" in word and not word.startswith("-"):
        low, _sep, high = word.partition("-")
        if low and high and (low[0].isdigit() or ":" in low) and (high[0].isdigit() or ":" in high):
            return {"range": [_scalar(low), _scalar(high)]}
    return word


def parse_nft_text(
    text: str, file: str
) -> tuple[list[dict[str, Any]], list[tuple[int, str]], bool]:
    """(objects in the JSON form, problems as (line, message), whether handles were seen)."""
    parser = NftTextParser(text, file)
    objects = parser.parse()
    return objects, parser.problems, parser.handles_seen
