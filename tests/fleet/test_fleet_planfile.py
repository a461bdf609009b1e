"""The per-host plan file: the remote probe rebuilds exactly the flows the plan made."""

from __future__ import annotations

import json

import pytest

from flowmatrix.api import load_plan
from flowmatrix.documents import SiteRef
from flowmatrix.fleet import planfile
from flowmatrix.fleet.sources import source_hosts


def test_round_trip_of_every_source_host_of_the_default_example() -> None:
    plan = load_plan(None)
    hosts = source_hosts(plan)
    assert hosts
    for host in hosts:
        document = planfile.plan_file(
            site=plan.site_ref(),
            catalog="xenmobile-10",
            lang="en",
            host=host.name,
            flows=host.flows,
            version="1.2.3",
        )
        header, flows = planfile.load(planfile.dump(document))
        assert flows == host.flows
        assert header["host"] == host.name and header["flowmatrix_version"] == "1.2.3"


def test_netscaler_flows_keep_the_address_each_flow_uses() -> None:
    plan = load_plan(None)
    nsg = next(h for h in source_hosts(plan) if h.name == "nsg1")
    document = planfile.plan_file(
        site=SiteRef("s"), catalog="c", lang="en", host="nsg1", flows=nsg.flows, version="0"
    )
    _, flows = planfile.load(planfile.dump(document))
    used = {a for f in flows for h in f.source.hosts if h.name == "nsg1" for a in h.addresses}
    assert used <= {"172.16.10.5", "172.16.10.10", "172.16.10.20"}
    assert len(used) >= 2  # NSIP for LDAP, SNIP towards the back end


def test_same_plan_same_bytes() -> None:
    plan = load_plan(None)
    host = source_hosts(plan)[0]
    texts = {
        planfile.dump(
            planfile.plan_file(
                site=SiteRef("s"),
                catalog="c",
                lang="en",
                host=host.name,
                flows=host.flows,
                version="0",
            )
        )
        for _ in range(2)
    }
    assert len(texts) == 1


def _valid() -> dict[str, object]:
    plan = load_plan(None)
    host = source_hosts(plan)[0]
    return planfile.plan_file(
        site=SiteRef("s"), catalog="c", lang="en", host=host.name, flows=host.flows[:1], version="0"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="other"), "not a flowmatrix-fleet-plan"),
        (
            lambda d: d.update(format="flowmatrix-fleet-plan/99"),
            "flowmatrix-fleet-plan/99 is newer than this flowmatrix reads",
        ),
        (lambda d: d["flows"][0].pop("ports"), "missing key 'ports'"),
        (lambda d: d["flows"][0].update(ports=[0]), "port numbers from 1 to 65535"),
        (lambda d: d["flows"][0].update(ports=[True]), "port numbers from 1 to 65535"),
        (lambda d: d["flows"][0].update(protocol="icmp"), "unknown protocol"),
        (
            lambda d: d["flows"][0]["source"].update(hosts=[{"name": 1, "addresses": []}]),
            "wrong type",
        ),
        (
            lambda d: d["flows"][0]["destination"]["hosts"][0].update(addresses="10.0.0.1"),
            "wrong type",
        ),
    ],
)
def test_bad_plan_files_are_refused_with_a_reason(change: object, message: str) -> None:
    document = json.loads(json.dumps(_valid()))
    change(document)  # type: ignore[operator]
    with pytest.raises(planfile.PlanFileError, match=message):
        planfile.load(json.dumps(document))


def test_not_json() -> None:
    with pytest.raises(planfile.PlanFileError, match="not JSON"):
        planfile.load("{")


def test_the_previous_head_is_still_read() -> None:
    """A bundle written by the previous version: ``"format": "flowmatrix-fleet-plan"``
    with a separate ``format_version``."""
    document = json.loads(json.dumps(_valid()))
    document.update(format="flowmatrix-fleet-plan", format_version=1)
    _, flows = planfile.load(json.dumps(document))
    assert flows
