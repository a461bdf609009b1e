"""The Python API behind the CLI: load a site, build its plan.

>>> from flowmatrix.api import load_plan
>>> plan = load_plan(None)            # the embedded default example
>>> len(plan.flows) > 0
True
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from flowmatrix.collector import collector_paused
from flowmatrix.documents import site_digest
from flowmatrix.errors import UserError
from flowmatrix.i18n import N_, Lang, _, language
from flowmatrix.inputfile import read_input_bytes
from flowmatrix.model import Plan

if TYPE_CHECKING:  # the models and the YAML reader load only when a site is read, not
    # when the plan cache holds its plan
    from flowmatrix.catalog import Catalog
    from flowmatrix.site import Site
    from flowmatrix.yamlio import YamlDocument

DEFAULT_EXAMPLE = "default"


@dataclass(frozen=True)
class LoadedSite:
    """A validated site with the catalog it names and where it came from."""

    site: Site
    catalog: Catalog
    document: YamlDocument
    path: str | None
    """The file, or None for an embedded example."""
    catalog_ref: str | None = None
    """The catalog id or file the site was checked against (None: a Catalog was given)."""
    warnings: tuple[str, ...] = ()
    """Likely mistakes in the site, each located (what ``sitecheck.check_site`` returns)."""
    digest: str | None = None
    """``sha256:<hex>`` of the site file's bytes."""


def example_names() -> list[str]:
    """Names of the example sites shipped with flowmatrix."""
    folder = resources.files("flowmatrix") / "examples"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def example_text(name: str = DEFAULT_EXAMPLE) -> str:
    """The YAML text of a shipped example site."""
    if name not in example_names():
        raise UserError(
            _("unknown example {name!r}").format(name=name),
            hint=_("examples: {names}").format(names=", ".join(example_names())),
        )
    return (resources.files("flowmatrix") / "examples" / f"{name}.yaml").read_text("utf-8")


def _site_source(path: str | Path | None) -> tuple[bytes, str, str | None]:
    """The site's bytes, the name its messages use, and its file (None: an example)."""
    if path is None or str(path).startswith("example:"):
        name = DEFAULT_EXAMPLE if path is None else str(path).removeprefix("example:")
        return example_text(name).encode(), f"<example:{name}>", None
    try:
        raw = read_input_bytes(path, what=N_("YAML file"))
    except UserError as exc:
        exc.file = str(path)
        raise
    return raw, str(path), str(path)


def _catalog_ref(site: Site, catalog: str | None, shown: str | None) -> str:
    ref = catalog or site.catalog
    if catalog is None and shown is not None and ref.endswith((".yaml", ".yml")):
        ref = str(Path(shown).parent / ref)  # a site's catalog file is beside the site
    return ref


def _load_site_bytes(
    raw: bytes, name: str, shown: str | None, catalog: Catalog | str | None
) -> LoadedSite:
    with collector_paused():  # the site's nodes and models: many objects, no cycles
        return _read_site(raw, name, shown, catalog)


def _read_site(
    raw: bytes, name: str, shown: str | None, catalog: Catalog | str | None
) -> LoadedSite:
    from flowmatrix.catalog import Catalog, load_catalog
    from flowmatrix.site import Site
    from flowmatrix.sitecheck import check_site
    from flowmatrix.yamlio import parse_yaml_bytes

    document = parse_yaml_bytes(raw, name)
    site = document.validate(Site)
    ref: str | None = None
    if isinstance(catalog, Catalog):
        resolved = catalog
    else:
        ref = _catalog_ref(site, catalog, shown)
        try:
            resolved = load_catalog(ref)
        except UserError as exc:
            if catalog is None and exc.file is None:
                raise document.error(["catalog"], exc.message, exc.hint) from None
            raise
    warnings = check_site(document, site, resolved)
    own = site.with_own_roles(resolved)
    return LoadedSite(site, own, document, shown, ref, warnings, site_digest(raw))


def site_from_text(text: str, name: str) -> LoadedSite:
    """A site given as text (``name`` for its messages), validated and cross-checked."""
    return _load_site_bytes(text.encode(), name, name, None)


def load_site(path: str | Path | None, catalog: Catalog | str | None = None) -> LoadedSite:
    """Read, validate and cross-check a site file (None: the embedded default example).

    ``path`` may also be ``example:NAME`` for another shipped example.
    """
    return _load_site_bytes(*_site_source(path), catalog)


def load_plan(
    site_path: str | Path | None = None,
    lang: Lang = "en",
    catalog: Catalog | str | None = None,
) -> Plan:
    """Load a site and resolve it into its plan (from the plan cache when it holds it).

    The plan's texts (warnings, reasons) and the errors are in ``lang``."""
    with language(lang):
        if catalog is not None and not isinstance(catalog, str):  # a Catalog object
            return _plan_of(load_site(site_path, catalog), lang)
        from flowmatrix.plan_cache import cached_plan, plan_key, store_plan

        raw, name, shown = _site_source(site_path)
        key = plan_key(raw, name, lang, catalog)
        found = cached_plan(key)
        if found is not None:
            return found
        loaded = _load_site_bytes(raw, name, shown, catalog)
        plan = _plan_of(loaded, lang)
        if loaded.catalog_ref is not None:
            store_plan(key, loaded.catalog_ref, plan)
        return plan


def _plan_of(loaded: LoadedSite, lang: Lang) -> Plan:
    from flowmatrix.plan import TooManyFlowPorts, build_plan

    try:
        with collector_paused():  # flows, ports and hosts: many objects, no cycles
            plan = build_plan(loaded.site, loaded.catalog, lang=lang, site_file=loaded.path)
    except TooManyFlowPorts as exc:  # located in the site file: the flow, or its hosts
        raise loaded.document.error(exc.site_path, exc.message, exc.hint) from None
    return replace(plan, warnings=(*loaded.warnings, *plan.warnings), site_digest=loaded.digest)
