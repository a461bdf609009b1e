"""The Python API behind the CLI: load a site, build its plan.

>>> from flowmatrix.api import load_plan
>>> plan = load_plan(None)            # the embedded default example
>>> len(plan.flows) > 0
True
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from flowmatrix.catalog import Catalog, Lang, load_catalog
from flowmatrix.errors import UserError
from flowmatrix.model import Plan
from flowmatrix.plan import build_plan
from flowmatrix.site import Site
from flowmatrix.sitecheck import check_site
from flowmatrix.yamlio import YamlDocument, load_yaml, parse_yaml_bytes

DEFAULT_EXAMPLE = "default"


@dataclass(frozen=True)
class LoadedSite:
    """A validated site with the catalog it names and where it came from."""

    site: Site
    catalog: Catalog
    document: YamlDocument
    path: str | None
    """The file, or None for an embedded example."""


def example_names() -> list[str]:
    """Names of the example sites shipped with flowmatrix."""
    folder = resources.files("flowmatrix") / "examples"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def example_text(name: str = DEFAULT_EXAMPLE) -> str:
    """The YAML text of a shipped example site."""
    if name not in example_names():
        raise UserError(f"unknown example {name!r}", hint=f"examples: {', '.join(example_names())}")
    return (resources.files("flowmatrix") / "examples" / f"{name}.yaml").read_text("utf-8")


def load_site(path: str | Path | None, catalog: Catalog | str | None = None) -> LoadedSite:
    """Read, validate and cross-check a site file (None: the embedded default example).

    ``path`` may also be ``example:NAME`` for another shipped example.
    """
    if path is None or str(path).startswith("example:"):
        name = DEFAULT_EXAMPLE if path is None else str(path).removeprefix("example:")
        document = parse_yaml_bytes(example_text(name).encode(), f"<example:{name}>")
        shown: str | None = None
    else:
        document = load_yaml(path)
        shown = str(path)
    site = document.validate(Site)
    if isinstance(catalog, Catalog):
        resolved = catalog
    else:
        ref = catalog or site.catalog
        if catalog is None and shown is not None and ref.endswith((".yaml", ".yml")):
            ref = str(Path(shown).parent / ref)  # a site's catalog file is beside the site
        try:
            resolved = load_catalog(ref)
        except UserError as exc:
            if catalog is None and exc.file is None:
                raise document.error(["catalog"], exc.message, exc.hint) from None
            raise
    check_site(document, site, resolved)
    return LoadedSite(site, resolved, document, shown)


def load_plan(
    site_path: str | Path | None = None,
    lang: Lang = "en",
    catalog: Catalog | str | None = None,
) -> Plan:
    """Load a site and resolve it into its plan."""
    loaded = load_site(site_path, catalog)
    return build_plan(loaded.site, loaded.catalog, lang=lang, site_file=loaded.path)
