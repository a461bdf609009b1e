"""The language layer: every text a person reads goes through here (standard library only).

Source texts are English; the French catalog is ``locale/fr/LC_MESSAGES/flowmatrix.po``,
compiled into ``flowmatrix.mo`` beside it (``scripts/i18n`` extracts the texts with Babel,
updates the catalog and compiles it; the ``.mo`` ships in the wheel). At run time only
:mod:`gettext` is used, so the remote probe can ship this module as is.

Usage, in any module::

    from flowmatrix.i18n import _, N_, ngettext, pgettext

    _("blocked by {rule}").format(rule=name)       # translated now, in the current language
    ngettext("{n} flow", "{n} flows", n).format(n=n)
    COLUMN = N_("Source zone")                     # marked at import, translated at use: _(COLUMN)

Placeholders are named (``{rule}``), never positional, so a translation may reorder them.

The current language is a context variable: the CLI sets it once from ``--lang`` or the
environment (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``, as gettext reads them);
a function given a language for one document uses ``with language(lang):``.
"""

from __future__ import annotations

import gettext as _gettext
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Literal

#: The languages flowmatrix speaks; English is the source language.
Lang = Literal["fr", "en"]
LANGUAGES: tuple[Lang, ...] = ("en", "fr")
DOMAIN = "flowmatrix"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

#: The environment variables that name the language, in gettext's order.
ENVIRONMENT = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_current: ContextVar[Lang] = ContextVar("flowmatrix_language", default="en")
_catalogs: dict[Lang, _gettext.NullTranslations] = {}


def from_environment(environ: Mapping[str, str] | None = None) -> Lang:
    """The language the environment asks for: the first of ``ENVIRONMENT`` that is set
    (its first entry, for ``LANGUAGE``'s colon list), French if it is French, else English."""
    env = os.environ if environ is None else environ
    for name in ENVIRONMENT:
        value = env.get(name, "")
        if value:
            return _language_of(value.split(":")[0])
    return "en"


def _language_of(locale_name: str) -> Lang:
    code = locale_name.split(".")[0].split("@")[0].split("_")[0].split("-")[0].lower()
    return "fr" if code == "fr" else "en"


def use(lang: Lang) -> None:
    """Make ``lang`` the current language (the CLI does this once per run)."""
    _current.set(lang)


def current() -> Lang:
    return _current.get()


@contextmanager
def language(lang: Lang) -> Iterator[None]:
    """Speak ``lang`` inside the block (a report rendered in a language it was asked for)."""
    token = _current.set(lang)
    try:
        yield
    finally:
        _current.reset(token)


def catalog(lang: Lang) -> _gettext.NullTranslations:
    """The translations of ``lang``, read once (English, or a missing catalog: the source)."""
    found = _catalogs.get(lang)
    if found is None:
        found = _load(lang)
        _catalogs[lang] = found
    return found


def _load(lang: Lang) -> _gettext.NullTranslations:
    if lang == "en":
        return _gettext.NullTranslations()
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    try:
        with path.open("rb") as handle:
            return _gettext.GNUTranslations(handle)
    except OSError:  # a build without catalogs (the remote probe's zipapp): the source texts
        return _gettext.NullTranslations()


def _(message: str) -> str:
    """``message`` in the current language."""
    lang = _current.get()
    if lang == "en":
        return message
    return catalog(lang).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, by the current language's plural rule."""
    lang = _current.get()
    if lang == "en":
        return singular if n == 1 else plural
    return catalog(lang).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` as meant in ``context`` (one English word, two French ones)."""
    lang = _current.get()
    if lang == "en":
        return message
    return catalog(lang).pgettext(context, message)


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it: ``_()`` it where it is shown."""
    return message


def in_language(lang: Lang, message: str) -> str:
    """``message`` in ``lang``, whatever the current language."""
    return message if lang == "en" else catalog(lang).gettext(message)
