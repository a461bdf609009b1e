"""``flowmatrix lab``, ``certs collect/check`` and ``ads check`` in French (gettext).

The machine values (verdict and finding codes, statuses in JSON) stay as they are; the
texts people read (reasons, findings, summaries, errors and hints) are in French.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from flowmatrix.i18n import language

XMS = "xms.example.com"


def _self_signed(
    tmp_path: Path, *, days: int, bits: int = 2048, name: str = XMS, san: bool = True
) -> tuple[Path, Path]:
    """A self-signed certificate valid until ``days`` (and a half) from now (negative:
    expired); its PEM file and the PEM file of its key."""
    key = rsa.generate_private_key(65537, bits)
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(42)
        .not_valid_before(now - dt.timedelta(days=400))
        .not_valid_after(now + dt.timedelta(days=days, hours=12))
    )
    if san:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False
        )
    cert = builder.sign(key, hashes.SHA256())
    path = tmp_path / f"{name}-{days}-{bits}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path = tmp_path / f"{name}-{days}-{bits}.key"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return path, key_path


# --- certs check ------------------------------------------------------------------------


def test_certs_check_findings_and_summary_in_french(run_cli: Any, tmp_path: Path) -> None:
    expired, _key = _self_signed(tmp_path, days=-3, bits=1024)
    result = run_cli("certs", "check", str(expired), "--name", "other.example.com", "--lang", "fr")
    assert result.code == 1, result
    out = result.stdout
    assert "a expiré le" in out and "(il y a 3 jours)" in out
    assert "a une clé RSA faible de 1024 bits" in out
    assert "le certificat est auto-signé" in out
    assert "le certificat ne couvre pas 'other.example.com' (noms : xms.example.com)" in out
    assert "Émetteur" in out and "Validité" in out and "Empreinte SPKI" in out
    assert "expiré depuis 3 jours" in out and "auto-signé, AC" not in out
    assert "avertissement" in out  # the severity of each finding
    assert "1 fichier, certificats : 1 ; avertissements : 4" in out
    for english in ("expired on", "days ago", "Issuer", "warning(s)", "is self-signed", "weak RSA"):
        assert english not in out


def test_certs_check_plural_forms(run_cli: Any, tmp_path: Path) -> None:
    one, _key = _self_signed(tmp_path, days=1)
    many, _key = _self_signed(tmp_path, days=20, name="mdm.example.com")
    result = run_cli("certs", "check", str(one), str(many), "--lang", "fr")
    out = result.stdout
    assert "(dans 1 jour, dans la période d'avertissement de 30 jours)" in out
    assert "(dans 20 jours, dans la période d'avertissement de 30 jours)" in out
    assert "1 jour restant" in out and "20 jours restants" in out
    assert "2 fichiers, certificats : 2" in out


def test_certs_check_json_keeps_codes_and_words_messages_in_french(
    run_cli: Any, tmp_path: Path
) -> None:
    expired, _key = _self_signed(tmp_path, days=-10)
    result = run_cli("certs", "check", str(expired), "--format", "json", "--lang", "fr")
    document = json.loads(result.stdout)
    findings = document["files"][0]["findings"]
    codes = {f["code"] for f in findings}
    assert codes == {"expired", "self-signed"}
    assert {f["severity"] for f in findings} == {"warning"}
    message = next(f["message"] for f in findings if f["code"] == "expired")
    assert message.startswith("le certificat 0 (") and "(il y a 10 jours)" in message


def test_certs_check_refuses_a_private_key_in_french(run_cli: Any, tmp_path: Path) -> None:
    _cert, key = _self_signed(tmp_path, days=90)
    result = run_cli("certs", "check", str(key), "--lang", "fr")
    assert result.code == 2
    assert "refusé : le fichier contient une clé privée" in result.stderr
    assert "ne lit, ne copie ni n'affiche jamais de clé privée" in result.stderr
    assert "l'épinglage de certificat n'a besoin que des certificats publics" in result.stderr
    assert "never reads" not in result.stderr


def test_certs_check_errors_in_french(run_cli: Any, tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x01\x02 not a certificate at all")
    result = run_cli("certs", "check", str(junk), "--lang", "fr")
    assert result.code == 2
    assert "pas un certificat : ni PEM, ni un certificat DER, ni un paquet PKCS#7" in result.stderr
    assert "donnez des certificats X.509" in result.stderr


# --- certs collect ----------------------------------------------------------------------


@pytest.fixture
def tls_endpoint(tmp_path: Path) -> Iterator[int]:
    """A TLS server on 127.0.0.1 presenting a self-signed certificate for XMS."""
    cert, key = _self_signed(tmp_path, days=10)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                conn.settimeout(5)
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass
            finally:
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield port
    stop.set()
    thread.join(2)
    listener.close()


def test_certs_collect_in_french(run_cli: Any, tls_endpoint: int) -> None:
    result = run_cli(
        "certs", "collect", f"127.0.0.1:{tls_endpoint}", "--sni", XMS, "--lang", "fr"
    )  # fmt: skip
    assert result.code == 1, result  # self-signed and expiring: warnings
    out = result.stdout
    assert "chaîne : 1 certificat" in out
    assert "expire le" in out and "dans la période d'avertissement de 30 jours" in out
    assert "le certificat feuille est auto-signé" in out
    assert "1 point d'accès : ayant répondu : 1, en échec : 0 ; avertissements : 2" in out
    assert "endpoint(s)" not in out and "chain:" not in out


def test_certs_collect_unreachable_endpoint_in_french(run_cli: Any) -> None:
    with socket.socket() as held:  # bound, not listening: the connection is refused
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        result = run_cli("certs", "collect", f"127.0.0.1:{port}", "--timeout", "2", "--lang", "fr")
    assert result.code == 1
    assert "1 point d'accès : ayant répondu : 0, en échec : 1" in result.stdout
    assert "closed" not in result.stdout.split("\n")[1]


def test_certs_collect_errors_in_french(run_cli: Any) -> None:
    result = run_cli("certs", "collect", "127.0.0.1:70000", "--lang", "fr")
    assert result.code == 2
    assert "le port 70000 de '127.0.0.1:70000' est hors de 1-65535" in result.stderr
    assert "(piste : écrivez HÔTE:PORT" in result.stderr
    result = run_cli("certs", "collect", "127.0.0.1:443", "--role", "xenmobile", "--lang", "fr")
    assert "--role choisit des points d'accès d'un site" in result.stderr


# --- ads check --------------------------------------------------------------------------


def test_ads_check_errors_in_french(run_cli: Any) -> None:
    result = run_cli("ads", "check", "--expected", "not-an-ip", "--lang", "fr")
    assert result.code == 2
    assert "l'adresse attendue 'not-an-ip' n'est pas une adresse IP" in result.stderr
    assert "(piste : par exemple 192.0.2.10)" in result.stderr


def test_ads_notes_in_french() -> None:
    from flowmatrix.probe.ads_check import _comparison_note, text

    with language("fr"):
        assert text("direct").startswith("Ce contrôle se connecte en direct")
        one = _comparison_note("catalog", 1, fqdn="ads.example", common=1, new=0, missing=8)
        many = _comparison_note("catalog", 2, fqdn="ads.example", common=1, new=1, missing=8)
    assert one.startswith("Le DNS a donné 1 adresse pour ads.example")
    assert many.startswith("Le DNS a donné 2 adresses pour ads.example")
    assert "adresses documentées absentes de la réponse : 8" in many


# --- lab --------------------------------------------------------------------------------


def test_lab_summary_and_verdicts_in_french(run_cli: Any, require_kernel: None) -> None:
    result = run_cli("lab", "example:small-office", "--lang", "fr", "--unplanned", "1")
    assert result.code == 0, result
    assert "labo OK : 19/19 sondes prévues réussies" in result.stderr
    assert "sondes non prévues bloquées" in result.stderr and "pare-feu, " in result.stderr
    assert "planned probes" not in result.stderr
    assert "réussi" in result.stdout and "bloqué" in result.stdout
    assert "labo : " in result.stdout  # the table's title
    assert "Verdict" in result.stdout and "Raison" in result.stdout


def test_lab_failure_reasons_in_french_and_codes_in_json(
    run_cli: Any, tmp_path: Path, require_kernel: None
) -> None:
    rules = tmp_path / "fw.nft"
    rules.write_text(
        "table inet closed {\n"
        "\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n\t}\n"
        "}\n"
    )
    common = ("example:small-office", "--rules", f"fw={rules}", "--unplanned", "0")
    result = run_cli("lab", *common, "--timeout", "0.3", "--lang", "fr", "--format", "json")
    assert result.code == 1, result
    assert "labo EN ÉCHEC : 0/19 sondes prévues réussies" in result.stderr
    document = json.loads(result.stdout)
    verdicts = {r["verdict"] for r in document["results"]}
    assert verdicts == {"blocked"}  # the code, not the French word
    reasons = {r["reason"] for r in document["results"]}
    assert "aucune réponse, et rien n'a atteint l'écouteur : rejeté en chemin" in reasons
    assert not any("nothing reached" in r for r in reasons)


def test_lab_errors_in_french(run_cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_cli("lab", "--rules", "no-equals-sign", "--lang", "fr")
    assert result.code == 2
    assert "--rules 'no-equals-sign' : PARE-FEU=FICHIER attendu" in result.stderr
    result = run_cli("lab", "--rules", "fw-middle=/nonexistent", "--lang", "fr")
    assert "--rules : pare-feu inconnu 'fw-middle'" in result.stderr
    assert "(piste : pare-feu : " in result.stderr

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    result = run_cli("lab", "--clean", "--lang", "fr")
    assert result.code == 2
    assert "lab --clean doit être lancé en root" in result.stderr
    assert "les espaces de noms réseau sont réservés à root" in result.stderr


def test_lab_needs_root_in_french(run_cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)  # the real check, as a user would fail it
    result = run_cli("lab", "example:small-office", "--lang", "fr")
    assert result.code == 2
    assert (
        "le labo ne peut pas tourner ici : doit être lancé en root (espaces de noms réseau)"
        in result.stderr
    )
    assert "(piste : lancez 'flowmatrix lab' en root sur Linux" in result.stderr


def test_lab_clean_and_interrupt_lines_in_french() -> None:
    from flowmatrix.lab.debris import CleanReport
    from flowmatrix.lab.interrupts import Interrupted

    with language("fr"):
        nothing = CleanReport((), (), ()).line()
        some = CleanReport(("fmlab-1-a", "fmlab-1-b"), (Path("/run/x"),), ()).line()
        one = str(Interrupted(15, 1))
        two = str(Interrupted(15, 2))
    assert nothing == "lab --clean : rien n'a été laissé par des exécutions précédentes"
    assert some.startswith(
        "lab --clean : suppression de 2 espaces de noms et de 1 fichier marqueur"
    )
    assert one == "interrompu (SIGTERM), 1 espace de noms nettoyé"
    assert two == "interrompu (SIGTERM), 2 espaces de noms nettoyés"


# --- the environment --------------------------------------------------------------------


def test_lang_environment_gives_french_without_option(tmp_path: Path) -> None:
    expired, _key = _self_signed(tmp_path, days=-3)
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    env["LANG"] = "fr_FR.UTF-8"
    done = subprocess.run(
        [sys.executable, "-m", "flowmatrix", "certs", "check", str(expired)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "a expiré le" in done.stdout and "avertissements : 2" in done.stdout
    assert "expired on" not in done.stdout
