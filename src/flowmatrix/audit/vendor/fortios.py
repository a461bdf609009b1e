"""The FortiOS command language: ``config ... / edit ... / set ... / next / end``.

A backup (``.conf``) or ``show full-configuration`` output is a tree of configuration
blocks (``config firewall policy``), each holding entries (``edit 12``) with settings
(``set srcintf "port1"``) and nested blocks; ``config vdom`` holds one tree per VDOM.
Commands act in order as on the device: ``set`` replaces, ``append`` and ``select``
add, ``unset`` clears; ``move``, ``delete``, ``clone`` and ``rename`` change the entries
of a block. A block that appears twice is one block (the second edits the first).

A double-quoted value may go on over several lines (certificates, private keys,
replacement messages): its lines are part of the value, not commands.

What cannot be a FortiOS line at all (another vendor's file, a truncated one) is an
error with its line; a command the reader does not know inside a block is listed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from flowmatrix.audit.vendor.shared import Notes, opens_value, value_over_lines
from flowmatrix.i18n import _

_ENTRY_COMMANDS = frozenset({"set", "unset", "append", "select", "unselect"})
_BLOCK_COMMANDS = frozenset({"move", "delete", "clone", "rename", "purge"})
_IGNORED = frozenset({"show", "get", "diagnose", "execute", "abort", "sleep"})
_TOKEN = re.compile(r'(?:"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|[^\s"\']+)+')
_PIECE = re.compile(r'"((?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*)\'|([^"\']+)')


@dataclass
class Setting:
    values: list[str]
    line: int


@dataclass
class Entry:
    """``edit NAME`` ... ``next``: settings and nested blocks."""

    name: str
    line: int
    settings: dict[str, Setting] = field(default_factory=dict)
    blocks: dict[str, Block] = field(default_factory=dict)

    def get(self, key: str, default: str | None = None) -> str | None:
        found = self.settings.get(key)
        return found.values[0] if found is not None and found.values else default

    def values(self, key: str) -> list[str]:
        found = self.settings.get(key)
        return list(found.values) if found is not None else []

    def line_of(self, key: str) -> int:
        found = self.settings.get(key)
        return found.line if found is not None else self.line


@dataclass
class Block:
    """``config PATH`` ... ``end``: entries in their table order, and block settings."""

    path: str
    line: int
    entries: dict[str, Entry] = field(default_factory=dict)
    settings: Entry = field(default_factory=lambda: Entry("", 0))


def _tokens(text: str) -> list[str]:
    """Words as the FortiOS shell reads them: quotes group, adjacent pieces join."""
    words = _plain_words(text)
    return _shell_words(text) if words is None else words


def _plain_words(text: str) -> list[str] | None:
    """The words of most lines, found without the shell's grammar: bare words and
    "names", each a word of its own (no space, quote or escape inside); None for a
    line that needs the grammar."""
    if '"' not in text and "'" not in text:
        return text.split()
    if "'" in text or "\\" in text:
        return None
    words: list[str] = []
    for bare in text.split():
        if '"' in bare:
            if len(bare) < 2 or bare[0] != '"' or bare[-1] != '"' or bare.count('"') != 2:
                return None
            bare = bare[1:-1]
        words.append(bare)
    return words


def _shell_words(text: str) -> list[str]:
    """``_tokens`` by the shell's grammar, whatever the line (quotes of both kinds,
    escapes, pieces joined)."""
    out = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token[0] == '"' and token.find('"', 1) == len(token) - 1 and "\\" not in token:
            out.append(token[1:-1])  # the common case: one double-quoted piece, no escape
            continue
        word = []
        for piece in _PIECE.finditer(match.group(0)):
            quoted = piece.group(1) if piece.group(1) is not None else piece.group(2)
            word.append(re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else piece.group(3))
        out.append("".join(word))
    return out


def _words_of(raw: str) -> list[str] | None:
    """The words of a line; None for a blank line, a comment or a line of lone quotes
    (no words); ``_OPEN`` for a line whose last double-quoted value goes on over the
    next lines."""
    line = raw.strip()
    if not line or line.startswith("#"):
        return None
    words = _plain_words(line)  # a line these are found for has its quotes closed
    if words is None:
        if opens_value(line):
            return _OPEN
        words = _shell_words(line)
    return words or None


_UNREAD: list[str] = []
"""Stands for a line not read yet (no line's words are this list)."""
_OPEN: list[str] = []
"""Stands for a line that opens a double-quoted value it does not close."""


def looks_like(text: str) -> bool:
    """Whether ``text`` reads as FortiOS configuration (for format detection)."""
    for raw in text.splitlines()[:200]:
        line = raw.strip()
        if not line:
            continue
        if line.startswith(("#config-version=", "#conf_file_ver=")):
            return True
        if line.startswith("#"):
            continue
        return bool(re.match(r"config (system|firewall|vdom|global|router|user|vpn|log)\b", line))
    return False


class _Parser:
    shortcuts = True
    """Whether the words of a line read before are taken again and ``set`` is read in
    the loop itself (the tests compare with the plain way)."""

    def __init__(self, text: str, notes: Notes) -> None:
        self.lines = text.splitlines()
        self.notes = notes
        self.root = Entry("", 0)

    def parse(self) -> Entry:
        # the stack holds (block, entry or None) frames; the root entry holds top blocks
        stack: list[tuple[Block, Entry | None]] = []
        # the words of each distinct line (most lines are repeats: 'next', 'set action
        # accept'...); the lists are only sliced here, never given out or changed
        read: dict[str, list[str] | None] = {}
        shortcuts = self.shortcuts
        lines = enumerate(self.lines, 1)
        for number, raw in lines:
            words = read.get(raw, _UNREAD) if shortcuts else _UNREAD
            if words is _UNREAD:
                words = read[raw] = _words_of(raw)
            if not words:  # None or _OPEN, the only lists without words
                if words is None:
                    continue
                words = self._over_lines(raw, number, lines)
            command = words[0]
            if command == "set" and shortcuts and stack and len(words) > 1:
                # most lines: what _setting does with them, without the calls
                frame = stack[-1]
                (frame[1] or frame[0].settings).settings[words[1]] = Setting(words[2:], number)
                continue
            if command == "config":
                if len(words) < 2:
                    raise self.notes.error(number, _("'config' without a path"))
                parent = self.root if not stack else (stack[-1][1] or stack[-1][0].settings)
                path = " ".join(words[1:])
                block = parent.blocks.get(path)
                if block is None:
                    block = parent.blocks[path] = Block(path, number)
                stack.append((block, None))
                continue
            if not stack:
                raise self.notes.error(
                    number,
                    _("expected a FortiOS 'config ...' block here, found {command!r}").format(
                        command=command
                    ),
                    hint=_(
                        "give a FortiGate backup or 'show full-configuration' output, "
                        "or name the format with --ruleset-format"
                    ),
                )
            block, entry = stack[-1]
            if command == "end":
                if entry is not None:
                    # FortiOS accepts 'end' closing the entry and its block at once
                    pass
                stack.pop()
                continue
            if command == "edit":
                if entry is not None:
                    raise self.notes.error(
                        number,
                        _("'edit' inside 'edit {name}' (expected 'next')").format(name=entry.name),
                    )
                if len(words) < 2:
                    raise self.notes.error(number, _("'edit' without a name"))
                name = words[1]
                found = block.entries.get(name)
                if found is None:
                    found = block.entries[name] = Entry(name, number)
                stack[-1] = (block, found)
                continue
            if command == "next":
                if entry is None:
                    raise self.notes.error(number, _("'next' outside an 'edit' entry"))
                stack[-1] = (block, None)
                continue
            target = entry or block.settings
            if command in _ENTRY_COMMANDS:
                self._setting(target, command, words[1:], number)
            elif command in _BLOCK_COMMANDS and entry is None:
                self._block_command(block, command, words[1:], number)
            elif command in _IGNORED:
                continue
            else:
                self.notes.skip(
                    number,
                    _("unknown command {command!r} in 'config {path}'").format(
                        command=command, path=block.path
                    ),
                )
        if stack:
            block = stack[-1][0]
            raise self.notes.error(
                len(self.lines),
                _("'config {path}' opened at line {line} is not closed").format(
                    path=block.path, line=block.line
                ),
                hint=_("the file ends before its 'end' (a truncated file?)"),
            )
        return self.root

    def _over_lines(self, raw: str, number: int, lines: Iterator[tuple[int, str]]) -> list[str]:
        """The words of line ``number``, whose last double-quoted value goes on over the
        next ``lines`` (taken from them) up to the line that closes it."""
        return _shell_words(value_over_lines(raw.lstrip(), number, lines, self.notes))

    def _setting(self, target: Entry, command: str, args: list[str], number: int) -> None:
        if not args:
            self.notes.skip(number, _("'{command}' without a setting name").format(command=command))
            return
        key, values = args[0], args[1:]
        current = target.settings.get(key)
        if command == "set":
            target.settings[key] = Setting(values, number)
        elif command == "unset":
            target.settings.pop(key, None)
        elif command in ("append", "select"):
            old = current.values if current is not None else []
            target.settings[key] = Setting(old + [v for v in values if v not in old], number)
        else:  # unselect
            old = current.values if current is not None else []
            target.settings[key] = Setting([v for v in old if v not in values], number)

    def _block_command(self, block: Block, command: str, args: list[str], number: int) -> None:
        entries = block.entries
        if command == "purge":
            entries.clear()
        elif command == "delete" and args:
            entries.pop(args[0], None)
        elif command == "move" and len(args) == 3 and args[1] in ("before", "after"):
            moving = entries.pop(args[0], None)
            if moving is None or args[2] not in entries:
                if moving is not None:
                    entries[args[0]] = moving
                self.notes.skip(number, _("move of {entry}: no such entries").format(entry=args[0]))
                return
            order = list(entries.items())
            at = next(i for i, (name, _) in enumerate(order) if name == args[2])
            order.insert(at if args[1] == "before" else at + 1, (args[0], moving))
            block.entries = dict(order)
        elif command in ("clone", "rename") and len(args) == 3 and args[1] == "to":
            found = entries.get(args[0])
            if found is None:
                self.notes.skip(
                    number,
                    _("{command} of {entry}: no such entry").format(command=command, entry=args[0]),
                )
                return
            copy = Entry(args[2], number, dict(found.settings), dict(found.blocks))
            if command == "rename":
                block.entries = {
                    (args[2] if name == args[0] else name): (copy if name == args[0] else e)
                    for name, e in entries.items()
                }
            else:
                entries[args[2]] = copy
        else:
            self.notes.skip(
                number, _("cannot read {command!r} with these arguments").format(command=command)
            )


def parse_fortios(text: str, notes: Notes) -> Entry:
    """The configuration tree: the root entry's blocks are the top-level blocks."""
    return _Parser(text, notes).parse()
