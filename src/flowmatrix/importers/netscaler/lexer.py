"""The NetScaler CLI, one line at a time: words, options and their values, quotes undone.

What the CLI accepts (NetScaler documentation, "Quotation syntax for advanced policy
expressions" and the Policy Configuration and Reference Guide, see docs/import.md):

- words are separated by blanks; a word in double quotes may hold blanks, and inside
  it ``\\"`` is a quote, ``\\\\`` a backslash, ``\\t`` ``\\n`` ``\\r`` control characters;
  outside quotes a backslash makes the next character literal;
- ``q`` followed by a printable non-alphanumeric delimiter quotes everything up to the
  same delimiter (``q|...|``, ``q/.../``, ``q~...~``); ``{`` ``<`` ``[`` close with
  ``}`` ``>`` ``]``; parentheses are not delimiters;
- ``-name value`` options come in any order after the positional words; an option
  followed by another option (or by the end of the line) is a flag (``-encrypted``);
- ``#`` starts a comment where a word would start (ns.conf's first line is one).

Secrets never leave this module: the value of every option whose name says it holds one
(``-ldapBindDnPassword``, ``-radKey``, ``-passphrase``, ``-passcrypt``, ``-key``,
``-encryptmethod``...) is replaced by ``REDACTED`` as the line is read, so no later step
can print it. Lines that cannot be read are reported by line and column, never quoted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

REDACTED = "<redacted>"
#: Option names (lower case, no dash) that carry a secret or describe one.
_SECRET_OPTION = re.compile(r"pass|secret|key|pwd|encrypt|token|hash|credential|salt", re.I)
_PAIRS = {"{": "}", "<": ">", "[": "]"}
#: Characters that may follow ``q`` to open a quotation (printable, not alphanumeric; not
#: blanks, quotes or parentheses; not the characters that names of entities contain).
_Q_DELIMITERS = frozenset("/{<[|~$^+=&%@`?!*#;,")
_NEEDS_SLOW_PATH = re.compile(r"[\"\\#]|(?:^|\s)q[^A-Za-z0-9\s]")
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r"}


class LexError(ValueError):
    """A line the CLI would refuse; ``col`` is 1-based."""

    def __init__(self, message: str, col: int) -> None:
        super().__init__(message)
        self.col = col


@dataclass(frozen=True, slots=True)
class Command:
    """One command line: its positional words and its options (secrets redacted)."""

    line: int
    words: tuple[str, ...]
    """Positional words, command words first (``add``, ``lb``, ``vserver``, name...)."""
    options: dict[str, str | None] = field(default_factory=dict)
    """Option name in lower case without the dash -> value (None for a flag)."""
    spelled: dict[str, str] = field(default_factory=dict)
    """Option name in lower case -> as written (``ldapBindDnPassword``), for messages."""

    def option(self, name: str) -> str | None:
        return self.options.get(name.lower())

    def has(self, name: str) -> bool:
        return name.lower() in self.options


def is_secret_option(name: str) -> bool:
    return bool(_SECRET_OPTION.search(name))


def split_words(text: str) -> list[str]:
    """The words of one line, quotes undone; raises LexError on an unterminated quote."""
    if not _NEEDS_SLOW_PATH.search(text):
        return text.split()
    words: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t\r\n":
            i += 1
            continue
        if ch == "#":
            break
        if ch == '"':
            word, i = _double_quoted(text, i)
        elif ch == "q" and i + 1 < n and text[i + 1] in _Q_DELIMITERS:
            quoted = _q_quoted(text, i)
            if quoted is None:
                word, i = _bare(text, i)
            else:
                word, i = quoted
        else:
            word, i = _bare(text, i)
        words.append(word)
    return words


def _double_quoted(text: str, start: int) -> tuple[str, int]:
    out: list[str] = []
    i, n = start + 1, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n:
            nxt = text[i + 1]
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        if ch == '"':
            i += 1
            if i < n and text[i] not in " \t\r\n":
                rest, i = _bare(text, i)  # "abc"def is one word, as in a shell
                out.append(rest)
            return "".join(out), i
        out.append(ch)
        i += 1
    raise LexError("unterminated double quote", start + 1)


def _q_quoted(text: str, start: int) -> tuple[str, int] | None:
    """``q<d>...<d>`` as one word, or None when no closing delimiter ends a word."""
    opener = text[start + 1]
    closer = _PAIRS.get(opener, opener)
    search = start + 2
    while True:
        end = text.find(closer, search)
        if end < 0:
            if opener in "{<[|/~":  # unambiguous openers: the quote is really unterminated
                raise LexError(f"unterminated q{opener}...{closer} quotation", start + 1)
            return None
        after = end + 1
        if after >= len(text) or text[after] in " \t\r\n":
            return text[start + 2 : end], after
        search = end + 1


def _bare(text: str, start: int) -> tuple[str, int]:
    out: list[str] = []
    i, n = start, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t\r\n":
            break
        if ch == "\\" and i + 1 < n:
            out.append(text[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out), i


def _is_option(word: str) -> bool:
    return len(word) > 1 and word[0] == "-" and (word[1].isalpha() or word[1] == "_")


def parse_line(number: int, text: str) -> Command | None:
    """One ns.conf line as a command (None for a blank or comment line)."""
    words = split_words(text)
    if not words:
        return None
    positional: list[str] = []
    options: dict[str, str | None] = {}
    spelled: dict[str, str] = {}
    i, n = 0, len(words)
    while i < n and not _is_option(words[i]):
        positional.append(words[i])
        i += 1
    while i < n:
        word = words[i]
        i += 1
        if not _is_option(word):
            continue  # a stray word between options: the CLI would refuse it; ignore
        name = word[1:]
        key = name.lower()
        value: str | None = None
        if i < n and not _is_option(words[i]):
            value = words[i]
            i += 1
        if value is not None and is_secret_option(key):
            value = REDACTED
        options[key] = value
        spelled[key] = name
    return Command(number, tuple(positional), options, spelled)
