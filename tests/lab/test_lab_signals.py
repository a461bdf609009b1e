"""The real ``flowmatrix lab`` stopped by signals at random moments leaves nothing behind.

Seeded random delays cover each phase of a run (start-up after the guard is in place,
building, probing, tearing down), measured on an undisturbed run first; a terminal's
Ctrl-C (SIGINT to the whole process group) while building. After every
run: no namespace of that run, no marker of it, no new veth in the host's namespace, and
stderr is one line (``lab: interrupted (SIGTERM), cleaned 4 namespaces``) with the exit
code 128 + the signal number. A SIGKILL leaves namespaces, all of them named by the
run's marker beforehand; the next ``lab`` lists them and ``lab --clean`` removes them,
while a run whose owner is alive is never touched.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from flowmatrix.catalog import load_catalog
from lab.labproc import SMALL_SITE, SRC, LabProcess, marker_of

pytestmark = pytest.mark.kernel

SEED = 20261202
PHASES = ("start-up", "build", "probe", "teardown")
SIGNALS = (signal.SIGINT, signal.SIGTERM)
RUNS = 32
#: ``lab --clean`` in these tests removes only the debris of dead runs' markers: the
#: namespaces no marker claims may belong to someone else's test on this machine.
CLEAN_ENV = {"FLOWMATRIX_LAB_UNCLAIMED_AGE": "1e9"}


@dataclass(frozen=True)
class Timeline:
    """When each phase of a run starts and ends: the start-up in seconds after the guard
    is in place, the other phases in seconds after the run's first namespace appeared."""

    windows: dict[str, tuple[float, float]]
    namespaces: int

    def anchor(self, phase: str) -> str:
        return "guard" if phase == "start-up" else "namespaces"

    def delay(self, phase: str, rng: random.Random) -> float:
        low, high = self.windows[phase]
        return rng.uniform(low, max(low, high))


def _calibrate(out: Path) -> tuple[float, dict[str, float], int]:
    lab = LabProcess(args=(*LabProcess().args, "-o", str(out))).start()
    try:
        guard = lab.wait_for("guard")
        built = lab.wait_for("namespaces")
        assert lab.finish() == 0, lab.stderr
    finally:
        lab.remove_leftovers()
    document = json.loads(out.read_text())
    return built - guard, document["phases"], document["namespaces"]


@pytest.fixture(scope="module")
def timeline(tmp_path_factory: pytest.TempPathFactory) -> Timeline:
    """Undisturbed runs (the first one warms the caches up): how long each phase lasts."""
    out = tmp_path_factory.mktemp("lab") / "lab.json"
    _calibrate(out)
    startup, phases, namespaces = _calibrate(out)
    probing = phases["build_s"] + phases["rules_s"] + phases["listen_s"]
    teardown = probing + phases["probe_s"]
    return Timeline(
        {
            "start-up": (0.0, startup),
            "build": (0.0, probing),
            "probe": (probing, teardown),
            # a few ms long: aimed at with the jitter of a loaded machine on either side
            "teardown": (teardown - 0.02, teardown + phases["teardown_s"] + 0.03),
        },
        namespaces,
    )


def _cases() -> list[tuple[int, str, signal.Signals]]:
    return [(i, PHASES[i % 4], SIGNALS[(i // 4) % 2]) for i in range(RUNS)]


def _check_nothing_left(lab: LabProcess) -> None:
    assert lab.namespaces() == [], f"namespaces left: {lab.namespaces()}"
    assert marker_of(lab.pid) is None, "marker left"
    assert lab.new_root_veths() == set(), "veth left in the host's namespace"


def _own_lines(stderr: str) -> list[str]:
    """stderr without the listing of other runs' debris (they may exist on this machine)."""
    return [x for x in stderr.splitlines() if x and not x.startswith("lab: left by earlier")]


def _check_outcome(lab: LabProcess, first: signal.Signals, sent: bool, total: int) -> None:
    code = lab.process.returncode if lab.process else None
    lines = _own_lines(lab.stderr)
    assert "Traceback" not in lab.stderr and "Error" not in lab.stderr, lab.stderr
    if code == 128 + first:
        assert len(lines) == 1, lines
        prefix = f"lab: interrupted ({first.name}), cleaned "
        assert lines[0].startswith(prefix), lines
        cleaned = int(lines[0][len(prefix) :].split()[0])
        assert 0 <= cleaned <= total, lines
    else:
        # the run had ended before the signal (or was killed by it while the
        # interpreter was exiting, its report written): a complete, quiet run
        assert code in (0, -first) and (code == 0 or sent), (code, lines)
        # the summary line, then one line per user journey
        journeys = tuple(f"{j.name.en}: " for j in load_catalog().journeys)
        assert lines[0].startswith("lab OK:"), lines
        assert all(x.startswith(journeys) for x in lines[1:]), lines


@pytest.mark.parametrize(
    ("run", "phase", "signum"),
    _cases(),
    ids=[f"{i:02d}-{phase}-{s.name}" for i, phase, s in _cases()],
)
def test_a_signal_at_a_random_moment_leaves_nothing(
    timeline: Timeline, run: int, phase: str, signum: signal.Signals
) -> None:
    rng = random.Random(SEED + run)
    delay = timeline.delay(phase, rng)
    lab = LabProcess().start()
    try:
        lab.wait_for(timeline.anchor(phase))
        time.sleep(delay)
        sent = lab.signal(signum)
        lab.finish()
        _check_outcome(lab, signum, sent, timeline.namespaces)
        _check_nothing_left(lab)
    finally:
        lab.remove_leftovers()


@pytest.mark.parametrize("run", range(6))
def test_sigint_then_sigterm_30_ms_later_leaves_nothing(timeline: Timeline, run: int) -> None:
    rng = random.Random(SEED + 100 + run)
    phase = PHASES[run % 4]
    delay = timeline.delay(phase, rng)
    lab = LabProcess().start()
    try:
        lab.wait_for(timeline.anchor(phase))
        time.sleep(delay)
        sent = lab.signal(signal.SIGINT)
        time.sleep(0.030)
        lab.signal(signal.SIGTERM)
        lab.finish()
        _check_outcome(lab, signal.SIGINT, sent, timeline.namespaces)
        _check_nothing_left(lab)
    finally:
        lab.remove_leftovers()


@pytest.mark.parametrize("run", range(4))
def test_ctrl_c_of_a_terminal_while_building_leaves_nothing(timeline: Timeline, run: int) -> None:
    """SIGINT to the whole process group: the ``ip`` processes building the lab die too."""
    rng = random.Random(SEED + 300 + run)
    delay = timeline.delay("build", rng)
    lab = LabProcess().start()
    try:
        lab.wait_for("namespaces")
        time.sleep(delay)
        sent = lab.signal_group(signal.SIGINT)
        lab.finish()
        _check_outcome(lab, signal.SIGINT, sent, timeline.namespaces)
        _check_nothing_left(lab)
    finally:
        lab.remove_leftovers()


def _flowmatrix(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowmatrix", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": SRC, **CLEAN_ENV},
        timeout=60,
    )


@pytest.mark.parametrize("run", range(3))
def test_sigkill_leaves_only_registered_namespaces_and_clean_removes_them(
    timeline: Timeline, run: int
) -> None:
    rng = random.Random(SEED + 200 + run)
    _, high = timeline.windows["probe"]
    lab = LabProcess(args=(SMALL_SITE, "--unplanned", "1", "--timeout", "1")).start()
    try:
        lab.wait_for("namespaces")
        time.sleep(rng.uniform(0, high / 2))
        lab.signal(signal.SIGKILL)
        assert lab.finish() == -signal.SIGKILL
        left = lab.namespaces()
        marker = marker_of(lab.pid)
        assert left, "killed before it made anything: the test proves nothing"
        assert marker is not None and not marker.owner.alive()
        assert set(left) <= set(marker.namespaces), "a namespace was made before it was recorded"
        assert lab.new_root_veths() == set()
        if run == 0:
            # the next run lists the debris and says how to remove it
            listed = _flowmatrix("lab", SMALL_SITE, "--unplanned", "0", "--timeout", "0.2")
            assert listed.returncode == 0, listed.stderr
            line = next(x for x in listed.stderr.splitlines() if "left by earlier" in x)
            assert f"process {lab.pid}, gone" in line and left[0] in line
            assert "flowmatrix lab --clean" in line
        cleaned = _flowmatrix("lab", "--clean")
        assert cleaned.returncode == 0, cleaned.stderr
        assert "lab --clean: removed" in cleaned.stderr
        assert lab.namespaces() == [] and marker_of(lab.pid) is None
    finally:
        lab.remove_leftovers()


def test_namespaces_are_recorded_before_they_are_created(tmp_path: Path) -> None:
    """The lab is killed while a (delayed) ``ip`` adds its namespaces: they appear after
    their owner died, already named by its marker, and ``lab --clean`` removes them."""
    real = shutil.which("ip")
    assert real is not None
    read = tmp_path / "read"
    slow = tmp_path / "ip"
    slow.write_text(
        "#!/bin/sh\n"
        'case "$*" in *-batch*)\n'
        f'  cat > {read}.input && touch {read} && sleep 0.5 && exec {real} "$@" < {read}.input;;\n'
        "esac\n"
        f'exec {real} "$@"\n'
    )
    slow.chmod(0o755)
    lab = LabProcess(env={"PATH": f"{tmp_path}:{os.environ['PATH']}"}).start()
    try:
        deadline = time.monotonic() + 30
        while not read.exists() and time.monotonic() < deadline:
            time.sleep(0.002)
        marker = marker_of(lab.pid)  # ip has the names to add, and sleeps
        assert marker is not None and lab.namespaces() == []
        lab.signal(signal.SIGKILL)
        lab.finish()
        deadline = time.monotonic() + 10
        while len(lab.namespaces()) < len(marker.namespaces) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert lab.namespaces() == sorted(marker.namespaces)  # made after the owner died
        cleaned = _flowmatrix("lab", "--clean")
        assert cleaned.returncode == 0, cleaned.stderr
        assert lab.namespaces() == [] and marker_of(lab.pid) is None
    finally:
        lab.remove_leftovers()


def test_clean_never_touches_a_running_lab(tmp_path: Path) -> None:
    # blocked probes wait 6 s: the run is still probing when 'lab --clean' has started,
    # scanned and ended, even on a loaded machine
    lab = LabProcess(args=(SMALL_SITE, "--unplanned", "1", "--timeout", "6")).start()
    try:
        lab.wait_for("namespaces")
        seen = set(lab.namespaces())
        cleaned = _flowmatrix("lab", "--clean")
        assert cleaned.returncode == 0, cleaned.stderr
        assert lab.poll() is None, "the run ended before the clean-up: the test proves nothing"
        assert seen <= set(lab.namespaces()), cleaned.stderr
        assert not any(name in cleaned.stderr for name in seen), cleaned.stderr
        assert marker_of(lab.pid) is not None
        assert lab.finish() == 0, lab.stderr  # its namespaces worked to the end
        _check_nothing_left(lab)
    finally:
        lab.remove_leftovers()
