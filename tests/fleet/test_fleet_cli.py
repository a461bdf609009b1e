"""The commands as a user runs them: exit codes, messages, files; never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fleet.conftest import write_site
from fleet.results_factory import write
from flowmatrix.errors import UserError
from flowmatrix.fleet import ansible_run as runner

APP, DB = "127.0.0.2", "127.0.0.3"


def flowmatrix(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "flowmatrix", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return write_site(tmp_path, APP, DB, "127.0.0.0/24")


# --- merge ---------------------------------------------------------------------------------


def test_merge_exit_1_on_a_failed_flow_and_json_from_the_suffix(site: Path, tmp_path: Path) -> None:
    app = write(
        tmp_path / "app1.json",
        [
            ("SITE-app-to-db.1", "app1", "db1", DB, 5432, "open"),
            ("SITE-app-to-db.1", "app1", "db1", DB, 5433, "closed"),
        ],
    )
    db = write(tmp_path / "db1.json", [("SITE-db-to-app.1", "db1", "app1", APP, 8443, "open")])
    out = tmp_path / "matrix.json"
    done = flowmatrix("merge", str(app), str(db), "--site", str(site), "-o", str(out))
    assert done.returncode == 1
    assert done.stdout == ""
    assert "3 flows: 1 passed, 1 failed, 0 incomplete, 1 not tested" in done.stderr
    statuses = {f["flow"]: f["status"] for f in json.loads(out.read_text())["flows"]}
    assert statuses == {
        "SITE-app-to-db.1": "failed",
        "SITE-db-to-app.1": "passed",
        "SITE-admin-to-app.1": "not_tested",
    }


def test_merge_exit_0_when_nothing_failed(site: Path, tmp_path: Path) -> None:
    db = write(tmp_path / "db1.json", [("SITE-db-to-app.1", "db1", "app1", APP, 8443, "open")])
    done = flowmatrix("merge", str(db), "--site", str(site), "--format", "csv")
    assert done.returncode == 0
    assert done.stdout.splitlines()[0].startswith("flow,requirement,source,")
    assert len(done.stdout.splitlines()) == 4


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "invalid JSON"),
        ('{"format": "flowmatrix-matrix/1"}', "not a verify result document"),
        ('{"format": "flowmatrix-verify/1", "results": [{"flow": 1}]}', "results[0]"),
    ],
)
def test_merge_bad_files_exit_2(site: Path, tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    done = flowmatrix("merge", str(bad), "--site", str(site))
    assert done.returncode == 2
    assert done.stderr.startswith(f"flowmatrix: error: {bad}:")
    assert message in done.stderr and "hint:" in done.stderr


def test_merge_missing_file_and_wrong_site_exit_2(site: Path, tmp_path: Path) -> None:
    done = flowmatrix("merge", str(tmp_path / "nope.json"), "--site", str(site))
    assert done.returncode == 2 and "no such file" in done.stderr
    app = write(tmp_path / "app1.json", [("SITE-app-to-db.1", "app1", "db1", DB, 5432, "open")])
    done = flowmatrix("merge", str(app))  # against the embedded example, not this site
    assert done.returncode == 2
    assert "none of the results is about a flow of this plan" in done.stderr


# --- fleet export --------------------------------------------------------------------------


def test_export_writes_once_then_leaves_the_folder_alone(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "fleet"
    first = flowmatrix("fleet", "export", str(site), "-o", str(out))
    assert first.returncode == 0, first.stderr
    assert f"{out}: 5 file(s) written" in first.stdout
    assert "left out admins: its addresses are networks" in first.stdout
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert names == [
        "files/flowmatrix-probe.pyz",
        "files/plans/app1.json",
        "files/plans/db1.json",
        "inventory.yml",
        "playbook.yml",
    ]
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    second = flowmatrix("fleet", "export", str(site), "-o", str(out))
    assert f"{out}: 0 file(s) written" in second.stdout
    assert before == {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}


def test_export_drops_plans_of_hosts_that_are_no_longer_sources(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "fleet"
    assert flowmatrix("fleet", "export", str(site), "-o", str(out)).returncode == 0
    site.write_text(
        site.read_text().replace(
            "  - {name: db-to-app, source: db1, destination: app1, ports: [8443]}\n", ""
        )
    )
    assert flowmatrix("fleet", "export", str(site), "-o", str(out)).returncode == 0
    assert sorted(p.name for p in (out / "files" / "plans").iterdir()) == ["app1.json"]


def test_export_errors_exit_2(site: Path, tmp_path: Path) -> None:
    done = flowmatrix("fleet", "export", str(site), "-o", str(tmp_path / "a" / "b"))
    assert done.returncode == 2 and "parent folder does not exist" in done.stderr
    (tmp_path / "file").write_text("")
    done = flowmatrix("fleet", "export", str(site), "-o", str(tmp_path / "file"))
    assert done.returncode == 2 and "is not a folder" in done.stderr
    site.write_text(
        site.read_text()
        .replace("  - {name: app-to-db, source: app1, destination: db1, ports: [5432, 5433]}\n", "")
        .replace("  - {name: db-to-app, source: db1, destination: app1, ports: [8443]}\n", "")
    )
    done = flowmatrix("fleet", "export", str(site), "-o", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "no source host for Ansible to run on (admins: its addresses are networks" in (
        done.stderr
    )


# --- fleet run -----------------------------------------------------------------------------


def test_run_without_ansible_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python3"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UserError) as caught:
        runner.find_ansible_playbook()
    assert caught.value.message == "ansible-playbook is not installed"
    assert caught.value.hint == "pip install 'flowmatrix[fleet]' (it brings ansible-core)"


def _ansible_env(tmp_path: Path) -> dict[str, str]:
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
    return env


def test_run_with_unreachable_hosts_merges_nothing_as_passed(site: Path, tmp_path: Path) -> None:
    # port 1 of loopback addresses: SSH is refused at once, nothing leaves this machine
    done = flowmatrix(
        "fleet",
        "run",
        str(site),
        "-o",
        str(tmp_path / "m.json"),
        "--",
        "-e",
        "ansible_port=1",
        "-e",
        "ansible_ssh_retries=0",
        env=_ansible_env(tmp_path),
    )
    assert done.returncode == 1, done.stderr
    assert "some hosts failed or were unreachable: app1 (unreachable), db1 (unreachable)" in (
        done.stderr
    )
    matrix = json.loads((tmp_path / "m.json").read_text())
    assert {f["status"] for f in matrix["flows"]} == {"not_tested"}


def test_run_listing_options_run_no_probe(tmp_path: Path) -> None:
    # no SITE: the words after '--' go to ansible-playbook, the plan is the embedded example;
    # --list-hosts connects to nothing
    done = flowmatrix(
        "fleet",
        "run",
        "--workdir",
        str(tmp_path / "w"),
        "--",
        "--list-hosts",
        env=_ansible_env(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    assert "xms2" in done.stderr and "nsg1" in done.stderr
    assert "fleet: --list-hosts: no probe ran, nothing to merge" in done.stderr
    assert done.stdout == ""


def test_run_bad_ansible_option_exit_2(site: Path, tmp_path: Path) -> None:
    done = flowmatrix(
        "fleet", "run", str(site), "--", "--no-such-option", env=_ansible_env(tmp_path)
    )
    assert done.returncode == 2
    assert "flowmatrix: error: ansible-playbook stopped with" in done.stderr


def test_check_mode_over_a_local_connection(site: Path, tmp_path: Path) -> None:
    # the user's side of the inventory: a local connection, one working folder per host
    local = tmp_path / "local.yml"
    remote = tmp_path / "remote"
    local.write_text(
        json.dumps(
            {
                "all": {
                    "vars": {
                        "ansible_connection": "local",
                        "ansible_python_interpreter": sys.executable,
                        "flowmatrix_remote_dir": f"{remote}/{{{{ inventory_hostname }}}}",
                    }
                }
            }
        )
    )
    done = flowmatrix(
        "fleet",
        "run",
        str(site),
        "--",
        "-i",
        str(local),
        "--check",
        "-e",
        "flowmatrix_python=/opt/python3.12/bin/python3",
        env=_ansible_env(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    assert "would probe 1 flow(s) from app1 with /opt/python3.12/bin/python3" in done.stderr
    assert "would probe 1 flow(s) from db1 with /opt/python3.12/bin/python3" in done.stderr
    assert not remote.exists()  # check mode changes nothing on the hosts
