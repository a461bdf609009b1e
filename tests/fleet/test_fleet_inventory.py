"""The inventory: one host per reachable source host, grouped by role, readable by Ansible."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from fleet.conftest import write_site
from flowmatrix.api import load_plan
from flowmatrix.fleet.inventory import ALL_SOURCES_GROUP, group_name, render_inventory
from flowmatrix.fleet.sources import source_hosts


def _inventory(text: str) -> dict[str, dict[str, dict[str, object]]]:
    data = YAML(typ="safe").load(text)
    groups = data["all"]["children"][ALL_SOURCES_GROUP]["children"]
    return {name: group["hosts"] for name, group in groups.items()}


def test_default_example_inventory() -> None:
    plan = load_plan(None)
    text = render_inventory(source_hosts(plan), plan.site.name)
    groups = _inventory(text)
    assert sorted(groups) == ["netscaler_gateway", "storefront", "xenmobile"]
    assert sorted(groups["xenmobile"]) == ["xms1", "xms2"]
    nsg = groups["netscaler_gateway"]["nsg1"]
    assert nsg["ansible_host"] == "172.16.10.5"  # the NSIP: the management address
    assert nsg["flowmatrix_host"] == "nsg1"
    by_name = {h.name: h for h in source_hosts(plan)}
    for hosts in groups.values():
        for name, variables in hosts.items():
            assert variables["flowmatrix_flows"] == len(by_name[name].flows)
            assert set(variables) == {"ansible_host", "flowmatrix_host", "flowmatrix_flows"}
    # networks without a name are sources, but no machine to run on: listed, not inventoried
    assert "#   admins: its addresses are networks" in text
    assert "#   lan-devices: its addresses are networks" in text


def test_only_sources_are_inventoried(tmp_path: Path) -> None:
    plan = load_plan(write_site(tmp_path, "127.0.0.2", "127.0.0.3", "127.0.0.0/24"))
    names = [h.name for h in source_hosts(plan)]
    assert names == ["app1", "db1", "admins"]


def test_fqdn_when_no_single_address(tmp_path: Path) -> None:
    site = write_site(tmp_path, "127.0.0.2", "127.0.0.3", "127.0.0.0/24")
    text = site.read_text().replace(
        "{name: admins, role: workstations, addresses: [198.51.100.0/24]}",
        "{name: admins, role: workstations, addresses: [198.51.100.0/24], fqdn: jump.example}",
    )
    site.write_text(text)
    plan = load_plan(site)
    groups = _inventory(render_inventory(source_hosts(plan), plan.site.name))
    assert groups["workstations"]["admins"]["ansible_host"] == "jump.example"


@pytest.mark.parametrize(
    ("role", "group"),
    [
        ("netscaler-gateway", "netscaler_gateway"),
        ("sql.server", "sql_server"),
        ("3rd-party", "role_3rd_party"),
        ("plain", "plain"),
    ],
)
def test_group_names_are_ansible_safe(role: str, group: str) -> None:
    assert group_name(role) == group


def test_ansible_reads_the_inventory(tmp_path: Path) -> None:
    tool = shutil.which("ansible-inventory")
    if tool is None:
        pytest.skip("ansible-inventory not installed (pip install 'flowmatrix[fleet]')")
    plan = load_plan(None)
    path = tmp_path / "inventory.yml"
    path.write_text(render_inventory(source_hosts(plan), plan.site.name))
    done = subprocess.run(
        [tool, "-i", str(path), "--list"],
        capture_output=True,
        text=True,
        check=True,
        env={"ANSIBLE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    listed = json.loads(done.stdout)
    assert sorted(listed[ALL_SOURCES_GROUP]["children"]) == [
        "netscaler_gateway",
        "storefront",
        "xenmobile",
    ]
    assert listed["_meta"]["hostvars"]["xms2"]["ansible_host"] == "10.10.20.12"
    assert "[WARNING]" not in done.stderr


def test_ansible_accepts_the_playbook(tmp_path: Path) -> None:
    tool = shutil.which("ansible-playbook")
    if tool is None:
        pytest.skip("ansible-playbook not installed (pip install 'flowmatrix[fleet]')")
    from flowmatrix.fleet.playbook import render_playbook

    plan = load_plan(None)
    (tmp_path / "inventory.yml").write_text(render_inventory(source_hosts(plan), plan.site.name))
    (tmp_path / "playbook.yml").write_text(render_playbook())
    done = subprocess.run(
        [
            tool,
            "-i",
            str(tmp_path / "inventory.yml"),
            str(tmp_path / "playbook.yml"),
            "--list-tasks",
        ],
        capture_output=True,
        text=True,
        env={"ANSIBLE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[WARNING]" not in done.stderr
    tasks = [
        line.strip().split("\t")[0]
        for line in done.stdout.splitlines()
        if "TAGS:" in line and not line.strip().startswith("play #")
    ]
    assert tasks == [
        "Working folder",
        "Probe (a zipapp that needs only Python 3 on the host)",
        "This host's flows",
        "Probes that would run (check mode)",
        "Probe this host's flows",
        "Results back to the control node",
    ]
