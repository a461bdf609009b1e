"""Seeded mutations of sites, catalogs, nft JSON and text, iptables-save and results
files: every run exits 0, 1 or 2, never with a traceback, and an error is one line.

Each run is a whole command in a process capped at 10 s of CPU and 500 MB of memory
(fuzz_driver.py); the seed is fixed, so a failure is reproduced by running it again.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SEED = 18
RUNS_PER_KIND = 6


@pytest.mark.parametrize("seed", [SEED])
def test_mutated_inputs_exit_0_1_or_2_with_one_line_errors(tmp_path: Path, seed: int) -> None:
    driver = Path(__file__).with_name("fuzz_driver.py")
    done = subprocess.run(
        [sys.executable, str(driver), str(seed), str(RUNS_PER_KIND), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    runs = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(runs) == 6 * RUNS_PER_KIND
    bad = []
    for run in runs:
        stderr = run["stderr"]
        errors = [line for line in stderr.splitlines() if line.startswith("flowmatrix: error:")]
        one_line = run["code"] != 2 or (len(errors) == 1 and len(errors[0]) < 2000)
        if run["code"] not in (0, 1, 2) or "Traceback" in stderr or not one_line:
            bad.append(f"{run['kind']} #{run['index']} exit {run['code']}: {stderr[-1500:]}")
    assert not bad, "\n\n".join(bad)
