"""Where catalogs are: the shipped ones by id, a user's by file path, and their bytes
(standard library only: the plan cache checks a catalog's bytes without loading the
validated models)."""

from __future__ import annotations

from importlib import resources

from flowmatrix.i18n import N_
from flowmatrix.inputfile import read_input_bytes

DEFAULT_CATALOG = "xenmobile-10"


def available_catalogs() -> list[str]:
    """Ids of the catalogs shipped with flowmatrix."""
    folder = resources.files("flowmatrix") / "catalogs"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def is_catalog_file(ref: str) -> bool:
    """Whether a catalog reference names a file (else a shipped catalog's id)."""
    return ref.endswith((".yaml", ".yml")) or "/" in ref


def catalog_source(ref: str) -> bytes:
    """The bytes of the catalog ``ref`` names (a UserError, or an OSError for an unknown
    shipped id, when there are none to read)."""
    if is_catalog_file(ref):
        return read_input_bytes(ref, what=N_("YAML file"))
    if ref not in available_catalogs():
        raise FileNotFoundError(ref)
    return (resources.files("flowmatrix") / "catalogs" / f"{ref}.yaml").read_bytes()
