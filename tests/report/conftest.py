"""Fixtures of the report tests: plans, results files, a hostile site, a browser."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from report_support import ARTIFACTS, HOSTILE, HOSTILE_TEXT, STATES, skip_or_fail, verify_document
from report_webdriver import Chromium, missing_browser

from flowmatrix.api import load_plan
from flowmatrix.catalog import Catalog, load_catalog
from flowmatrix.model import Plan


@pytest.fixture(scope="session")
def plan() -> Plan:
    """The embedded default example."""
    return load_plan(None)


@pytest.fixture(scope="session")
def plan_fr() -> Plan:
    return load_plan(None, lang="fr")


@pytest.fixture(scope="session")
def verify_file(plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("results") / "verify.json"
    path.write_text(json.dumps(verify_document(plan, STATES)), "utf-8")
    return path


def _hostile_catalog() -> dict[str, Any]:
    def text(label: str) -> dict[str, str]:
        return {"fr": f"{label} fr {HOSTILE_TEXT}", "en": f"{label} en {HOSTILE_TEXT}"}

    def requirement(req_id: str, port: int, src: str, dst: str, **extra: Any) -> dict[str, Any]:
        return {
            "id": req_id,
            "section": "main",
            "ports": [port],
            "port_choice": "all",
            "documented_protocol": "TCP",
            "protocols": ["tcp"],
            "sources": [src],
            "destinations": [dst],
            "description": text(req_id),
            "source_text": f"{port}\n{HOSTILE_TEXT}\n</blockquote></dd>",
            "reading": HOSTILE["script"],
            **extra,
        }

    return {
        "catalog": {
            "id": "hostile",
            "title": text("title"),
            "product": HOSTILE["script"],
            "source": HOSTILE["img"],
            "date": "2020-01-02",
        },
        "sections": [{"id": "main", "number": 1, "title": text("section")}],
        "roles": [
            {"id": "evil-client", "name": text("client"), "kind": "client"},
            {"id": "evil-server", "name": text("server"), "kind": "server"},
            {
                "id": "evil-cloud",
                "name": text("cloud"),
                "kind": "external",
                "default_zone": "internet",
                "endpoints": [{"fqdn": "cloud.example.net", "addresses": ["198.51.100.0/24"]}],
            },
        ],
        "features": [],
        "requirements": [
            requirement("EV-01", 443, "evil-client", "evil-server"),
            requirement(
                "EV-02",
                8443,
                "evil-server",
                "evil-cloud",
                status="obsolete",
                replacement={"description": text("replacement")},
            ),
            requirement("EV-03", 5000, "evil-server", "evil-server"),
        ],
    }


def _hostile_site(catalog_path: Path) -> dict[str, Any]:
    return {
        "version": 1,
        "name": f"Site {HOSTILE_TEXT}",
        "description": HOSTILE_TEXT,
        "catalog": str(catalog_path),
        "zones": [
            {"name": "internet", "internet": True, "description": HOSTILE_TEXT},
            {"name": "lan.a-b_c", "cidrs": ["10.1.0.0/16"]},
            {"name": "srv", "cidrs": ["10.2.0.0/16"]},
        ],
        "firewalls": [
            {"name": "fw.edge-1", "zones": ["internet", "srv"], "description": HOSTILE_TEXT},
            {"name": "fw_inner", "zones": ["lan.a-b_c", "srv"]},
        ],
        "hosts": [
            {
                "name": "client-net",
                "role": "evil-client",
                "addresses": ["10.1.0.0/16"],
                "description": HOSTILE_TEXT,
            },
            {"name": "srv1", "role": "evil-server", "addresses": ["10.2.0.10"]},
            {"name": "srv2", "role": "evil-server", "addresses": ["10.2.0.11"]},
        ],
        "flows": [
            {
                "name": "evil.flow",
                "source": "evil-client",
                "destination": "srv1",
                "ports": [9999],
                "description": HOSTILE_TEXT,
            },
        ],
    }


@pytest.fixture(scope="session")
def hostile_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A custom catalog and a site full of hostile texts (JSON is YAML too)."""
    folder = tmp_path_factory.mktemp("hostile")
    catalog_path = folder / "hostile-catalog.yaml"
    catalog_path.write_text(json.dumps(_hostile_catalog(), indent=1), "utf-8")
    site_path = folder / "hostile-site.yaml"
    site_path.write_text(json.dumps(_hostile_site(catalog_path), indent=1), "utf-8")
    return site_path, catalog_path


@pytest.fixture(scope="session")
def hostile_catalog(hostile_files: tuple[Path, Path]) -> Catalog:
    return load_catalog(str(hostile_files[1]))


@pytest.fixture(scope="session")
def hostile_plan(hostile_files: tuple[Path, Path], hostile_catalog: Catalog) -> Plan:
    return load_plan(hostile_files[0], catalog=hostile_catalog)


@pytest.fixture(scope="session")
def hostile_results(hostile_plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile-results") / "verify.json"
    document = verify_document(hostile_plan, ["closed", "open"], reason=HOSTILE_TEXT)
    path.write_text(json.dumps(document), "utf-8")
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Chromium]:
    reason = missing_browser()
    if reason is not None:
        skip_or_fail(f"browser test: {reason}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with Chromium(width=1400, height=1000, log_dir=ARTIFACTS) as chromium:
        yield chromium


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
