"""The systemd unit: valid for systemd, and its hardening is enough for a real cycle."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from probe.conftest import Lab

UNIT = Path(__file__).parents[2] / "contrib" / "systemd" / "flowmatrix-watch@.service"


def _settings() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def test_the_unit_reloads_with_sighup_and_keeps_no_capability() -> None:
    settings = _settings()
    assert settings["ExecStart"][0].split()[1:3] == ["watch", "/etc/flowmatrix/%i.yaml"]
    assert settings["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert settings["CapabilityBoundingSet"] == [""] and settings["AmbientCapabilities"] == [""]
    assert settings["NoNewPrivileges"] == ["yes"] and settings["DynamicUser"] == ["yes"]
    assert settings["RestartPreventExitStatus"] == ["2"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_analyze_finds_nothing_to_say(tmp_path: Path) -> None:
    flowmatrix = shutil.which("flowmatrix") or str(Path(sys.executable).parent / "flowmatrix")
    unit = tmp_path / "flowmatrix-watch@.service"
    unit.write_text(UNIT.read_text().replace("/usr/local/bin/flowmatrix", flowmatrix))
    checked = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "flowmatrix-watch@lab.service")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr.strip() == "" and checked.stdout.strip() == ""


def test_a_cycle_runs_without_root_and_without_any_capability(lab: Lab) -> None:
    """What the unit's user gets: an unprivileged user, an empty bounding set."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv to drop to an unprivileged user")
    with tempfile.TemporaryDirectory(prefix="flowmatrix-watch-") as folder:
        cache = Path(folder)  # pytest's own folders are root's alone
        cache.chmod(0o755)
        os.chown(cache, 65534, 65534)
        _unprivileged_cycle(setpriv, lab, cache)


def _reachable_by_nobody(path: Path) -> bool:
    """Whether every folder above ``path`` lets other users through (an interpreter
    installed under a 0700 /root is not, whatever its own mode)."""
    return all(os.stat(folder).st_mode & 0o001 for folder in Path(path).resolve().parents)


def _unprivileged_cycle(setpriv: str, lab: Lab, cache: Path) -> None:
    textfile = cache / "watch.prom"
    site = cache / "site.yaml"  # the lab's own folder is root's
    site.write_text(lab.site.read_text())
    site.chmod(0o644)
    # The unit's user: nobody, with no capability. Where this interpreter cannot be read by
    # another user, the same cycle runs as uid 0 with an empty bounding set and no
    # capability at all: what the unit's empty CapabilityBoundingSet promises is then
    # proved, only the uid differs.
    drop_to = ["--reuid=65534", "--regid=65534", "--clear-groups"]
    if not _reachable_by_nobody(Path(sys.executable)):
        drop_to = []
        os.chown(cache, 0, 0)  # without CAP_DAC_OVERRIDE, root writes only where it owns
    command = [
        setpriv,
        *drop_to,
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
        sys.executable,
        "-m",
        "flowmatrix",
        "watch",
        str(site),
        "--from",
        "xms1",
        "--no-tls",
        "--timeout",
        "0.3",
        "--once",
        "--textfile",
        str(textfile),
    ]
    env = {**os.environ, "FLOWMATRIX_CACHE_DIR": str(cache), "HOME": str(cache)}
    ran = subprocess.run(command, capture_output=True, text=True, env=env)
    assert ran.returncode == 1, ran.stderr  # the lab's closed port
    assert 'flow="SITE-tcp-open.1"' in textfile.read_text()
    up = [x for x in textfile.read_text().splitlines() if x.startswith("flowmatrix_flow_up{")]
    assert any('flow="SITE-tcp-open.1"' in line and line.endswith(" 1.0") for line in up)
    status = subprocess.run(
        [setpriv, *drop_to, "--inh-caps=-all", "--bounding-set=-all", "cat", "/proc/self/status"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    effective = next(x for x in status.splitlines() if x.startswith("CapEff:"))
    assert int(effective.split()[1], 16) == 0, effective  # the cycle above had no capability
