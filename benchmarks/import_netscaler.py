"""Import speed: a 200,000-line ns.conf into a site draft, the whole CLI process timed.

Run: python benchmarks/import_netscaler.py [--lines 200000] [--pairs 5]

The input is the test fixture grown to --lines: 2,000 lb vservers with their services
and service groups, servers, LDAP actions, routes and policies, plus commands the import
skips (SSL profiles, rewrite and responder policies with q{...} expressions). The peer is
the plainest honest alternative that runs here: Python reading the same file and splitting
each line with shlex.split (a tokenizer only: no command is understood), as a process.
Target: under 2 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from harness import Side, compare, print_comparison  # noqa: E402

FIXTURE = HERE.parent / "tests" / "importers" / "data" / "ns.conf"
PEER = "import shlex, sys\nfor line in open(sys.argv[1], encoding='utf-8'):\n    shlex.split(line, comments=True)\n"


def grow(lines: int) -> str:
    out = FIXTURE.read_text().splitlines()
    n = 0
    while len(out) < lines:
        n += 1
        a, b = 1 + n // 250 % 250, n % 250 + 1
        out += [
            f"add server srv{n} 10.{20 + n % 200}.{a}.{b}",
            f"add service svc{n} srv{n} SSL 443 -gslb NONE -maxClient 0 -usip NO",
            f"add serviceGroup sg{n} HTTP -maxClient 0 -cip ENABLED X-Forwarded-For",
            f"bind serviceGroup sg{n} srv{n} 8080",
            f"add lb vserver lb{n} HTTP 10.{20 + n % 200}.{a}.{b} 80 -persistenceType NONE",
            f"bind lb vserver lb{n} sg{n}",
            f'add rewrite action rw{n} insert_http_header X-Id q{{"id-{n}"}}',
            f'add responder policy rp{n} "HTTP.REQ.URL.CONTAINS(\\"/x{n}\\")" rs_redirect',
            f"set ssl vserver lb{n} -sslProfile ns_default_ssl_profile_frontend",
            f"add route 10.{100 + n % 100}.{n % 250}.0 255.255.255.0 172.16.10.1",
        ]
    return "\n".join(out[:lines]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        conf = Path(folder) / "ns.conf"
        conf.write_text(grow(args.lines))
        out = Path(folder) / "site.yaml"
        exe = [sys.executable, "-m", "flowmatrix"]
        result = compare(
            Side(
                "flowmatrix import netscaler",
                [*exe, "import", "netscaler", str(conf), "-o", str(out)],
                check=lambda: out.stat().st_size > 0 or sys.exit("no output"),
            ),
            Side("python shlex.split per line", [sys.executable, "-c", PEER, str(conf)]),
            pairs=args.pairs,
        )
        print_comparison(
            result,
            f"import of a {args.lines:,}-line ns.conf ({os.path.getsize(conf) / 1e6:.1f} MB)",
        )


if __name__ == "__main__":
    main()
