"""The catalog as plain data: the ``flowmatrix catalog`` JSON document and table rows.

It reads the validated catalog (all of it: features, endpoints, procedures), as the
``catalog`` command shows the catalog itself rather than a plan.
"""

from __future__ import annotations

from typing import Any

from flowmatrix.catalog import Catalog, Requirement, Text
from flowmatrix.i18n import Lang


def _english(text: Text | None) -> str | None:
    """A text the JSON contract keeps as a string: its English, as before it had French."""
    return text.en if text is not None else None


def requirement_to_dict(req: Requirement) -> dict[str, Any]:
    return {
        "id": req.id,
        "section": req.section,
        "ports": list(req.ports),
        "port_choice": req.port_choice,
        "default_port": req.default_port,
        "documented_protocol": req.documented_protocol,
        "protocols": list(req.protocols),
        "protocol_reason": _english(req.protocol_reason),
        "sources": list(req.sources),
        "destinations": list(req.destinations),
        "source_address": req.source_address,
        "destination_address": req.destination_address,
        "description": {"fr": req.description.fr, "en": req.description.en},
        "source_text": req.source_text,
        "notes": [{"fr": n.fr, "en": n.en} for n in req.notes],
        "reading": _english(req.reading),
        "condition": req.condition,
        "status": req.status,
        "flags": list(req.flags),
        "replacement": req.replacement.model_dump(mode="json") if req.replacement else None,
        "tls": req.tls,
        "service": req.service,
    }


def catalog_to_dict(catalog: Catalog, requirements: list[Requirement]) -> dict[str, Any]:
    """The ``flowmatrix catalog --format json`` document."""
    info = catalog.catalog
    return {
        "catalog": {
            "id": info.id,
            "title": {"fr": info.title.fr, "en": info.title.en},
            "product": info.product,
            "source": info.source,
            "date": info.date.isoformat(),
            "languages": list(info.languages),
        },
        "roles": [
            {
                "id": r.id,
                "name": {"fr": r.name.fr, "en": r.name.en},
                "aliases": list(r.aliases),
                "kind": r.kind,
                "modern_name": r.modern_name.model_dump() if r.modern_name else None,
                "endpoints": [e.model_dump(mode="json") for e in r.endpoints],
            }
            for r in catalog.roles
        ],
        "features": [
            {"id": f.id, "default": f.default, "description": f.description.model_dump()}
            for f in catalog.features
        ],
        "requirements": [requirement_to_dict(r) for r in requirements],
        "procedures": [p.model_dump(mode="json") for p in catalog.procedures],
    }


CATALOG_COLUMNS = (
    "id",
    "section",
    "ports",
    "protocols",
    "documented",
    "sources",
    "destinations",
    "condition",
    "status",
    "description",
    "reading",
)


def catalog_rows(
    catalog: Catalog, requirements: list[Requirement], lang: Lang
) -> list[dict[str, str]]:
    def names(role_ids: tuple[str, ...]) -> str:
        return ", ".join(catalog.role(r).name.get(lang) for r in role_ids)

    return [
        {
            "id": r.id,
            "section": r.section,
            "ports": (" | " if r.port_choice == "any" else ",").join(map(str, r.ports)),
            "protocols": "+".join(r.protocols),
            "documented": r.documented_protocol,
            "sources": names(r.sources),
            "destinations": names(r.destinations),
            "condition": r.condition or "-",
            "status": r.status,
            "description": r.description.get(lang),
            "reading": r.reading.get(lang) if r.reading else "",
        }
        for r in requirements
    ]
