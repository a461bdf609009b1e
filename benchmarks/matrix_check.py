"""Matrix check speed: a 10,000-row XLSX sheet against the default plan, whole CLI process.

Run: python benchmarks/matrix_check.py [--rows 10000] [--pairs 5]

The sheet has a French header and 10,000 rows: copies of the plan's own flows (covered),
rows from the SNIP to LDAP (wrong NetScaler address), DNS over TCP only (wrong protocol),
/16 sources (too wide) and unknown ports (not in the plan); the check writes its JSON.
The peer is the plainest honest alternative that runs here: openpyxl reading the same
sheet alone (read-only, cached values, every row turned to values), as a process: the
floor any XLSX-reading check pays. Target: under 2 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from harness import Side, compare, print_comparison  # noqa: E402

PEER = (
    "import openpyxl, sys\n"
    "wb = openpyxl.load_workbook(sys.argv[1], read_only=True, data_only=True)\n"
    "for ws in wb.worksheets:\n    rows = list(ws.iter_rows(values_only=True))\n"
)


def build(path: Path, rows: int) -> None:
    import xlsxwriter

    from flowmatrix.api import load_plan

    plan = load_plan(None)
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Flux")
    sheet.write_row(
        0,
        0,
        [
            "N°",
            "Émetteur",
            "IP source",
            "Cible",
            "IP destination",
            "Protocole",
            "Port(s)",
            "Justification",
        ],
    )
    templates = []
    for flow in plan.flows:
        source = "toutes" if flow.source.any_address else ", ".join(flow.source.addresses)
        target = ", ".join(flow.destination.addresses or flow.destination.fqdns)
        for port in flow.ports:
            templates.append(
                [
                    flow.source.role_name,
                    source,
                    flow.destination.role_name,
                    target,
                    flow.protocol.upper(),
                    str(port),
                    flow.description[:60],
                ]
            )
    templates += [
        ["NetScaler", "172.16.10.20", "AD", "10.10.20.41", "TCP", "389", "LDAP"],
        ["NetScaler", "172.16.10.20", "DNS", "10.10.20.42", "TCP", "53", "DNS"],
        ["XenMobile", "10.10.0.0/16", "SQL", "10.10.20.51", "TCP", "1433", "db"],
        ["admins", "10.10.50.5", "xms", "10.10.20.11", "TCP", "8000-8100", "?"],
    ]
    for row in range(1, rows + 1):
        sheet.write_row(row, 0, [str(row), *templates[row % len(templates)]])
    book.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        sheet = Path(folder) / "demande.xlsx"
        build(sheet, args.rows)
        out = Path(folder) / "check.json"
        exe = [sys.executable, "-m", "flowmatrix"]
        result = compare(
            Side(
                "flowmatrix matrix check",
                [*exe, "matrix", "check", str(sheet), "-f", "json", "-o", str(out)],
                check=lambda: out.stat().st_size > 0 or sys.exit("no output"),
            ),
            Side("openpyxl reading the sheet", [sys.executable, "-c", PEER, str(sheet)]),
            pairs=args.pairs,
        )
        print_comparison(result, f"matrix check of a {args.rows:,}-row sheet")


if __name__ == "__main__":
    main()
