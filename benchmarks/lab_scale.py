"""The lab's speed, as the user runs it, and the kernel's limit under it.

Run as root (network namespaces)::

    python benchmarks/lab_scale.py              # every example and the 40-zone site
    python benchmarks/lab_scale.py --rounds 7 --kernel 400

* **The limit**: how fast this kernel creates network namespaces when asked the way the
  lab asks (``ip -batch`` of ``netns add``, names registered first), and deletes them.
* **The command**: ``flowmatrix lab SITE -f json -o FILE`` timed as a whole process
  (exec to exit, output written) on every shipped example and on a generated site of
  10 firewalls, 40 zones and 1,000 planned probes (tests/lab/scale_site.py), the sites
  taking turns (A B C D, A B C D, ...), median, min and max of each. Every run must pass
  (exit 0, ``failed`` false). Beside it, from the lab's own JSON (in-process figures):
  namespaces built per second (namespaces / build phase), probes per second (probes /
  probe phase), and the time of each phase.

There is no peer: no other tool rehearses a site's firewalls in namespaces from its flow
matrix, so the reference is the kernel's own rate. Targets (issue 16): each example
< 5 s, the generated site < 60 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from harness import Side, alternate, load_average, print_runs  # noqa: E402

from flowmatrix.api import example_names  # noqa: E402
from flowmatrix.netns import NamespaceSet, kernel_support  # noqa: E402
from lab.scale_site import generate_site  # noqa: E402

EXAMPLE_TARGET = 5.0
SCALE_TARGET = 60.0


def kernel_rate(count: int, rounds: int) -> None:
    """Namespaces created per second by one ``ip -batch``, and deleted."""
    created: list[float] = []
    deleted: list[float] = []
    for _ in range(max(rounds, 5)):
        made = NamespaceSet(prefix=f"fmbench{uuid.uuid4().hex[:6]}", purpose="lab_scale.py")
        names = [made.name_of(f"k{i}") for i in range(count)]
        made.register(names)
        try:
            started = time.perf_counter()
            subprocess.run(
                ["ip", "-batch", "-"],
                input="".join(f"netns add {n}\n" for n in names),
                text=True,
                check=True,
            )
            created.append(time.perf_counter() - started)
        finally:
            started = time.perf_counter()
            made.close()
            deleted.append(time.perf_counter() - started)
        time.sleep(1.0)  # let the kernel free them (it does so in the background)
    print(f"== kernel: network namespace creation ({load_average()})")
    median = statistics.median(created)
    print(
        f"  {count} namespaces by one ip -batch: median {median:.3f} s "
        f"(min {min(created):.3f}, max {max(created):.3f}, n={len(created)}): "
        f"{count / median:.0f} namespaces/s"
    )
    print(
        f"  deleted by one ip -batch: median {statistics.median(deleted):.3f} s "
        "(the kernel frees them afterwards, in the background)"
    )


@dataclass
class LabSite:
    """One site under test: where its file or example is, its output, what the runs said."""

    name: str
    ref: str
    output: Path
    documents: list[dict[str, Any]] = field(default_factory=list)

    def side(self) -> Side:
        command = ["lab", self.ref, "-f", "json", "-o", str(self.output)]
        return Side(
            self.name,
            [sys.executable, "-m", "flowmatrix", *command],
            before=lambda: self.output.unlink(missing_ok=True),
            check=self.check,
        )

    def check(self) -> None:
        document = json.loads(self.output.read_text())
        if document["failed"]:
            raise RuntimeError(f"{self.name}: the lab failed: {document['summary']}")
        self.documents.append(document)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def in_process(site: LabSite) -> str:
    phases = [d["phases"] for d in site.documents]
    namespaces = int(site.documents[0]["namespaces"])
    summary = site.documents[0]["summary"]
    probes = int(summary["planned"]) + int(summary["unplanned"])
    build = _median([float(p["build_s"]) for p in phases])
    probe = _median([float(p["probe_s"]) for p in phases])
    each = ", ".join(
        f"{key[:-2]} {_median([float(p.get(key, 0.0)) for p in phases]):.3f}"
        for key in ("build_s", "rules_s", "names_s", "listen_s", "probe_s", "teardown_s")
    )
    return (
        f"  {site.name:<28} {namespaces} namespaces built in {build:.3f} s "
        f"({namespaces / build:.0f}/s); {probes} probes in {probe:.3f} s "
        f"({probes / probe:.0f}/s); phases (s, median): {each}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs of each site (>= 5)")
    parser.add_argument("--kernel", type=int, default=200, help="namespaces per kernel round")
    args = parser.parse_args()
    reason = kernel_support()
    if reason is not None:
        sys.exit(f"lab_scale.py: {reason}")
    kernel_rate(args.kernel, args.rounds)
    with tempfile.TemporaryDirectory(prefix="flowmatrix-lab-bench-") as folder:
        scale = Path(folder) / "scale.yaml"
        scale.write_text(generate_site())
        sites = [
            LabSite(name, f"example:{name}", Path(folder) / f"{name}.json")
            for name in example_names()
        ]
        sites.append(LabSite("10 fw, 40 zones, 1000", str(scale), Path(folder) / "scale.json"))
        found = alternate([s.side() for s in sites], rounds=args.rounds)
        print_runs(found, "flowmatrix lab, whole process, sites in turn")
        print("  in-process, from the lab's JSON:")
        for site in sites:
            print(in_process(site))
    print("  peer: none (no other tool rehearses a flow matrix in namespaces)")
    for runs, site in zip(found, sites, strict=True):
        target = SCALE_TARGET if site is sites[-1] else EXAMPLE_TARGET
        verdict = "ok" if runs.median < target else "OVER"
        print(f"  target {site.name}: < {target:.0f} s: {verdict} (median {runs.median:.2f} s)")


if __name__ == "__main__":
    main()
