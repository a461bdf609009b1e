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
``-encryptmethod``...) is replaced by ``REDACTED`` when a command's options are taken
apart (on first use), so no later step can print it. Lines that cannot be read are reported by line and column, never quoted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType

from flowmatrix.i18n import _

REDACTED = "<redacted>"
#: Option names (lower case, no dash) that carry a secret or describe one.
_SECRET_OPTION = re.compile(r"pass|secret|key|pwd|encrypt|token|hash|credential|salt", re.I)
_PAIRS = {"{": "}", "<": ">", "[": "]"}
#: A ``q`` quotation opening at a word start (the only use of ``q`` the plain split misses).
_Q_OPENING = re.compile(r"(?:^|\s)q[^A-Za-z0-9\s]")
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r"}


class LexError(ValueError):
    """A line the CLI would refuse; ``col`` is 1-based."""

    def __init__(self, message: str, col: int) -> None:
        super().__init__(message)
        self.col = col


_NO_OPTIONS: Mapping[str, str] = MappingProxyType({})
_NONE: tuple[Mapping[str, str | None], Mapping[str, str]] = (_NO_OPTIONS, _NO_OPTIONS)


class Command:
    """One command line: its positional words and its options (secrets redacted).

    A plain slotted class, its options taken apart only when a handler asks for one: an
    ns.conf has hundreds of thousands of lines and most handlers read positional words
    only; nothing changes a command once read."""

    __slots__ = ("_parsed", "_rest", "line", "words")

    def __init__(self, line: int, words: tuple[str, ...], rest: list[str] | None = None) -> None:
        self.line = line
        self.words = words
        """Positional words, command words first (``add``, ``lb``, ``vserver``, name...)."""
        self._rest = rest
        self._parsed: tuple[Mapping[str, str | None], Mapping[str, str]] | None = (
            None if rest else _NONE
        )

    def _options(self) -> tuple[Mapping[str, str | None], Mapping[str, str]]:
        parsed = self._parsed
        if parsed is None:
            parsed = self._parsed = _parse_options(self._rest or [])
        return parsed

    @property
    def options(self) -> Mapping[str, str | None]:
        """Option name in lower case without the dash -> value (None for a flag)."""
        return self._options()[0]

    @property
    def spelled(self) -> Mapping[str, str]:
        """Option name in lower case -> as written (``ldapBindDnPassword``), for messages."""
        return self._options()[1]

    def option(self, name: str) -> str | None:
        return self.options.get(name.lower())

    def has(self, name: str) -> bool:
        return name.lower() in self.options


@lru_cache(maxsize=4096)
def is_secret_option(name: str) -> bool:
    return bool(_SECRET_OPTION.search(name))


# The words of the CLI, as regular expressions (one grammar for both uses below).
_BLANK = r"[ \t\r\n]"
#: A double-quoted word; ``tail`` is what follows its closing quote (``"abc"def``).
_DQ = r'"(?P<dq>[^"\\]*(?:\\.[^"\\]*)*)"(?P<tail>(?:[^ \t\r\n\\]+|\\.|\\)*)'
#: ``q{...}`` ``q<...>`` ``q[...]``: the first closer that ends a word closes it.
_PQ = rf"q(?:\{{(?P<pq1>.*?)\}}|<(?P<pq2>.*?)>|\[(?P<pq3>.*?)\])(?={_BLANK}|$)"
#: ``q|...|`` and the other same-character delimiters.
_SQ = rf"q(?P<d>[/|~$^+=&%@`?!*#;,])(?P<sq>.*?)(?P=d)(?={_BLANK}|$)"
#: A quotation that nothing closes (for ``$`` and the like, a plain word instead).
_OPEN = r'(?P<open>"|q[{<\[|/~])'
#: A plain word (a backslash makes the next character literal). Runs of ordinary
#: characters are taken at once (the same words as one character at a time, faster).
_BARE = r'(?P<bare>(?!["#]|q[{<\[|/~])(?:[^ \t\r\n\\]+|\\.|\\)+)'
#: One word at a time, at a word start (blanks first), for ``split_words``.
_WORD = re.compile(rf"{_BLANK}*(?:(?P<comment>#.*)|{_DQ}|{_PQ}|{_SQ}|{_OPEN}|{_BARE}|$)", re.DOTALL)
#: A whole line that reads: words, each taken as the scanner takes it (atomic), then maybe
#: a comment. One C-level match, for the lines only counted as skipped.
_LINE = re.compile(rf"(?:{_BLANK}*(?>{_DQ}|{_PQ}|{_SQ}|{_BARE}))*{_BLANK}*(?:#.*)?", re.DOTALL)
_BACKSLASHED = re.compile(r"\\(.)", re.DOTALL)


def _unescape_quoted(text: str) -> str:
    if "\\" not in text:
        return text
    return _BACKSLASHED.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), text)


def _unescape_bare(text: str) -> str:
    return _BACKSLASHED.sub(r"\1", text) if "\\" in text else text


def plain(text: str) -> bool:
    """No quote, escape, comment or quotation: the words are what blanks separate."""
    return not (
        '"' in text or "\\" in text or "#" in text or ("q" in text and _Q_OPENING.search(text))
    )


def reads(text: str) -> bool:
    """Whether the line reads (every quotation closed), without taking its words apart."""
    return plain(text) or _LINE.fullmatch(text) is not None


def split_words(text: str) -> list[str]:
    """The words of one line, quotes undone; raises LexError on an unterminated quote."""
    if plain(text):
        return text.split()
    words: list[str] = []
    i, n = 0, len(text)
    match = _WORD.match
    while i < n:
        found = match(text, i)
        if found is None:  # cannot happen: the last alternative matches anywhere
            raise LexError(_("unreadable word"), i + 1)
        kind = found.lastgroup
        if kind is None or kind == "comment":
            break
        if kind == "open":
            opener = found.group("open")
            col = found.start("open") + 1
            if opener == '"':
                raise LexError(_("unterminated double quote"), col)
            delimiter = opener[1]
            closer = _PAIRS.get(delimiter, delimiter)
            raise LexError(
                _("unterminated q{opener}...{closer} quotation").format(
                    opener=delimiter, closer=closer
                ),
                col,
            )
        if kind == "tail" or kind == "dq":
            words.append(_unescape_quoted(found.group("dq")) + _unescape_bare(found.group("tail")))
        elif kind == "bare":
            words.append(_unescape_bare(found.group("bare")))
        else:  # a q quotation, taken as written
            words.append(found.group(kind))
        i = found.end()
    return words


def _is_option(word: str) -> bool:
    return word[:1] == "-" and len(word) > 1 and (word[1].isalpha() or word[1] == "_")


def parse_line(number: int, text: str) -> Command | None:
    """One ns.conf line as a command (None for a blank or comment line)."""
    words = split_words(text)
    return make_command(number, words) if words else None


def make_command(number: int, words: list[str], dashed: bool = True) -> Command:
    """The command of a line's words: positional words, then options (secrets redacted,
    taken apart on first use). ``dashed=False`` says no word holds a ``-`` (no option)."""
    if dashed:
        for i, word in enumerate(words):
            if word[:1] == "-" and _is_option(word):
                return Command(number, tuple(words[:i]), words[i:])
    return Command(number, tuple(words))


def _parse_options(words: list[str]) -> tuple[dict[str, str | None], dict[str, str]]:
    options: dict[str, str | None] = {}
    spelled: dict[str, str] = {}
    i, n = 0, len(words)
    while i < n:
        word = words[i]
        i += 1
        if not _is_option(word):
            continue  # a stray word between options: the CLI would refuse it; ignore
        name = word[1:]
        key = name.lower()
        value: str | None = None
        if i < n and not _is_option(words[i]):
            value = REDACTED if is_secret_option(key) else words[i]
            i += 1
        options[key] = value
        spelled[key] = name
    return options, spelled
