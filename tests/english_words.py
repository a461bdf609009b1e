"""The reader of French output: finds the lines a message left in English.

A word of the English list below that is neither data (a word of the site, the French
text of the catalog, a command or option name) nor a proper noun is English, with the
line it is on. The list holds words that English messages cannot do without and French
ones never use, so a message left in English is found whatever it says.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from flowmatrix.catalog import load_catalog
from flowmatrix.cli import COMMANDS

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "flowmatrix" / "examples"
BAD_SITES = Path(__file__).resolve().parent / "data" / "bad-sites"

#: Words of English messages that French never uses.
ENGLISH = {
    "the",
    "and",
    "is",
    "are",
    "was",
    "were",
    "not",
    "with",
    "without",
    "from",
    "this",
    "that",
    "these",
    "those",
    "which",
    "has",
    "have",
    "been",
    "for",
    "into",
    "only",
    "every",
    "each",
    "any",
    "when",
    "where",
    "should",
    "must",
    "cannot",
    "does",
    "than",
    "but",
    "yes",
    "none",
    "flow",
    "flows",
    "blocked",
    "allowed",
    "passed",
    "failed",
    "found",
    "missing",
    "unknown",
    "proven",
    "failing",
    "tested",
    "reached",
    "refused",
    "error",
    "warning",
    "hint",
    "rule",
    "firewall",
    "firewalls",
    "address",
    "addresses",
    "host",
    "hosts",
    "open",
    "closed",
    "of",
    "to",
    "in",
    "by",
    "at",
    "it",
    "its",
    "be",
    "will",
    "would",
    "could",
    "there",
    "their",
    "matches",
    "matched",
    "written",
    "read",
    "given",
    "listed",
    "kept",
    "dropped",
    "accepted",
    "denied",
    "because",
    "however",
    "also",
    "ports",
    "translated",
    "please",
    "expected",
    "got",
    "instead",
    "needs",
    "need",
}
#: Names that are the same in every language.
PROPER = {"netscaler", "xenmobile", "citrix", "fortigate", "asa", "srx", "pan"}
WORD = re.compile(r"[A-Za-zÀ-ÿ]+(?:'[A-Za-zÀ-ÿ]+)?")
OPTION = re.compile(r"--?[a-z][a-z0-9-]*")
FLOWMATRIX_COMMAND = re.compile(r"flowmatrix(?: [a-z][a-z-]*)+")
#: A device command quoted as a fix (nft, iptables, the vendors' CLI): syntax, not prose.
#: In a JSON line, a key, and a value of one word (a code): not prose.
JSON_KEY = re.compile(r'"[\w-]+":\s*')
JSON_CODE = re.compile(r'"[^"\s]*"')
#: What a French message quotes « as it is » (site syntax, a value).
QUOTED = re.compile(r"«[^»]*»")
#: A certificate fingerprint or serial number (hex pairs): not words.
HEX = re.compile(r"\b(?:[0-9A-Fa-f]{2}:)+[0-9A-Fa-f]{2}\b")
DEVICE_COMMAND = re.compile(
    r"\b(?:nft|iptables|ip6tables|access-list|set|config|edit|delete|object-group)\s.*$"
)


def _strings(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():  # the keys are the format's words, not data
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    elif node is not None:
        yield str(node)


def _data_words() -> set[str]:
    """The words of the data a run may show as they are: the sites' keys and values
    (not their keys or comments), the catalog's French text, command names, proper
    nouns."""
    import yaml

    words: set[str] = set(PROPER) | set(COMMANDS)
    for path in [*EXAMPLES.glob("*.yaml"), *BAD_SITES.glob("*.yaml")]:
        text = path.read_bytes().decode("utf-8", "replace")  # one case is Latin-1 on purpose
        try:
            strings = list(_strings(yaml.safe_load(text)))
        except yaml.YAMLError:  # a bad site on purpose: its lines without the comments
            strings = [line.split("#")[0] for line in text.splitlines()]
        words |= {w.lower() for item in strings for w in WORD.findall(item)}
    catalog = load_catalog()
    for requirement in catalog.requirements:
        words |= {w.lower() for w in WORD.findall(requirement.description.get("fr"))}
    return words


DATA = _data_words()


def english_in(text: str) -> list[str]:
    """Lines of ``text`` with a word of :data:`ENGLISH` that is not data."""
    found = []
    for line in text.splitlines():
        if "Anglais :" in line or line.startswith(">"):
            continue  # the catalog's English text beside the French; a source quoted as is
        bare = JSON_CODE.sub(" ", JSON_KEY.sub(" ", QUOTED.sub(" ", line)))
        bare = HEX.sub(" ", DEVICE_COMMAND.sub(" ", bare))
        bare = OPTION.sub(" ", FLOWMATRIX_COMMAND.sub(" ", bare))
        words = {w.lower() for w in WORD.findall(bare)}
        english = sorted((words & ENGLISH) - DATA)
        if english:
            found.append(f"{english}: {line.strip()[:160]}")
    return found
