"""Every command, run in French on the shipped examples, speaks French.

Each run's standard output and error (and the reports it writes) are read word by word
(``tests/english_words``): a line left in English fails the test.
"""

from __future__ import annotations

import re
import socket
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.english_words import BAD_SITES, EXAMPLES, english_in

from flowmatrix.api import load_plan

NS_CONF = Path(__file__).resolve().parent / "importers" / "data" / "ns.conf"


def _xlsx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as workbook:
        shared = workbook.read("xl/sharedStrings.xml").decode()
    return "\n".join(re.sub(r"<[^>]+>", " ", t) for t in re.findall(r"<si>(.*?)</si>", shared))


def _html_text(path: Path) -> str:
    html = path.read_text("utf-8")
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    # the catalog's English text, shown beside the French by design, is marked as such
    html = re.sub(r"<(\w+)\b[^>]*\blang=\"en\"[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", "\n", html)


@pytest.fixture
def french(run_cli):  # type: ignore[no-untyped-def]
    """Run ``flowmatrix ARGS --lang fr``; returns (code, everything it printed)."""

    def run(*args: str, codes: tuple[int, ...] = (0,)) -> str:
        result = run_cli(*args, "--lang", "fr")
        assert result.code in codes, result
        return result.stdout + "\n" + result.stderr

    return run


def _assert_french(text: str) -> None:
    found = english_in(text)
    assert not found, f"{len(found)} lines in English:\n" + "\n".join(found[:30])


@pytest.mark.parametrize("example", sorted(p.stem for p in EXAMPLES.glob("*.yaml")))
def test_plan_and_its_explanations(french, example: str) -> None:  # type: ignore[no-untyped-def]
    site = f"example:{example}"
    _assert_french(french("plan", site))
    _assert_french(french("plan", site, "--explain"))
    _assert_french(french("journeys", site))


def test_catalog(french) -> None:  # type: ignore[no-untyped-def]
    _assert_french(french("catalog"))
    _assert_french(french("catalog", "--roles"))


def _rules_and_audit(french, tmp_path: Path, site: str) -> Iterator[str]:  # type: ignore[no-untyped-def]
    plan = load_plan(None if site == "default" else site)
    for firewall in plan.site.firewalls:
        ruleset = tmp_path / f"{firewall.name}.nft"
        yield french("rules", site, "-t", "nftables", "-F", firewall.name, "-o", str(ruleset))
        yield french("audit", site, "-F", firewall.name, "-r", str(ruleset))
        # a ruleset that lets nothing through: every reason, every fix proposal
        closed = tmp_path / f"{firewall.name}-closed.nft"
        closed.write_text(
            "table inet filter {\n  chain forward {\n    type filter hook forward priority 0;"
            " policy drop;\n  }\n}\n"
        )
        yield french("audit", site, "-F", firewall.name, "-r", str(closed), codes=(1,))


def test_rules_and_audit(french, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for text in _rules_and_audit(french, tmp_path, "example:hospital"):
        _assert_french(text)


def test_vendor_rules(french, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "squid.conf"
    _assert_french(french("rules", "example:enterprise-dual-stack", "-t", "squid", "-o", str(out)))
    for target in ("fortigate", "paloalto", "ciscoasa", "srx", "iptables"):
        out = tmp_path / target
        _assert_french(
            french("rules", "example:hospital", "-t", target, "-F", "edge", "-o", str(out))
        )


def test_reports_read_back(french, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    markdown, html, xlsx = tmp_path / "r.md", tmp_path / "r.html", tmp_path / "r.xlsx"
    for fmt, path in (("markdown", markdown), ("html", html), ("xlsx", xlsx)):
        _assert_french(french("report", "example:hospital", "-f", fmt, "-o", str(path)))
    _assert_french(markdown.read_text("utf-8"))
    _assert_french(_html_text(html))
    _assert_french(_xlsx_text(xlsx))
    _assert_french(french("matrix", "check", str(xlsx), "example:hospital"))


def test_site_errors(french) -> None:  # type: ignore[no-untyped-def]
    for path in sorted(BAD_SITES.glob("*.yaml")):
        text = french("plan", str(path), codes=(2,))
        assert "erreur" in text, text
        _assert_french(text)


def test_import_and_upgrade(french, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    draft = tmp_path / "draft.yaml"
    _assert_french(french("import", "netscaler", str(NS_CONF), "-o", str(draft)))
    old = tmp_path / "old.yaml"
    old.write_text((EXAMPLES / "default.yaml").read_text("utf-8"), "utf-8")
    _assert_french(french("site", "upgrade", str(old), "-o", str(tmp_path / "new.yaml")))


def test_fleet_export(french, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _assert_french(french("fleet", "export", "example:hospital", "-o", str(tmp_path / "f")))


def _loopback_site(tmp_path: Path, port: int, closed: int) -> Path:
    site = tmp_path / "loop.yaml"
    site.write_text(
        "version: 1\nname: loopback\nzones:\n  - {name: lab, cidrs: [127.0.0.0/8]}\n"
        "firewalls: []\nhosts:\n"
        "  - {name: xms1, role: xenmobile, addresses: [127.0.0.1]}\n"
        "  - {name: svc, role: sql-server, addresses: [127.0.0.2]}\n"
        "features: {ios: false, apns: false, android: false, fcm: false, app-stores: false,"
        " sms-relay: false, ads: false, windows-phone: false}\n"
        f"flows:\n  - {{name: up, source: xms1, destination: svc, protocols: [tcp],"
        f" ports: [{port}, {closed}]}}\n",
        "utf-8",
    )
    return site


def test_verify_merge_report(french, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as listener, socket.socket() as spare:
        listener.bind(("127.0.0.2", 0))
        listener.listen(8)
        spare.bind(("127.0.0.2", 0))
        closed = spare.getsockname()[1]
        spare.close()
        site = _loopback_site(tmp_path, listener.getsockname()[1], closed)
        results = tmp_path / "verify.json"
        for fmt in ("table", "json"):
            out = ["-o", str(results)] if fmt == "json" else []
            _assert_french(
                french(
                    "verify",
                    str(site),
                    "--flow",
                    "SITE-up",
                    "--timeout",
                    "0.5",
                    "-f",
                    fmt,
                    *out,
                    codes=(1,),
                )
            )
    merged = tmp_path / "merged.json"
    _assert_french(french("merge", "-s", str(site), str(results), codes=(0, 1)))
    _assert_french(
        french(
            "merge", "-s", str(site), str(results), "-f", "json", "-o", str(merged), codes=(0, 1)
        )
    )
    _assert_french(french("report", str(site), "-r", str(merged), "-f", "markdown"))


def test_listen_and_watch(french, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as spare:
        spare.bind(("127.0.0.2", 0))
        port = spare.getsockname()[1]
    site = _loopback_site(tmp_path, port, port + 1 if port < 65535 else port - 1)
    _assert_french(french("listen", str(site), "--as", "svc", "--duration", "0.3"))
    _assert_french(
        french("watch", str(site), "--flow", "SITE-up", "--once", "--timeout", "0.3", codes=(1,))
    )


def test_certificates(french, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import trustme

    authority = trustme.CA()
    pem = tmp_path / "server.pem"
    authority.issue_cert("gateway.example.test").cert_chain_pems[0].write_to_path(str(pem))
    for fmt in ("table", "json"):
        text = french("certs", "check", str(pem), "--name", "other.example.test", "-f", fmt,
                      codes=(0, 1))  # fmt: skip
        _assert_french(text)


@pytest.mark.kernel
def test_lab(french) -> None:  # type: ignore[no-untyped-def]
    _assert_french(french("lab", "example:small-office", codes=(0, 1)))


def test_the_reader_finds_english(run_cli) -> None:  # type: ignore[no-untyped-def]
    """The same runs in English are full of the listed words: the check can fail."""
    english = run_cli("plan", "example:hospital", "--explain", "--lang", "en")
    assert len(english_in(english.stdout + english.stderr)) > 10
    error = run_cli("plan", str(BAD_SITES / "05-bad-address.yaml"), "--lang", "en")
    assert english_in(error.stderr)
