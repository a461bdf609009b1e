"""``verify`` and ``listen`` in French: tables, reasons, summaries, errors, live lines.

Every probe goes to the loopback lab of ``tests/probe`` (127.0.0.x) or to a port on
127.0.0.2 that nothing listens on.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flowmatrix.i18n import language
from flowmatrix.portset import PortSet
from flowmatrix.probe import listen_report
from flowmatrix.probe import verify_report as report
from flowmatrix.probe.icmp import IcmpError
from flowmatrix.probe.limits import open_files_for
from flowmatrix.probe.listen import FlowArrival, ListenEvent, ListenReport, bind_error
from flowmatrix.probe.results import TlsInfo
from flowmatrix.probe.scheduler import ProbeOptions
from flowmatrix.probe.tcp import classify
from flowmatrix.probe.verify import VerifyReport
from probe.conftest import Lab, lab  # noqa: F401  (the loopback lab fixture)
from probe.test_cli import lab_args
from probe.test_limits import many_ports_site
from probe.test_report import result

LAB_FLOWS = ("SITE-tcp-open", "SITE-tcp-closed", "SITE-dns", "SITE-syslog", "SITE-to-network")


def test_verify_table_and_summary_in_french(lab: Lab, run_cli: Any) -> None:  # noqa: F811
    done = run_cli(*lab_args(lab, *LAB_FLOWS), "--lang", "fr")
    assert done.code == 1, done.stderr  # the closed port is a required flow that fails
    table = done.stdout
    # headers, states as words, reasons
    assert "État" in table and "Raison" in table
    assert "ouvert" in table and "fermé" in table and "non sondé" in table
    assert "ouvert|filtré" in table
    assert "négociation TCP réussie avec 127.0.0.2:" in table
    assert "rien n'écoute sur 127.0.0.2:" in table
    assert "le serveur DNS a répondu (NXDOMAIN) : le chemin est ouvert" in table
    assert "un réseau (127.0.128.0/24), pas un hôte" in table
    assert "depuis cet hôte" in table
    for english in ("TCP handshake completed", "nothing listens", "not_probed", "from this host"):
        assert english not in table
    # the summary agrees with its counts (French: 0 and 1 singular)
    assert "5 sondes : 2 ouverts, 1 fermé, 1 ouvert|filtré, 1 non sondé ; 1 requis en échec" in (
        done.stderr
    )
    assert "probes:" not in done.stderr and "required failed" not in done.stderr


def test_verify_json_keeps_its_codes_and_speaks_french(lab: Lab, run_cli: Any) -> None:  # noqa: F811
    done = run_cli(
        *lab_args(lab, "SITE-tcp-open", "SITE-tcp-closed", "SITE-syslog"), "-f", "json", "-l", "fr"
    )
    document = json.loads(done.stdout)
    assert document["format"] == "flowmatrix-verify/1"
    states = {r["flow"]: r["state"] for r in document["results"]}
    assert states == {
        "SITE-tcp-open.1": "open",
        "SITE-tcp-closed.1": "closed",
        "SITE-syslog.1": "open|filtered",
    }
    assert document["summary"]["by_state"] == {"open": 1, "closed": 1, "open|filtered": 1}
    reasons = {r["flow"]: r["reason"] for r in document["results"]}
    assert reasons["SITE-tcp-open.1"].startswith("négociation TCP réussie")
    assert reasons["SITE-syslog.1"].startswith("aucune réponse en 0.5 s ; ce service")
    assert {c["status"] for c in document["checks"]} == {"proven", "failing", "depends"}
    assert any(" fermé (refusé par un reset TCP" in c["detail"] for c in document["checks"])
    assert document["source"] == "cet hôte"


def test_tls_and_dns_details_in_french(lab: Lab, run_cli: Any) -> None:  # noqa: F811
    # without --ca-file the lab's private CA is unknown: a note, in French
    done = run_cli("verify", str(lab.site), "--flow", "SITE-tls", "--timeout", "0.5", "-l", "fr")
    assert "certificat non reconnu par cet hôte" in done.stdout
    assert "donnez --ca-file" in done.stdout
    assert "hors des adresses documentées 127.0.0.3" in done.stdout  # localhost elsewhere
    assert "jusqu'au 3000-01-01" in done.stdout
    assert "note : " in done.stdout and "note: " not in done.stdout
    assert "not trusted" not in done.stdout


def test_findings_and_expected_failures_in_the_table() -> None:
    tls = TlsInfo(server_name="a.example", version="TLSv1.3", subject="CN=a", not_after="2020")
    results = (
        result("A.1", "open", tls=tls, findings=("le certificat a expiré",)),
        result("B.1", "filtered", required=False),
    )
    run = VerifyReport(results, "role xenmobile", (), ProbeOptions(), "site")
    table = report.to_table_text(run, "fr", width=250, color=True)
    assert "CONSTAT : le certificat a expiré" in table
    assert "(flux obsolète ou hérité : échec attendu)" in table
    assert "filtré" in table and "FINDING" not in table
    with language("fr"):
        summary = report.summary_line(run)
        junit = report.to_junit(run)
    assert summary == "2 sondes : 1 ouvert, 1 filtré ; 1 requis en échec ; 1 obsolète/hérité " + (
        "en échec (attendu)"
    )
    assert 'message="filtré: because filtered"' in junit
    # English stays the source text, byte for byte
    assert report.summary_line(run) == (
        "2 probes: 1 open, 1 filtered; 1 required failed; 1 obsolete/legacy failed (expected)"
    )


def test_probe_reasons_in_french() -> None:
    import errno

    with language("fr"):
        silent = classify(errno.ETIMEDOUT, None, "10.0.0.2", 443, 2, 1.5, 0.0)
        one = classify(errno.ETIMEDOUT, None, "10.0.0.2", 443, 1, 1.5, 0.0)
        prohibited = IcmpError(4, 3, 13, "10.0.0.254")
        refused = classify(errno.EHOSTUNREACH, prohibited, "10.0.0.2", 443, 1, 1.5, 0.3)
        local = classify(errno.EPERM, None, "10.0.0.2", 443, 1, 1.5, 0.3)
        busy = bind_error(errno.EADDRINUSE, "tcp", 8443, "0.0.0.0")
    assert silent.reason.startswith("aucune réponse à 2 tentatives de connexion en 1.5 s")
    assert one.reason.startswith("aucune réponse à 1 tentative de connexion en 1.5 s")
    assert refused.reason == (
        "ICMP destination injoignable : communication interdite administrativement (3/13) "
        "venant de 10.0.0.254 (un équipement sur le chemin) : un pare-feu refuse le flux"
    )
    assert local.reason.startswith("refusé par le pare-feu de cet hôte lui-même")
    assert busy.startswith("8443/tcp sur 0.0.0.0 : déjà utilisé par un autre programme")


def test_errors_and_hints_in_french(lab: Lab, run_cli: Any) -> None:  # noqa: F811
    done = run_cli("verify", str(lab.site), "--flow", "SITE-tcp-opn", "--lang", "fr")
    assert done.code == 2
    assert "aucun flux ni exigence 'SITE-tcp-opn' dans ce plan" in done.stderr
    assert "(piste : vouliez-vous dire 'SITE-tcp-open'" in done.stderr
    done = run_cli("verify", str(lab.site), "--from", "nobody", "--lang", "fr")
    assert "source inconnue 'nobody'" in done.stderr
    done = run_cli("verify", str(lab.site), "--resolver", "nowhere", "--lang", "fr")
    assert "résolveur invalide 'nowhere'" in done.stderr
    done = run_cli("listen", str(lab.site), "--as", "nobody", "--lang", "fr")
    assert "'nobody' n'est la destination d'aucun flux de ce plan" in done.stderr
    assert "hint" not in done.stderr


def test_the_open_files_message_in_french(monkeypatch: pytest.MonkeyPatch) -> None:
    from flowmatrix.errors import UserError

    def refuse(*_: object) -> None:
        raise ValueError("not allowed")

    monkeypatch.setattr(resource, "getrlimit", lambda _kind: (256, 256))
    monkeypatch.setattr(resource, "setrlimit", refuse)
    with language("fr"):
        with pytest.raises(UserError) as raised:
            open_files_for(300, 2, asked=True)
        text = str(raised.value)  # the hint's frame is worded when shown
    assert "--concurrency 300 demande" in text and "ce processus peut en ouvrir 256" in text
    assert "(limite stricte 256)" in text and "(piste : baissez --concurrency à" in text
    assert "needs" not in text


def test_listen_in_french(lab: Lab, run_cli: Any) -> None:  # noqa: F811
    args = ["listen", str(lab.site), "--as", "ntp1", "--duration", "0.2", "--bind", "127.0.0.66"]
    done = run_cli(*args, "--lang", "fr")
    assert done.code == 0, done.stderr
    assert "écoute en tant que hôte ntp1" in done.stdout
    assert "En écoute" in done.stdout and "oui" in done.stdout and "non" in done.stdout
    assert "écoute en tant que hôte ntp1 sur " in done.stderr and "Ctrl-C arrête" in done.stderr
    assert "0 flux prévu sur 1 est arrivé en " in done.stderr
    assert "(0 connexion/datagramme)" in done.stderr
    assert "planned flows arrived" not in done.stderr
    document = json.loads(run_cli(*args, "-f", "json", "-l", "fr").stdout)
    assert document["flows"][0]["arrived"] is False  # the JSON keeps its values
    assert document["checks"][0]["detail"] == "n'est pas arrivé"
    csv = run_cli(*args, "-f", "csv", "-l", "fr").stdout
    assert csv.splitlines()[1].split(",")[5:7] == ["yes", "no"]  # a file format: codes


def test_listen_lines_and_summary_in_french() -> None:
    marked = ListenEvent(0.0, "udp", 514, "10.0.0.2", "10.0.0.1", 40000, ("A.1",), "A.1", True)
    stray = ListenEvent(0.0, "tcp", 443, "::1", "2001:db8::9", 1234, ())
    arrival = FlowArrival("A.1", "A", "xenmobile", "udp", PortSet.of((514,)), True, 2, ("x",))
    other = FlowArrival("B.1", "B", "xenmobile", "udp", PortSet.of((515,)), True, 0, ())
    run = ListenReport("role syslog-server", 0.0, 3.0, (), (marked, stray), (arrival, other))
    with language("fr"):
        assert listen_report.event_line(marked).endswith(
            "udp/514 depuis 10.0.0.1:40000 -> A.1 (sonde marquée pour A.1, répondue)"
        )
        assert "depuis [2001:db8::9]:1234 -> source non prévue pour ce port" in (
            listen_report.event_line(stray)
        )
        assert listen_report.summary_line(run) == (
            "1 flux prévu sur 2 est arrivé en 3.0 s (2 connexions/datagrammes, "
            "1 depuis des sources non prévues)"
        )


def test_lang_from_the_environment(tmp_path: Path) -> None:
    """LANG=fr_FR.UTF-8, no --lang: the open-files refusal and its hint in French."""
    site = many_ports_site(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in {"LANGUAGE", "LC_ALL", "LC_MESSAGES"}}
    env["LANG"] = "fr_FR.UTF-8"

    def lower() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (128, 256))

    command = [sys.executable, "-m", "flowmatrix", "verify", str(site), "--flow", "SITE-many"]
    done = subprocess.run(
        [*command, "--timeout", "0.5", "--concurrency", "300"],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=lower,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "flowmatrix : erreur : --concurrency 300 demande" in done.stderr
    assert "(piste : baissez --concurrency à" in done.stderr
    assert "hint" not in done.stderr and "needs" not in done.stderr
