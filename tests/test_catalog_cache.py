"""The shipped catalog, validated once and then read from the cache: same catalog, safe
against stale, corrupt or foreign entries."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from flowmatrix import catalog_cache
from flowmatrix.catalog import Catalog, load_catalog
from flowmatrix.catalog_cache import cache_key, cached


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FLOWMATRIX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FLOWMATRIX_NO_CACHE", raising=False)
    return tmp_path / "cache"


def validated() -> Catalog:
    load_catalog.cache_clear()
    os.environ["FLOWMATRIX_NO_CACHE"] = "1"
    try:
        return load_catalog()
    finally:
        del os.environ["FLOWMATRIX_NO_CACHE"]
        load_catalog.cache_clear()


def test_the_cached_catalog_is_the_validated_one(folder: Path) -> None:
    load_catalog.cache_clear()
    first = load_catalog()  # validates and stores
    [entry] = folder.glob("catalog-xenmobile-10-*.pickle")
    load_catalog.cache_clear()
    second = load_catalog()  # reads the entry
    assert second is not first
    assert second == first == validated()
    assert second.model_dump() == validated().model_dump()
    assert entry.stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o777 == 0o700


def test_a_corrupt_entry_is_ignored_and_replaced(folder: Path) -> None:
    calls: list[int] = []

    def build() -> Catalog:
        calls.append(1)
        return validated()

    key = cache_key(b"catalog bytes")
    assert isinstance(cached(Catalog, "t", key, build), Catalog)
    [entry] = folder.glob("t-*.pickle")
    blob = bytearray(entry.read_bytes())
    blob[-1] ^= 0xFF  # the payload no longer matches its digest
    entry.write_bytes(bytes(blob))
    assert cached(Catalog, "t", key, build) == validated()
    assert cached(Catalog, "t", key, build) == validated()
    assert len(calls) == 2  # built again once, then read from the rewritten entry


def test_an_entry_of_another_type_is_not_used(folder: Path) -> None:
    key = cache_key(b"x")
    cached(dict, "t", key, lambda: {"not": "a catalog"})  # the same name holds a dict
    assert cached(Catalog, "t", key, validated) == validated()


def test_the_key_follows_the_bytes_and_the_code(tmp_path: Path) -> None:
    source = tmp_path / "models.py"
    source.write_text("A = 1\n")
    one = cache_key(b"catalog", source)
    assert cache_key(b"catalog", source) == one
    assert cache_key(b"catalog!", source) != one
    source.write_text("A = 2\n")
    assert cache_key(b"catalog", source) != one


def test_a_folder_others_can_write_to_is_not_used(folder: Path) -> None:
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    calls: list[int] = []

    def build() -> Catalog:
        calls.append(1)
        return validated()

    key = cache_key(b"y")
    cached(Catalog, "t", key, build)
    cached(Catalog, "t", key, build)
    assert len(calls) == 2
    assert list(folder.iterdir()) == []


def test_an_unwritable_cache_still_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("FLOWMATRIX_CACHE_DIR", str(blocker / "cache"))
    assert cached(Catalog, "t", cache_key(b"z"), validated) == validated()


def test_no_cache_when_turned_off(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWMATRIX_NO_CACHE", "1")
    assert catalog_cache.cache_folder() is None
    cached(Catalog, "t", cache_key(b"w"), validated)
    assert not folder.exists()


def test_entries_hold_a_digest_then_a_pickle(folder: Path) -> None:
    cached(dict, "t", cache_key(b"v"), lambda: {"a": 1})
    [entry] = folder.glob("t-*.pickle")
    blob = entry.read_bytes()
    assert pickle.loads(blob[32:]) == {"a": 1}
