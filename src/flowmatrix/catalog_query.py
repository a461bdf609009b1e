"""Filters and listings over a catalog."""

from __future__ import annotations

from collections.abc import Callable

from flowmatrix.catalog import Catalog, Requirement
from flowmatrix.errors import UserError
from flowmatrix.i18n import Lang, _, language, pgettext


def resolve_role(catalog: Catalog, text: str) -> str:
    """A role id from an id, a name or an alias (case-insensitive)."""
    wanted = text.casefold()
    for role in catalog.roles:
        names = (role.id, role.name.fr, role.name.en, *role.aliases)
        if any(n.casefold() == wanted for n in names):
            return role.id
    raise UserError(
        _("unknown role {role!r}").format(role=text),
        hint=_("see 'flowmatrix catalog --roles' for ids, names and aliases"),
    )


def filter_requirements(
    catalog: Catalog,
    *,
    ports: list[int] | None = None,
    roles: list[str] | None = None,
    section: str | None = None,
    search: str | None = None,
) -> list[Requirement]:
    """Requirements matching every given filter."""
    section_ids = {s.id for s in catalog.sections}
    if section is not None and section not in section_ids:
        raise UserError(
            _("unknown section {section!r}").format(section=section),
            hint=_("sections: {sections}").format(sections=", ".join(sorted(section_ids))),
        )
    role_ids = {resolve_role(catalog, r) for r in roles or ()}
    needle = search.casefold() if search else None
    found = []
    for req in catalog.requirements:
        if ports and not set(ports) & set(req.ports):
            continue
        if role_ids and not role_ids & {*req.sources, *req.destinations}:
            continue
        if section is not None and req.section != section:
            continue
        if needle is not None:
            texts = (
                req.id,
                req.description.fr,
                req.description.en,
                req.source_text,
                *(n.fr for n in req.notes),
                *(n.en for n in req.notes),
                *((req.reading.fr, req.reading.en) if req.reading else ()),
            )
            if not any(needle in t.casefold() for t in texts):
                continue
        found.append(req)
    return found


#: The kinds of role, as the role listing words them.
ROLE_KINDS: dict[str, Callable[[], str]] = {
    "server": lambda: pgettext("role kind", "server"),
    "appliance": lambda: pgettext("role kind", "appliance"),
    "client": lambda: pgettext("role kind", "client"),
    "external": lambda: pgettext("role kind", "external"),
    "network": lambda: pgettext("role kind", "network"),
}


#: Whether a feature is on by default, as the feature listing words it.
DEFAULTS: dict[str, Callable[[], str]] = {
    "on": lambda: pgettext("feature", "on"),
    "off": lambda: pgettext("feature", "off"),
}


def worded(rows: list[dict[str, str]], lang: Lang) -> list[dict[str, str]]:
    """Rows of ``role_rows`` or ``feature_rows`` for people: their codes (a role's kind,
    a feature's default) in ``lang``; JSON keeps the codes."""
    with language(lang):
        return [{key: _word(key, value) for key, value in row.items()} for row in rows]


def _word(key: str, value: str) -> str:
    table = ROLE_KINDS if key == "kind" else DEFAULTS if key == "default" else {}
    said = table.get(value)
    return value if said is None else said()


def role_rows(catalog: Catalog, lang: Lang) -> tuple[list[dict[str, str]], list[str]]:
    rows = [
        {
            "id": r.id,
            "name": r.name.get(lang),
            "kind": r.kind,
            "aliases": "; ".join(r.aliases),
            "modern_name": r.modern_name.get(lang) if r.modern_name else "",
            "endpoints": ", ".join(e.fqdn or ", ".join(e.addresses) for e in r.endpoints),
        }
        for r in catalog.roles
    ]
    return rows, ["id", "name", "kind", "aliases", "modern_name", "endpoints"]


def feature_rows(catalog: Catalog, lang: Lang) -> tuple[list[dict[str, str]], list[str]]:
    rows = [
        {
            "id": f.id,
            "default": "on" if f.default else "off",
            "description": f.description.get(lang),
        }
        for f in catalog.features
    ]
    return rows, ["id", "default", "description"]
