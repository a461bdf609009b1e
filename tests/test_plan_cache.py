"""A site's plan, computed once and then read from the cache: the same plan, never a stale one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flowmatrix.api import example_text, load_plan
from flowmatrix.catalog import catalog_source, load_catalog
from flowmatrix.errors import UserError
from flowmatrix.export import plan_to_dict
from flowmatrix.model import Plan


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FLOWMATRIX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FLOWMATRIX_NO_CACHE", raising=False)
    return tmp_path / "cache"


def planned_afresh(
    monkeypatch: pytest.MonkeyPatch, site: str | Path | None, lang: str = "en"
) -> Plan:
    with monkeypatch.context() as patch:
        patch.setenv("FLOWMATRIX_NO_CACHE", "1")
        return load_plan(site, lang=lang)  # type: ignore[arg-type]


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("plan-*.pickle"))


def test_the_cached_plan_is_the_planned_one(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_plan(None)  # plans and stores
    [entry] = entries(folder)
    second = load_plan(None)  # reads the entry
    assert second is not first
    assert (
        plan_to_dict(second)
        == plan_to_dict(first)
        == plan_to_dict(planned_afresh(monkeypatch, None))
    )
    assert second.site == first.site and second.catalog == first.catalog
    assert entry.stat().st_mode & 0o777 == 0o600


def test_each_language_and_example_has_its_own_entry(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    english = load_plan("example:small-office")
    french = load_plan("example:small-office", lang="fr")
    assert len(entries(folder)) == 2
    assert plan_to_dict(load_plan("example:small-office", lang="fr")) == plan_to_dict(french)
    assert plan_to_dict(french) == plan_to_dict(
        planned_afresh(monkeypatch, "example:small-office", "fr")
    )
    assert plan_to_dict(english) != plan_to_dict(french)


def test_an_edited_site_is_planned_again(folder: Path, tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(example_text("small-office"))
    before = load_plan(site)
    site.write_text(example_text("small-office").replace("name: ", "name: x", 1))
    after = load_plan(site)
    assert after.site.name != before.site.name
    assert len(entries(folder)) == 2


def test_a_plan_is_not_used_once_its_catalog_changed(folder: Path, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.yaml"
    shipped = catalog_source("xenmobile-10").decode()
    catalog.write_text(shipped)
    site = tmp_path / "site.yaml"
    site.write_text(
        example_text("small-office").replace("catalog: xenmobile-10", "catalog: catalog.yaml")
    )
    before = load_plan(site)
    assert {tuple(f.ports) for f in before.flows if f.requirement == "XM-APP-02"} == {(53,)}
    load_catalog.cache_clear()  # as a new process: the catalog file is read again
    catalog.write_text(
        shipped.replace(
            "  - id: XM-APP-02\n    section: apps\n    ports: [53]",
            "  - id: XM-APP-02\n    section: apps\n    ports: [5353]",
        )
    )
    try:
        after = load_plan(site)
    finally:
        load_catalog.cache_clear()
    assert {tuple(f.ports) for f in after.flows if f.requirement == "XM-APP-02"} == {(5353,)}
    catalog.unlink()
    with pytest.raises(UserError, match="no such file"):  # gone: the load says why
        load_plan(site)


def test_a_bad_site_is_never_stored(folder: Path, tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("version: 1\nname: x\nzones: []\n")
    for _ in range(2):
        with pytest.raises(UserError) as raised:
            load_plan(site)
        assert raised.value.line is not None
    assert entries(folder) == []


def test_a_missing_site_is_a_located_error(folder: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file"):
        load_plan(tmp_path / "absent.yaml")


def test_no_entry_when_the_cache_is_off(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWMATRIX_NO_CACHE", "1")
    load_plan(None)
    assert not folder.exists()


def test_a_corrupt_entry_is_planned_again(folder: Path) -> None:
    first = load_plan(None)
    [entry] = entries(folder)
    blob = bytearray(entry.read_bytes())
    blob[-1] ^= 0xFF
    entry.write_bytes(bytes(blob))
    assert plan_to_dict(load_plan(None)) == plan_to_dict(first)


def test_the_command_writes_the_same_json_from_the_cache(folder: Path, tmp_path: Path) -> None:
    outputs = []
    for run in range(2):
        out = tmp_path / f"plan{run}.json"
        subprocess.run(
            [sys.executable, "-m", "flowmatrix", "plan", "-f", "json", "-o", str(out)],
            check=True,
            capture_output=True,
        )
        outputs.append(out.read_bytes())
    assert len(entries(folder)) == 1
    assert outputs[0] == outputs[1]
