"""``ads check`` against a DNS responder and TLS servers, all on loopback.

The discovery name resolves through a DNS server started by the test (``--resolver``),
to 127.0.0.x addresses; the documented 2016 addresses are replaced (``--expected``) or
left unprobed (``--no-documented``). The loopback guard fails any test that would send
a packet elsewhere.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from flowmatrix.catalog import load_catalog
from flowmatrix.plan_views import catalog_view
from flowmatrix.probe.ads_check import ADS_ROLE, check_ads, proxy_settings
from flowmatrix.probe.dns_check import ResolverSpec, parse_resolver

ADS = "discovery.mdm.zenprise.com"
ALIAS = "ads.cloud.lab.test"
RESULT_KEYS = {
    "flow",
    "requirement",
    "required",
    "source",
    "destination",
    "state",
    "reason",
    "latency_ms",
    "attempts",
    "two_ended",
    "tls",
    "dns",
    "reply",
    "findings",
    "notes",
}


@pytest.fixture
def ads_lab(
    pki: Any, tls_server: Callable[..., Any], dns_responder: Callable[..., Any]
) -> Iterator[dict[str, Any]]:
    """ADS answered on 127.0.0.2 and .3 (via a CNAME), a stale address on .4, none on .5."""
    for _ in range(20):
        servers: list[Any] = []
        try:
            servers.append(tls_server(pki.ads, host="127.0.0.2"))
            port = servers[0].port
            servers.append(tls_server(pki.ads, host="127.0.0.3", port=port))
            servers.append(tls_server(pki.ads_wrong, host="127.0.0.4", port=port))
            # Nothing listens on 127.0.0.5 at that port: hold it bound, not listening.
            hold = socket.socket()
            try:
                hold.bind(("127.0.0.5", port))
            except OSError:
                hold.close()
                raise
        except OSError:
            for server in servers:
                server.close()
            continue
        break
    else:
        pytest.fail("no port free on 127.0.0.2-5 at once")
    dns = dns_responder({ALIAS: ["127.0.0.2", "127.0.0.3"]}, {ADS: ALIAS})
    yield {"port": port, "dns": dns, "ca_file": str(pki.ca_file)}
    hold.close()


def run_json(cli: Callable[..., Any], lab: dict[str, Any], *args: str) -> tuple[int, Any]:
    result = cli(
        "ads", "check",
        "--resolver", lab["dns"].server,
        "--port", str(lab["port"]),
        "--ca-file", lab["ca_file"],
        "--timeout", "2",
        "--format", "json",
        *args,
    )  # fmt: skip
    assert result.out, result.err
    return result.code, json.loads(result.out)


def test_reachable_ads_with_stale_documented_addresses(
    ads_lab: dict[str, Any], cli: Callable[..., Any]
) -> None:
    code, report = run_json(
        cli, ads_lab, "--expected", "127.0.0.3", "--expected", "127.0.0.4",
        "--expected", "127.0.0.5",
    )  # fmt: skip
    assert code == 0, report
    assert set(report) == {
        "format", "fqdn", "port", "dns", "documented_source", "documented_probed",
        "comparison", "reachable", "results", "summary", "proxy", "notes",
    }  # fmt: skip
    assert report["format"] == "flowmatrix-ads/1"
    assert report["fqdn"] == ADS
    dns = report["dns"]
    assert dns["addresses"] == ["127.0.0.2", "127.0.0.3"]
    assert dns["undocumented"] == ["127.0.0.2"]
    assert dns["error"] is None
    assert dns["resolver"] == ads_lab["dns"].server
    assert report["documented_source"] == "command line"
    assert report["comparison"] == {
        "answered_and_documented": ["127.0.0.3"],
        "answered_only": ["127.0.0.2"],
        "documented_only": ["127.0.0.4", "127.0.0.5"],
    }
    assert report["reachable"] == ["127.0.0.2", "127.0.0.3"]
    by_address = {r["destination"]["address"]: r for r in report["results"]}
    assert set(by_address) == {"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"}
    for result in report["results"]:
        assert set(result) == RESULT_KEYS
        assert result["destination"]["role"] == ADS_ROLE
        assert result["destination"]["fqdn"] == ADS
        assert result["destination"]["port"] == ads_lab["port"]
    for address in ("127.0.0.2", "127.0.0.3"):
        result = by_address[address]
        assert result["required"] is True
        assert result["state"] == "open"
        assert result["tls"]["name_matches"] is True
        assert result["tls"]["trusted"] is True
        assert result["tls"]["server_name"] == ADS
        assert result["findings"] == []
    stale = by_address["127.0.0.4"]
    assert stale["required"] is False
    assert stale["state"] == "open" and stale["tls"]["name_matches"] is False
    assert stale["findings"]
    gone = by_address["127.0.0.5"]
    assert gone["required"] is False and gone["state"] == "closed"
    assert report["summary"]["failed"] == 0
    assert report["summary"]["failed_optional"] == 2
    # The DNS server was asked for A and AAAA over UDP.
    asked = {(name, qtype) for name, qtype, _ in ads_lab["dns"].queries}
    assert asked == {(ADS, 1), (ADS, 28)}


def test_answered_address_with_wrong_certificate_is_a_finding(
    ads_lab: dict[str, Any], cli: Callable[..., Any], dns_responder: Callable[..., Any]
) -> None:
    ads_lab["dns"] = dns_responder({ADS: ["127.0.0.2", "127.0.0.4"]})
    code, report = run_json(cli, ads_lab, "--no-documented")
    assert code == 1
    assert report["reachable"] == ["127.0.0.2"]
    assert report["documented_probed"] is False
    # The documented 2016 list is compared with, but not probed.
    assert report["documented_source"] == "catalog"
    assert len(report["dns"]["documented"]) == 9
    assert {r["destination"]["address"] for r in report["results"]} == {"127.0.0.2", "127.0.0.4"}
    assert report["comparison"]["answered_and_documented"] == []
    assert report["summary"]["failed"] == 1


def test_nxdomain(
    ads_lab: dict[str, Any], cli: Callable[..., Any], dns_responder: Callable[..., Any]
) -> None:
    ads_lab["dns"] = dns_responder({}, nxdomain={ADS})
    code, report = run_json(cli, ads_lab, "--no-documented")
    assert code == 1
    assert report["dns"]["addresses"] == []
    assert "NXDOMAIN" in report["dns"]["error"]
    assert report["results"] == []
    assert any("did not resolve" in note for note in report["notes"])


def test_silent_resolver_times_out(
    ads_lab: dict[str, Any], cli: Callable[..., Any], dns_responder: Callable[..., Any]
) -> None:
    ads_lab["dns"] = dns_responder({}, silent=True)
    result = cli(
        "ads", "check", "--resolver", ads_lab["dns"].server, "--timeout", "0.3",
        "--no-documented", "--format", "json",
    )  # fmt: skip
    assert result.code == 1
    report = json.loads(result.out)
    assert "did not answer" in report["dns"]["error"]


def test_truncated_answer_is_retried_over_tcp(
    ads_lab: dict[str, Any], cli: Callable[..., Any], dns_responder: Callable[..., Any]
) -> None:
    ads_lab["dns"] = dns_responder({ADS: ["127.0.0.3"]}, truncate=True)
    code, report = run_json(cli, ads_lab, "--no-documented")
    assert code == 0
    assert report["dns"]["addresses"] == ["127.0.0.3"]
    transports = {transport for _, _, transport in ads_lab["dns"].queries}
    assert transports == {"udp", "tcp"}


def test_table_output_in_french(ads_lab: dict[str, Any], cli: Callable[..., Any]) -> None:
    result = cli(
        "ads", "check", "--resolver", ads_lab["dns"].server, "--port", str(ads_lab["port"]),
        "--ca-file", ads_lab["ca_file"], "--timeout", "2", "--expected", "127.0.0.5",
        "--lang", "fr",
    )  # fmt: skip
    assert result.code == 0, result.out + result.err
    assert ADS in result.out
    assert "127.0.0.2" in result.out and "127.0.0.5" in result.out
    assert "Remarques" in result.out
    assert "proxy" in result.out
    assert "Citrix Cloud" in result.out


def test_report_written_to_file(
    ads_lab: dict[str, Any], cli: Callable[..., Any], tmp_path: Path
) -> None:
    target = tmp_path / "ads.json"
    result = cli(
        "ads", "check", "--resolver", ads_lab["dns"].server, "--port", str(ads_lab["port"]),
        "--ca-file", ads_lab["ca_file"], "--timeout", "2", "--no-documented",
        "--format", "json", "-o", str(target),
    )  # fmt: skip
    assert result.code == 0
    assert result.out == ""
    assert json.loads(target.read_text())["reachable"] == ["127.0.0.2", "127.0.0.3"]


def test_api_with_injected_environment(ads_lab: dict[str, Any]) -> None:
    report = check_ads(
        catalog_view(load_catalog()),
        resolver=parse_resolver(ads_lab["dns"].server),
        port=ads_lab["port"],
        timeout=2,
        expected=["127.0.0.2"],
        ca_file=ads_lab["ca_file"],
        env={
            "HTTPS_PROXY": "http://alice:s3cret@proxy.lab.test:3128",
            "NO_PROXY": "localhost,.zenprise.com",
        },
    )
    assert int(report.exit_code) == 0
    assert report.proxy.variables == (("HTTPS_PROXY", "http://proxy.lab.test:3128"),)
    assert report.proxy.bypass_entry == ".zenprise.com"
    text = " ".join(report.notes)
    assert "s3cret" not in text and "alice" not in text
    assert "proxy.lab.test:3128" in text
    assert "bypass" in text


def test_proxy_settings_rules() -> None:
    none = proxy_settings({}, ADS)
    assert not none.configured and none.bypass_entry is None
    assert proxy_settings({"no_proxy": "*"}, ADS).bypass_entry == "*"
    assert proxy_settings({"NO_PROXY": "mdm.zenprise.com"}, ADS).bypass_entry == "mdm.zenprise.com"
    assert proxy_settings({"NO_PROXY": "zenprise.co"}, ADS).bypass_entry is None
    assert proxy_settings({"NO_PROXY": "prise.com"}, ADS).bypass_entry is None
    by_network = proxy_settings({"NO_PROXY": "127.0.0.0/8"}, ADS, ["127.0.0.2"])
    assert by_network.bypass_entry == "127.0.0.0/8"
    masked = proxy_settings({"https_proxy": "proxy.lab.test:8080"}, ADS)
    assert masked.variables == (("https_proxy", "http://proxy.lab.test:8080"),)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", ResolverSpec("127.0.0.1", 53)),
        ("127.0.0.1:5353", ResolverSpec("127.0.0.1", 5353)),
        ("::1", ResolverSpec("::1", 53)),
        ("[::1]:5353", ResolverSpec("::1", 5353)),
    ],
)
def test_resolver_argument(text: str, expected: ResolverSpec) -> None:
    assert parse_resolver(text) == expected


@pytest.mark.parametrize("bad", ["dns.lab.test", "127.0.0.1:0", "127.0.0.1:99999", "1.2.3"])
def test_bad_resolver_argument(cli: Callable[..., Any], bad: str) -> None:
    result = cli("ads", "check", "--resolver", bad, "--no-documented")
    assert result.code == 2
    assert "resolver" in result.err
    assert "Traceback" not in result.err


def test_bad_expected_address_and_ca_file(cli: Callable[..., Any], tmp_path: Path) -> None:
    result = cli("ads", "check", "--resolver", "127.0.0.1:9", "--expected", "not-an-ip")
    assert result.code == 2 and "not-an-ip" in result.err
    result = cli("ads", "check", "--ca-file", str(tmp_path / "none.pem"))
    assert result.code == 2 and "no such file" in result.err


def test_csv_and_junit_like_verify(ads_lab: dict[str, Any], cli: Callable[..., Any]) -> None:
    import csv
    import io
    import xml.etree.ElementTree as ET

    common = (
        "ads", "check", "--resolver", ads_lab["dns"].server, "--port", str(ads_lab["port"]),
        "--ca-file", ads_lab["ca_file"], "--timeout", "2", "--expected", "127.0.0.4",
    )  # fmt: skip
    result = cli(*common, "--format", "csv")
    assert result.code == 0
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert [(r["address"], r["required"], r["state"]) for r in rows] == [
        ("127.0.0.2", "yes", "open"),
        ("127.0.0.3", "yes", "open"),
        ("127.0.0.4", "no", "open"),
    ]
    assert rows[0]["fqdn"] == ADS and rows[0]["tls_version"].startswith("TLSv1")
    result = cli(*common, "--format", "junit")
    assert result.code == 0
    suite = ET.fromstring(result.out).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "0", "1")
