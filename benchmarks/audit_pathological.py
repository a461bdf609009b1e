"""The audit on the cases whose cost once followed the product of site and ruleset, as
whole processes, beside the plain first-match interpreter (``audit/naive.py``).

    python benchmarks/audit_pathological.py [--pairs 5] [--case home|chair4|chair6|flat]

Cases (the shared rulesets next to the repository, ``../shared/data/rulesets``):

- ``home``: ``example:enterprise-dual-stack -F edge`` against the home user's typical
  iptables-save dump: unknown interfaces make most rules unevaluated conditions.
- ``chair4`` / ``chair6``: the chair's iptables and ip6tables dumps against the same
  site (``-F core-fw``).
- ``flat``: ``example:default -F fw-back`` against a flat FORWARD chain of 3,000 DROP
  rules (every planned flow blocked: a fix is placed for each).

Each side is the command a user runs: ``flowmatrix audit ... -f json -o OUT``. The peer
is the same command with the flows evaluated by the plain interpreter instead of the
compiled batch evaluator (``--plain``: this file runs the CLI with that one swap).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from harness import Side, compare, console_script, print_comparison

NET = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "rulesets" / "net-network"
HOME = NET / "config_home_user_typical_home_user_iptables-save"
CHAIR = (
    NET / "configs_chair_for_Network_Architectures_and_Services_iptables-save-2016-06-27_16-29-01"
)
CHAIR6 = (
    NET / "configs_chair_for_Network_Architectures_and_Services_ip6tables-save-2016-06-27_16-29-01"
)


def flat_chain(rules: int) -> str:
    """An iptables-save dump: FORWARD with ``rules`` DROP rules of distinct sources."""
    lines = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
    for n in range(rules):
        lines.append(f"-A FORWARD -s 198.18.{n // 250}.{n % 250 + 1}/32 -j DROP")
    lines.append("-A FORWARD -j DROP")
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def cases(work: Path) -> dict[str, list[str]]:
    flat = work / "flat-3000.rules"
    flat.write_text(flat_chain(3000), encoding="utf-8")
    site = "example:enterprise-dual-stack"
    return {
        "home": ["audit", site, "-F", "edge", "-r", str(HOME)],
        "chair4": ["audit", site, "-F", "core-fw", "-r", str(CHAIR)],
        "chair6": [
            "audit",
            site,
            "-F",
            "core-fw",
            "-r",
            str(CHAIR6),
            "--ruleset-format",
            "ip6tables",
        ],
        "flat": ["audit", "example:default", "-F", "fw-back", "-r", str(flat)],
    }


def run_plain(argv: Sequence[str]) -> int:
    """The CLI with the flows evaluated one by one by the plain interpreter."""
    from flowmatrix.audit import judging as run
    from flowmatrix.audit.naive import NaiveWalker
    from flowmatrix.audit.verdict import evaluate_flow
    from flowmatrix.cli import main

    def plain(walker: object, path: str, queries: Sequence[object]) -> list[object]:
        naive = NaiveWalker(walker.ruleset)  # type: ignore[attr-defined]
        return [evaluate_flow(naive, path, ctx, region) for ctx, region in queries]  # type: ignore[arg-type,misc]

    run.evaluate_flows = plain  # type: ignore[assignment]
    sys.argv = ["flowmatrix", *argv]
    try:
        main()
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--plain":
        raise SystemExit(run_plain(sys.argv[2:]))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--case", action="append", choices=("home", "chair4", "chair6", "flat"))
    args = parser.parse_args()
    flowmatrix = console_script("flowmatrix")
    with tempfile.TemporaryDirectory(prefix="audit-pathological-") as tmp:
        work = Path(tmp)
        found = cases(work)
        for name in args.case or list(found):
            out = str(work / f"{name}.json")
            command = [*found[name], "-f", "json", "-o", out]
            ours = Side("flowmatrix audit", [flowmatrix, *command])
            peer = Side("plain interpreter", [sys.executable, __file__, "--plain", *command])
            print_comparison(compare(ours, peer, pairs=args.pairs), f"audit {name}")
            print(f"  output {Path(out).stat().st_size / 1e6:.1f} MB of JSON")


if __name__ == "__main__":
    main()
