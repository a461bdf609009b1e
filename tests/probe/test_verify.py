"""verify end to end on the loopback lab: plan -> targets -> probes -> results."""

from __future__ import annotations

from flowmatrix.errors import ExitCode
from flowmatrix.probe import ProbeOptions, ProbeResult, Selection, verify
from flowmatrix.probe.dns_check import ResolverSpec
from probe.conftest import RADIUS_SECRET, Lab

FAST = ProbeOptions(timeout=0.5, retries=1)


def by_flow(results: tuple[ProbeResult, ...]) -> dict[str, ProbeResult]:
    return {r.flow: r for r in results}


def test_every_site_flow_is_classified(lab: Lab) -> None:
    options = ProbeOptions(
        timeout=0.5,
        radius_secret=RADIUS_SECRET.encode(),
        resolver=ResolverSpec("127.0.0.5", lab.dns_port),
        ca_file=str(lab.ca_file),
    )
    report = verify(
        lab.plan(),
        Selection(
            flows=tuple(
                f"SITE-{n}"
                for n in (
                    "tcp-open",
                    "tcp-closed",
                    "dns",
                    "ntp",
                    "radius",
                    "syslog",
                    "tls",
                    "named",
                    "to-network",
                )
            )
        ),
        options,
    )
    results = by_flow(report.results)
    assert results["SITE-tcp-open.1"].state == "open"
    assert results["SITE-tcp-closed.1"].state == "closed"
    assert results["SITE-dns.1"].state == "open"
    assert results["SITE-dns.1"].reply is not None
    assert results["SITE-ntp.1"].state == "open"
    assert results["SITE-radius.1"].state == "open"
    assert results["SITE-radius.1"].findings == ()
    assert results["SITE-syslog.1"].state == "open|filtered"
    tls = results["SITE-tls.1"]
    assert tls.state == "open" and tls.findings == ()
    assert tls.tls is not None and tls.tls.trusted and tls.tls.server_name == "localhost"
    # the lab DNS says localhost is 127.0.0.33: information, not a failure
    assert tls.dns is not None and tls.dns.undocumented == ("127.0.0.33",)
    assert any("outside the documented 127.0.0.3" in note for note in tls.notes)
    named = results["SITE-named.1"]
    assert named.state == "open" and named.address == "127.0.0.2"
    assert named.dns is not None and named.dns.addresses == ("127.0.0.2",)
    assert named.dns.resolver == f"127.0.0.5:{lab.dns_port}"
    network = results["SITE-to-network.1"]
    assert network.state == "not_probed"
    assert "127.0.128.0/24" in network.reason and "give host addresses" in network.reason
    assert report.exit_code == ExitCode.FINDINGS  # tcp-closed is a required flow
    assert report.summary.failed == 1


def test_source_address_of_the_plan_is_used(lab: Lab) -> None:
    report = verify(lab.plan(), Selection(source="xms1", flows=("SITE-tcp-open",)), FAST)
    (result,) = report.results
    assert result.source_host == "xms1" and result.source_address == "127.0.0.1"
    assert result.state == "open"


def test_auto_probes_only_flows_from_this_host(lab: Lab) -> None:
    report = verify(lab.plan(), Selection(flows=("SITE-tcp-open", "XM-DEV-05")), FAST)
    # XM-DEV-05 comes from the device network, but --flow asks for it: probed from here
    assert {r.flow for r in report.results} == {"SITE-tcp-open.1", "XM-DEV-05.1"}
    auto = verify(lab.plan(), Selection(source="auto", flows=("SITE-tcp-open", "XM-DEV-05")), FAST)
    assert {r.flow for r in auto.results} == {"SITE-tcp-open.1"}


def test_unresolved_name_is_a_failure(lab: Lab) -> None:
    options = ProbeOptions(timeout=0.5, resolver=ResolverSpec("127.0.0.5", lab.dns_port))
    plan = lab.plan()
    report = verify(plan, Selection(flows=("SITE-named",)), options)
    assert report.results[0].state == "open"
    # the lab's DNS server knows no other name: NXDOMAIN
    import asyncio

    from flowmatrix.probe.dns_check import dns_info

    info = asyncio.run(dns_info("nothere.lab.test", (), options.resolver, 0.5))
    assert info.addresses == () and info.error is not None and "NXDOMAIN" in info.error


def test_radius_without_secret_is_not_probed(lab: Lab) -> None:
    report = verify(lab.plan(), Selection(flows=("SITE-radius",)), FAST)
    (result,) = report.results
    assert result.state == "not_probed"
    assert "--radius-secret" in result.reason
    assert report.exit_code == ExitCode.OK


def test_progress_sees_every_probe(lab: Lab) -> None:
    class Collect:
        def __init__(self) -> None:
            self.total = -1
            self.seen: list[str] = []
            self.finished = False

        def start(self, total: int) -> None:
            self.total = total

        def advance(self, result: ProbeResult) -> None:
            self.seen.append(result.flow)

        def finish(self) -> None:
            self.finished = True

    progress = Collect()
    report = verify(
        lab.plan(),
        Selection(flows=("SITE-tcp-open", "SITE-tcp-closed", "SITE-to-network")),
        FAST,
        progress,
    )
    assert progress.total == 2  # the network destination is not a probe
    assert sorted(progress.seen) == ["SITE-tcp-closed.1", "SITE-tcp-open.1"]
    assert progress.finished
    assert len(report.results) == 3


def test_two_ended_against_a_real_service_says_so(lab: Lab) -> None:
    report = verify(
        lab.plan(), Selection(flows=("SITE-tcp-open",)), ProbeOptions(timeout=0.3, two_ended=True)
    )
    (result,) = report.results
    assert result.state == "open" and not result.two_ended
    assert "not by 'flowmatrix listen'" in result.notes[0]
