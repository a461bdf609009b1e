"""Configuration trees of statements: one reader for each of the forms PAN-OS and Junos use.

PAN-OS and Junos configurations are trees of keywords. Each form a device writes is read
into the same ``Node`` tree, so each vendor has one reader of its meaning:

* ``set`` lines (``set security policies from-zone a to-zone b policy p match ...``,
  PAN-OS ``set rulebase security rules r from [ z1 z2 ]``): one path per line, ``[ ]``
  lists give one path per member (a double-quoted value, a certificate or a key, may go
  on over lines); ``delete`` removes, ``deactivate`` marks inactive;
* the brace form (Junos ``show configuration``, PAN-OS ``show config``): blocks
  ``name { ... }``, statements ``keyword value;``, comments ``/* */`` and ``#``, the
  ``inactive:`` and ``replace:`` prefixes;
* PAN-OS XML: ``<entry name="x">`` is the path word ``x``, ``<member>`` a value.

A node keeps its children in the order they were given, and the line of its first
statement; setting a child again moves it last (the last value of a one-valued keyword
is the one that holds).
"""

from __future__ import annotations

import re
import xml.parsers.expat
from dataclasses import dataclass, field

from flowmatrix.audit.vendor.shared import Notes, opens_value, value_over_lines
from flowmatrix.i18n import _

_WORD = re.compile(r'"((?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*)\'|(\[|\]|;|\{|\}|[^\s\[\];{}"\']+)')


@dataclass
class Node:
    line: int
    kids: dict[str, Node] = field(default_factory=dict)
    inactive: bool = False

    def get(self, *path: str) -> Node | None:
        node: Node | None = self
        for word in path:
            if node is None:
                return None
            node = node.kids.get(word)
        return node

    def line_of(self, *path: str) -> int:
        """The line of the statement at ``path`` (a member named), or of this node."""
        found = self.get(*path)
        return self.line if found is None else found.line

    def names(self, *path: str) -> list[str]:
        """The children of the node at ``path`` (the values of a keyword), in order."""
        node = self.get(*path)
        return [] if node is None else [k for k, v in node.kids.items() if not v.inactive]

    def value(self, *path: str) -> str | None:
        """The last value given to a one-valued keyword."""
        found = self.names(*path)
        return found[-1] if found else None

    def leaves(self, *path: str) -> dict[str, list[str]]:
        """The keyword-value statements of a node of leaves, however they were given:
        ``protocol tcp destination-port 443`` on one line is two leaves, as on the
        device (Junos and PAN-OS accept several in one ``set`` command)."""
        out: dict[str, list[str]] = {}
        node = self.get(*path)

        def walk(here: Node) -> None:
            for key, child in here.kids.items():
                if child.inactive:
                    continue
                for value, rest in child.kids.items():
                    out.setdefault(key, []).append(value)
                    walk(rest)

        if node is not None:
            walk(node)
        return out

    def items(self, *path: str, inactive: bool = False) -> list[tuple[str, Node]]:
        """The children at ``path``; deactivated ones too with ``inactive``."""
        node = self.get(*path)
        if node is None:
            return []
        return [(k, v) for k, v in node.kids.items() if inactive or not v.inactive]

    def add(self, words: list[str], line: int, *, inactive: bool = False) -> None:
        node = self
        last = len(words) - 1
        for index, word in enumerate(words):
            # the last word moves to the end: the last value given is the one that holds
            child = node.kids.pop(word, None) if index == last else node.kids.get(word)
            if child is None:
                child = Node(line)
            node.kids[word] = child
            node = child
        if inactive:
            node.inactive = True

    def remove(self, words: list[str]) -> None:
        node: Node | None = self
        for word in words[:-1]:
            node = node.kids.get(word) if node is not None else None
        if node is not None and words:
            node.kids.pop(words[-1], None)

    def mark_inactive(self, words: list[str], value: bool = True) -> None:
        node = self.get(*words)
        if node is not None:
            node.inactive = value


class Leaves:
    """A node read as keyword-value statements (several may share one ``set`` line)."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.line = node.line
        self._values = {k: list(dict.fromkeys(v)) for k, v in node.leaves().items()}

    def names(self, key: str) -> list[str]:
        return self._values.get(key, [])

    def value(self, key: str) -> str | None:
        found = self._values.get(key)
        return found[-1] if found else None

    def get(self, *path: str) -> Node | None:
        return self.node.get(*path)


def tokens(text: str) -> list[str]:
    """Words, quoted strings and ``[ ] { } ;``; an unquoted ``#`` starts a comment."""
    out = []
    for match in _WORD.finditer(text):
        quoted = match.group(1) if match.group(1) is not None else match.group(2)
        if quoted is None and match.group(3).startswith("#"):
            break
        out.append(re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else match.group(3))
    return out


def _expand(words: list[str]) -> list[list[str]]:
    """``a b [ c d ]`` -> ``a b c`` and ``a b d``."""
    if "[" not in words:
        return [words]
    at = words.index("[")
    end = words.index("]", at) if "]" in words[at:] else len(words)
    head, members, rest = words[:at], words[at + 1 : end], words[end + 1 :]
    return [[*head, m, *tail] for m in members for tail in _expand(rest)] or [head]


def read_set(
    text: str, notes: Notes, *, extra: tuple[str, ...] = ()
) -> tuple[Node, list[tuple[list[str], int]]]:
    """The tree of ``set`` lines, and the lines of the other commands named in ``extra``
    (``move`` on PAN-OS), for the caller to apply."""
    root = Node(0)
    others: list[tuple[list[str], int]] = []
    lines = enumerate(text.splitlines(), 1)
    for number, raw in lines:
        line = raw.strip()
        if not line or line.startswith(("#", "!")):
            continue
        if '"' in line and opens_value(line):  # a certificate or key over several lines
            line = value_over_lines(line, number, lines, notes)
        words = tokens(line)
        if not words:  # a line of lone quotes: nothing to read
            continue
        command, rest = words[0], words[1:]
        if command == "set":
            for path in _expand(rest):
                root.add(path, number)
        elif command == "delete":
            root.remove(rest)
        elif command in ("deactivate", "activate"):
            root.mark_inactive(rest, command == "deactivate")
        elif command in extra:
            others.append((words, number))
        elif command in ("edit", "top", "up", "exit", "commit", "configure"):
            continue
        else:
            raise notes.error(
                number,
                _("expected a 'set' command, found {command!r}").format(command=command),
                hint=_("give the 'display set' / 'show config' output as it is"),
            )
    return root, others


def read_braces(text: str, notes: Notes) -> Node:
    """The tree of a brace-structured configuration."""
    root = Node(0)
    stack: list[tuple[list[str], bool]] = [([], False)]
    pending: list[str] = []
    pending_line = 0
    depth_line: list[int] = []
    in_comment = False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw
        if in_comment:
            end = line.find("*/")
            if end < 0:
                continue
            line = line[end + 2 :]
            in_comment = False
        while "/*" in line:
            start = line.index("/*")
            end = line.find("*/", start + 2)
            if end < 0:
                line = line[:start]
                in_comment = True
                break
            line = line[:start] + " " + line[end + 2 :]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        for word in tokens(stripped):
            if word == "{":
                path, inactive = _head(pending)
                prefix, parent_inactive = stack[-1]
                stack.append((prefix + path, inactive or parent_inactive))
                depth_line.append(number)
                root.add(prefix + path, pending_line or number, inactive=inactive)
                pending = []
            elif word == "}":
                if pending:
                    raise notes.error(number, _("expected ';' before '}'"))
                if len(stack) == 1:
                    raise notes.error(number, _("'}' without a block to close"))
                stack.pop()
                depth_line.pop()
            elif word == ";":
                if pending:
                    path, inactive = _head(pending)
                    prefix, parent_inactive = stack[-1]
                    for words in _expand(path):
                        root.add(prefix + words, pending_line or number, inactive=inactive)
                pending = []
            else:
                if not pending:
                    pending_line = number
                pending.append(word)
    if len(stack) > 1:
        raise notes.error(
            len(text.splitlines()),
            _("the block opened at line {line} is not closed").format(line=depth_line[-1]),
            hint=_("the file ends before its '}' (a truncated file?)"),
        )
    if pending:
        # the statement by its keyword alone: the words after it may be a secret whose
        # keyword redaction does not know, or a piece of one cut over several lines
        raise notes.error(
            pending_line, _("statement {statement!r} has no ';'").format(statement=pending[0])
        )
    return root


def _head(words: list[str]) -> tuple[list[str], bool]:
    inactive = False
    while words and words[0] in ("inactive:", "replace:", "protect:"):
        inactive = inactive or words[0] == "inactive:"
        words = words[1:]
    return words, inactive


def read_xml(text: str, notes: Notes) -> Node:
    """The tree of a PAN-OS XML configuration (a DTD is refused: no entity expansion)."""
    root = Node(0)
    parser = xml.parsers.expat.ParserCreate()
    stack: list[list[str]] = [[]]
    texts: list[list[str]] = [[]]

    def refuse(*_args: object) -> None:
        raise ValueError(_("a DTD (document type declaration) is not accepted"))

    def start(tag: str, attrs: dict[str, str]) -> None:
        path = stack[-1]
        if tag == "entry" and "name" in attrs:
            word = attrs["name"]
        elif tag == "member":
            word = ""
        else:
            word = tag
        here = [*path, word] if word else path
        stack.append(here)
        texts.append([])
        if word:
            root.add(here, parser.CurrentLineNumber)

    def end(tag: str) -> None:
        here = stack.pop()
        value = "".join(texts.pop()).strip()
        if value and tag != "entry":
            root.add([*here, value], parser.CurrentLineNumber)

    def chars(data: str) -> None:
        texts[-1].append(data)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(text, True)
    except (xml.parsers.expat.ExpatError, ValueError) as exc:
        line = getattr(exc, "lineno", None) or parser.CurrentLineNumber
        message = (
            str(exc).split(":")[0] if isinstance(exc, xml.parsers.expat.ExpatError) else str(exc)
        )
        raise notes.error(
            line,
            _("not well-formed XML: {message}").format(message=message),
            hint=_("give the running-config XML as exported"),
        ) from None
    return root
