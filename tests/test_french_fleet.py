"""``fleet export/run``, ``merge`` and ``watch`` in French: words, reasons, counts, errors.

The JSON and CSV keep their codes; the generated files (inventory) stay English; the
remote probe's zipapp ships the language module and runs without a catalog.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from fleet.conftest import write_site
from fleet.results_factory import result_file, write
from flowmatrix.fleet.matrixdoc import render_matrix, summary_line
from flowmatrix.fleet.merge import merge
from flowmatrix.i18n import language
from flowmatrix.probe.results import state_label

APP, DB, WEB = "127.0.0.2", "127.0.0.3", "127.0.0.5"

# run_cli is the in-process CLI fixture of tests/conftest.py
RunCli = Any


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return write_site(tmp_path, APP, DB, "127.0.0.0/24")


def _results(tmp_path: Path) -> list[str]:
    app = write(
        tmp_path / "app1.json",
        [
            ("SITE-app-to-db.1", "app1", "db1", DB, 5432, "open"),
            ("SITE-app-to-db.1", "app1", "db1", DB, 5433, "closed"),
        ],
    )
    db = write(tmp_path / "db1.json", [("SITE-db-to-app.1", "db1", "app1", APP, 8443, "open")])
    return [str(app), str(db)]


# --- merge ------------------------------------------------------------------------------


def test_merge_table_in_french(run_cli: RunCli, site: Path, tmp_path: Path) -> None:
    done = run_cli("merge", *_results(tmp_path), "--site", str(site), "--lang", "fr")
    assert done.code == 1
    out = done.stdout
    assert "fleet lab : matrice des flux" in out
    for word in ("échoué", "réussi", "non testé"):
        assert word in out
    with language("fr"):
        closed = state_label("closed")  # the probe's word for the state (its own catalog)
    assert f"tcp/5433 depuis app1 vers 127.0.0.3 : {closed} : closed (test)" in out
    assert "1 port sur 1 ouvert depuis db1" in out
    assert "aucun résultat depuis admins" in out
    for english in ("flow matrix", "passed", "failed", "not_tested", "open from", "no results"):
        assert english not in out
    assert "3 flux : 1 réussi, 1 échoué, 0 incomplet, 1 non testé" in done.stderr
    assert "passed" not in done.stderr


def test_merge_json_keeps_codes_and_speaks_french(
    run_cli: RunCli, site: Path, tmp_path: Path
) -> None:
    out = tmp_path / "matrix.json"
    done = run_cli("merge", *_results(tmp_path), "--site", str(site), "-o", str(out), "-l", "fr")
    assert done.code == 1
    flows = {f["flow"]: f for f in json.loads(out.read_text())["flows"]}
    assert {k: f["status"] for k, f in flows.items()} == {
        "SITE-app-to-db.1": "failed",
        "SITE-db-to-app.1": "passed",
        "SITE-admin-to-app.1": "not_tested",
    }
    assert flows["SITE-db-to-app.1"]["reason"] == "1 port sur 1 ouvert depuis db1"
    assert flows["SITE-admin-to-app.1"]["reason"] == "aucun résultat depuis admins"
    assert flows["SITE-app-to-db.1"]["checks"][0]["status"] == "failed"


def test_merge_csv_keeps_the_status_codes(run_cli: RunCli, site: Path, tmp_path: Path) -> None:
    done = run_cli(
        "merge", *_results(tmp_path), "--site", str(site), "--format", "csv", "--lang", "fr"
    )
    assert done.stdout.splitlines()[0].startswith("flow,requirement,source,")
    assert ",failed," in done.stdout and ",passed," in done.stdout and ",not_tested," in done.stdout
    assert "aucun résultat depuis admins" in done.stdout


def test_merge_plural_counts_and_warnings(tmp_path: Path) -> None:
    from flowmatrix.api import load_plan

    site_file = write_site(tmp_path, APP, DB, "127.0.0.0/24", web=WEB)
    plan = load_plan(site_file)
    rows = [
        ("SITE-db-to-app.1", "db1", "app1", APP, 8443, "open"),
        ("SITE-web-to-app.1", "web1", "app1", APP, 8443, "open"),
        ("SITE-nope.1", "web1", "app1", APP, 8443, "open"),
        ("SITE-app-to-db.1", "db1", "db1", DB, 5432, "open"),
    ]
    with language("fr"):
        matrix = merge(plan, [result_file(rows, path="r.json")])
        line = summary_line(matrix)
        table = render_matrix(matrix, "table", "fr", width=200, color=False)
    assert line == "4 flux : 2 réussis, 0 échoué, 0 incomplet, 2 non testés"
    assert "résultats pour 1 flux absent du plan : SITE-nope.1" in matrix.warnings
    assert any("qui n'est pas l'un de ses hôtes source : ignoré" in w for w in matrix.warnings)
    assert "les 1 ports" not in table and "non testé" in table


def test_merge_incomplete_reason_in_french(tmp_path: Path) -> None:
    from flowmatrix.api import load_plan

    plan = load_plan(write_site(tmp_path, APP, DB, "127.0.0.0/24"))
    rows = [("SITE-app-to-db.1", "app1", "db1", DB, 5432, "open|filtered")]
    with language("fr"):
        matrix = merge(plan, [result_file(rows)])
        shown = state_label("open|filtered")
        flow = next(f for f in matrix.flows if f.flow.id == "SITE-app-to-db.1")
        details = [c.detail for c in flow.as_checks()]
        untested = next(f for f in matrix.flows if f.flow.id == "SITE-db-to-app.1")
        untested_details = [c.detail for c in untested.as_checks()]
    assert flow.status == "incomplete"
    assert flow.reason == f"tcp/5432 depuis app1 : {shown} ; tcp/5433 non testé depuis app1"
    assert details == [f"app1 -> 5432 non concluant ({shown})"]
    assert untested_details == ["non testé (aucun résultat depuis db1)"]


def test_merge_errors_in_french(run_cli: RunCli, site: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "flowmatrix-matrix/1"}')
    done = run_cli("merge", str(bad), "--site", str(site), "--lang", "fr")
    assert done.code == 2
    assert "ce n'est pas un document de résultats de verify" in done.stderr
    assert "(piste : donnez les fichiers JSON écrits par « flowmatrix verify" in done.stderr
    assert "not a verify result document" not in done.stderr
    bad.write_text('{"format": "flowmatrix-verify/1", "results": [{"flow": 1}]}')
    done = run_cli("merge", str(bad), "--site", str(site), "--lang", "fr")
    assert "results[0] : 'source' est absent ou n'a pas le bon type" in done.stderr
    done = run_cli("merge", str(tmp_path / "nope.json"), "--site", str(site), "--lang", "fr")
    assert done.code == 2 and "fichier introuvable" in done.stderr
    done = run_cli("merge", str(tmp_path), "--site", str(site), "--lang", "fr")
    assert "est un dossier (piste : donnez les fichiers de résultats" in done.stderr
    app = write(tmp_path / "app1.json", [("SITE-app-to-db.1", "app1", "db1", DB, 5432, "open")])
    done = run_cli("merge", str(app), "--lang", "fr")  # the embedded example's plan
    assert done.code == 2
    assert "aucun des résultats ne porte sur un flux de ce plan" in done.stderr
    assert "donnez le fichier de site à partir duquel" in done.stderr


def test_lang_from_the_environment(site: Path, tmp_path: Path) -> None:
    env = {**os.environ, "LANG": "fr_FR.UTF-8"}
    done = subprocess.run(
        [sys.executable, "-m", "flowmatrix", "merge", *_results(tmp_path), "--site", str(site)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "3 flux : 1 réussi, 1 échoué, 0 incomplet, 1 non testé" in done.stderr
    assert "réussi" in done.stdout and "passed" not in done.stdout


# --- fleet export / run -------------------------------------------------------------------


def test_export_in_french_inventory_in_english(run_cli: RunCli, site: Path, tmp_path: Path) -> None:
    out = tmp_path / "fleet"
    done = run_cli("fleet", "export", str(site), "-o", str(out), "--lang", "fr")
    assert done.code == 0, done.stderr
    assert f"{out} : 5 fichiers écrits, les autres étaient déjà à jour" in done.stdout
    assert "2 hôtes sources dans 2 groupes : app_server, db_server" in done.stdout
    assert "2 plans, 2 flux à sonder en tout" in done.stdout
    assert "admins laissé de côté : ses adresses sont des réseaux" in done.stdout
    assert "file(s) written" not in done.stdout and "left out" not in done.stdout
    inventory = (out / "inventory.yml").read_text()
    assert "#   admins: its addresses are networks" in inventory
    assert "réseaux" not in inventory
    again = run_cli("fleet", "export", str(site), "-o", str(out), "--lang", "fr")
    assert f"{out} : 0 fichier écrit" in again.stdout


def test_export_errors_in_french(run_cli: RunCli, site: Path, tmp_path: Path) -> None:
    done = run_cli("fleet", "export", str(site), "-o", str(tmp_path / "a" / "b"), "--lang", "fr")
    assert done.code == 2
    assert (
        "son dossier parent n'existe pas (piste : créez d'abord le dossier parent)" in done.stderr
    )
    (tmp_path / "file").write_text("")
    done = run_cli("fleet", "export", str(site), "-o", str(tmp_path / "file"), "--lang", "fr")
    assert "existe et n'est pas un dossier (piste : donnez un dossier à -o)" in done.stderr
    site.write_text(
        site.read_text()
        .replace("  - {name: app-to-db, source: app1, destination: db1, ports: [5432, 5433]}\n", "")
        .replace("  - {name: db-to-app, source: db1, destination: app1, ports: [8443]}\n", "")
    )
    done = run_cli("fleet", "export", str(site), "-o", str(tmp_path / "out"), "--lang", "fr")
    assert done.code == 2
    assert (
        "aucun hôte source sur lequel Ansible puisse s'exécuter (admins : ses adresses sont des "
        "réseaux" in done.stderr
    )
    assert "(piste : donnez aux hôtes sources une adresse unique ou un fqdn" in done.stderr


def test_run_without_ansible_in_french(
    run_cli: RunCli, site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python3"))
    monkeypatch.setenv("PATH", str(tmp_path))
    done = run_cli("fleet", "run", str(site), "-w", str(tmp_path / "w"), "--lang", "fr")
    assert done.code == 2
    assert "ansible-playbook n'est pas installé" in done.stderr
    assert "(piste : pip install 'flowmatrix[fleet]' (il installe ansible-core))" in done.stderr
    assert "fleet : 2 hôtes sources" not in done.stderr  # the error comes before the run notes


def test_run_with_unreachable_hosts_in_french(site: Path, tmp_path: Path) -> None:
    pytest.importorskip("ansible")
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_HOME": str(tmp_path / "ansible"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible" / "tmp"),
            "ANSIBLE_CONFIG": str(tmp_path / "ansible.cfg"),
        }
    )
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    command = [sys.executable, "-m", "flowmatrix", "fleet", "run", str(site), "--lang", "fr"]
    command += ["--", "-e", "ansible_port=1", "-e", "ansible_ssh_retries=0"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1, done.stderr
    err = done.stderr
    assert "fleet : 2 hôtes sources, playbook dans" in err
    assert "fleet : admins laissé de côté : ses adresses sont des réseaux" in err
    assert "fleet : ansible-playbook a pris" in err
    assert "app1 (injoignable), db1 (injoignable)" in err
    assert "leurs flux apparaissent comme non testés ou incomplets" in err
    assert "3 flux : 0 réussi, 0 échoué, 0 incomplet, 3 non testés" in err
    assert "some hosts failed" not in err


def test_the_zipapp_ships_i18n_and_runs_in_english_without_a_catalog(tmp_path: Path) -> None:
    from flowmatrix.fleet.bundle import build_bundle

    bundle = build_bundle()
    names = zipfile.ZipFile(io.BytesIO(bundle.data)).namelist()
    assert "flowmatrix/i18n.py" in names
    assert not any(name.endswith(".mo") for name in names)
    probe = tmp_path / "probe.pyz"
    probe.write_bytes(bundle.data)
    done = subprocess.run(
        [sys.executable, str(probe)],
        capture_output=True,
        text=True,
        env={**os.environ, "LANG": "fr_FR.UTF-8"},
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr == "flowmatrix probe: error: --plan and --from are required\n"


# --- watch ------------------------------------------------------------------------------


def test_watch_errors_in_french(run_cli: RunCli, site: Path, tmp_path: Path) -> None:
    done = run_cli("watch", str(site), "--interval", "soon", "--lang", "fr")
    assert done.code == 2
    assert "--interval 'soon' : ce n'est pas une durée (piste : p. ex. 60s, 5m" in done.stderr
    done = run_cli("watch", str(site), "--textfile", str(tmp_path / "m.prom"), "--lang", "fr")
    assert "--textfile s'emploie avec --once (piste : cron" in done.stderr
    done = run_cli("watch", str(site), "--listen", "nowhere", "--lang", "fr")
    assert "--listen 'nowhere' : ce n'est pas ADRESSE:PORT (piste : p. ex." in done.stderr
    done = run_cli("watch", str(site), "--listen", "192.0.2.1:9742", "--lang", "fr")
    assert (
        "192.0.2.1 n'est pas une adresse de cet hôte (piste : adresses de cet hôte" in done.stderr
    )


def test_watch_alert_rules_note_in_french(run_cli: RunCli, site: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    done = run_cli("watch", str(site), "--alert-rules", str(rules), "--lang", "fr")
    assert done.code == 0, done.stderr
    assert f"règles d'alerte pour --interval 60s écrites dans {rules}" in done.stderr
    assert "FlowmatrixFlowDown" in rules.read_text()  # the rules file itself: Prometheus's


def test_watch_worker_logs_in_the_run_language() -> None:
    """The cycles run in a worker thread: it speaks the language of the run."""
    from flowmatrix.watch.loop import WatchLoop

    events: list[dict[str, Any]] = []

    class Watcher:
        settings = SimpleNamespace(interval=0.01, jitter=0.0)

        def log(self, event: dict[str, Any]) -> None:
            events.append(event)
            loop.stop()

        def cycle_or_log(self) -> SimpleNamespace:
            return SimpleNamespace(duration=0.5)

    loop = WatchLoop(Watcher(), lambda cycle: None)  # type: ignore[arg-type]
    with language("fr"):
        loop.run()
    assert events[0]["event"] == "slow_cycle"
    assert events[0]["error"] == (
        "le cycle a duré 0.50s, plus que l'--interval de 0.01s : le suivant démarre aussitôt"
    )
