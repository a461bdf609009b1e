#!/usr/bin/env python3
"""Keep the French catalog in step with the code (Babel extracts and compiles).

    python scripts/i18n.py update    # extract every marked text and every text of
                                     # --help, add the new ones to flowmatrix.po (empty),
                                     # drop the ones gone, compile
    python scripts/i18n.py compile   # flowmatrix.po -> flowmatrix.mo (what ships)
    python scripts/i18n.py check     # exit 1 listing texts without a French translation

The texts of ``--help`` are not marked in the code: Typer holds them (docstrings, ``help=``),
so they are read from the command tree itself, every command loaded, exactly as the click
objects hold them (``flowmatrix.cli.help_language`` translates them at run time).

The test suite compares the extracted texts with the catalog and the shipped ``.mo`` with
the ``.po`` (``tests/test_i18n.py``).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "flowmatrix"
MESSAGES = SOURCE / "locale" / "fr" / "LC_MESSAGES"
PO = MESSAGES / "flowmatrix.po"
MO = MESSAGES / "flowmatrix.mo"
COMMENT_TAGS = ("Translators:",)
#: Where a help text is found in no source file (one generated at import).
NOWHERE = ("cli --help", None)
Key = str | tuple[str, str]

if str(ROOT / "src") not in sys.path:  # this tree's flowmatrix, not an installed one
    sys.path.insert(0, str(ROOT / "src"))


def extracted() -> Catalog:
    """Every text the code marks (``_``, ``N_``, ``ngettext``, ``pgettext``...), and every
    help text of the CLI."""
    template = Catalog(project="flowmatrix", locale=None)
    marked(template)
    for text, location in help_texts():
        template.add(text, locations=[location])
    return template


def help_texts() -> list[tuple[str, tuple[str, int | None]]]:
    """Every help text of the command tree, with the source line it is written on."""
    import typer.main

    from flowmatrix.cli import _load_commands
    from flowmatrix.cli.app import app
    from flowmatrix.cli.help_language import help_texts as walk

    _load_commands([])
    files = sorted((SOURCE / "cli").glob("*.py")) + sorted(SOURCE.rglob("*.py"))
    sources = {
        f"src/flowmatrix/{path.relative_to(SOURCE)}": path.read_text("utf-8") for path in files
    }
    return [(text, _location(text, sources)) for _, text in walk(typer.main.get_command(app))]


def _location(text: str, sources: dict[str, str]) -> tuple[str, int | None]:
    """The first source that holds the text's first words, and the line they are on."""
    start = text.split("\n")[0][:24]
    for name, source in sources.items():
        index = source.find(start)
        if index >= 0:
            return name, source.count("\n", 0, index) + 1
    return NOWHERE


def marked(template: Catalog) -> None:
    """The texts the code marks, into ``template``."""
    found = extract_from_dir(
        str(SOURCE),
        method_map=[("**.py", "python")],
        keywords=DEFAULT_KEYWORDS,
        comment_tags=COMMENT_TAGS,
        strip_comment_tags=True,
    )
    for filename, lineno, message, comments, context in found:
        template.add(
            message,
            locations=[(f"src/flowmatrix/{filename}", lineno)],
            auto_comments=comments,
            context=context,
        )


def read_catalogs() -> Catalog:
    """The French catalog, ``flowmatrix.po``."""
    with PO.open("rb") as handle:
        return read_po(handle, locale="fr")


def missing(catalog: Catalog, template: Catalog) -> list[str]:
    """The template's texts the catalog leaves untranslated (or fuzzy)."""
    gaps = []
    for message in template:
        if not message.id:
            continue
        translated = catalog.get(message.id, message.context)
        strings = translated.string if translated is not None else None
        forms = strings if isinstance(strings, tuple) else (strings,)
        if translated is None or translated.fuzzy or not all(forms):
            where = ", ".join(f"{f}:{n}" for f, n in message.locations[:1])
            shown = message.id[0] if isinstance(message.id, tuple) else message.id
            gaps.append(f"{where}: {shown!r}")
    return gaps


def compiled(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def update() -> None:
    catalog = read_catalogs()
    catalog.update(extracted(), no_fuzzy_matching=True, update_header_comment=False)
    catalog.obsolete.clear()
    out = io.BytesIO()
    write_po(out, catalog, width=100, sort_by_file=True, include_previous=False)
    PO.write_bytes(out.getvalue())
    compile_mo()


def compile_mo() -> None:
    data = compiled(read_catalogs())
    temporary = MO.with_suffix(".mo.tmp")
    temporary.write_bytes(data)
    temporary.replace(MO)


def check() -> int:
    gaps = missing(read_catalogs(), extracted())
    for gap in gaps:
        print(f"untranslated: {gap}")
    return 1 if gaps else 0


def main(argv: list[str]) -> int:
    commands = {"update": update, "compile": compile_mo}
    if argv == ["check"]:
        return check()
    if len(argv) != 1 or argv[0] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    commands[argv[0]]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
