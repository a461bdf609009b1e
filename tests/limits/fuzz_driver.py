"""Run flowmatrix on seeded mutations of real inputs; print one JSON line per run.

Started by test_fuzz.py as its own process: the command modules are imported once, then
each run is a fork whose CPU time and address space are capped (10 s, 500 MB) with
``resource.setrlimit``, so that a run is a whole command under the caps without paying
for Python's start-up each time.

    python fuzz_driver.py SEED RUNS_PER_KIND WORKDIR
"""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import sys
import time
from pathlib import Path

CPU_SECONDS = 10
MEMORY_BYTES = 500 * 1024 * 1024
WALL_SECONDS = 30

HERE = Path(__file__).parent
TESTS = HERE.parent
LAB_SITE = TESTS / "audit" / "data" / "lab_site.yaml"

#: Pieces a mutation splices in: YAML and JSON structure, anchors, huge and odd values.
SPLICES = [
    "[",
    "]",
    "{",
    "}",
    ":",
    ": ",
    "- ",
    "\n  ",
    "\n",
    "&a ",
    "*a",
    "<<: *a",
    "!!set ",
    "!x ",
    '"',
    "'",
    "\\",
    "#",
    ",",
    "99999999999999999999",
    "-1",
    "0",
    "65536",
    "1-65535",
    "*",
    "\x00",
    "\xff",
    "\u202e",
    "\x1b[31m",
    "null",
    "true",
    "~",
    "\t",
    "0x1f",
    "1e400",
    "[" * 300,
    "{" * 300,
    "  " * 200 + "k:",
    "a" * 5000,
    "-j ACCEPT",
    "-A FORWARD ",
    "table ",
    "chain ",
    "policy accept;",
    "jump x",
    '{"x": ',
    "[[",
    "]]}",
    "2024-13-45",
]


def mutate(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 4)):
        if not text:
            text = rng.choice(SPLICES)
            continue
        at = rng.randrange(len(text))
        span = rng.randint(1, 40)
        choice = rng.random()
        if choice < 0.35:
            text = text[:at] + rng.choice(SPLICES) + text[at:]
        elif choice < 0.55:
            text = text[:at] + text[at + span :]
        elif choice < 0.7:
            text = text[:at] + text[at : at + span] * rng.randint(2, 50) + text[at:]
        elif choice < 0.8:
            text = text[:at]
        elif choice < 0.9:
            lines = text.splitlines(keepends=True)
            rng.shuffle(lines[: rng.randint(2, max(2, len(lines)))])
            text = "".join(lines)
        else:
            text = text[:at] + chr(rng.randrange(0x20, 0x7F)) + text[at + 1 :]
    return text


ODD_VALUES: list[object] = [
    None,
    -1,
    0,
    10**30,
    1.5,
    "",
    "x" * 5000,
    "@nope",
    "*",
    [],
    {},
    [[[[[]]]]],
    True,
    {"range": [9, 1]},
    {"prefix": {"addr": "::", "len": 999}},
    {"set": [None]},
    "eth0+",
]


def mutate_json(text: str, rng: random.Random) -> str:
    """Replace values deep inside the document: valid JSON, unexpected content."""
    document = json.loads(text)
    for _ in range(rng.randint(1, 3)):
        parent: object = document
        for _ in range(rng.randint(1, 8)):
            children = (
                list(parent.values())
                if isinstance(parent, dict)
                else parent
                if isinstance(parent, list)
                else []
            )
            inner = [c for c in children if isinstance(c, dict | list) and c]
            if not inner:
                break
            parent = rng.choice(inner)
        if isinstance(parent, dict) and parent:
            parent[rng.choice(list(parent))] = rng.choice(ODD_VALUES)
        elif isinstance(parent, list) and parent:
            parent[rng.randrange(len(parent))] = rng.choice(ODD_VALUES)
    return json.dumps(document)


def seeds(work: Path) -> dict[str, tuple[str, list[str]]]:
    """kind -> (seed text, command with {} for the mutated file)."""
    from flowmatrix.api import example_text

    src = Path(__import__("flowmatrix").__file__).parent
    out = str(work / "out")
    lab = str(LAB_SITE)
    audit = ["audit", lab, "-F", "fw", "-f", "json", "-o", out, "-r", "{}"]
    results = work / "results.seed.json"
    if not results.exists():
        run(
            [
                "audit",
                lab,
                "-F",
                "fw",
                "-r",
                str(HERE / "data" / "seed.nft.json"),
                "-f",
                "json",
                "-o",
                str(results),
            ],
            work,
            "seed",
        )
    return {
        "site": (example_text("default"), ["plan", "{}", "-f", "json", "-o", out]),
        "catalog": (
            (src / "catalogs" / "xenmobile-10.yaml").read_text("utf-8"),
            ["plan", "--catalog", "{}", "-f", "json", "-o", out],
        ),
        "nft-json": ((HERE / "data" / "seed.nft.json").read_text("utf-8"), audit),
        "nft-text": (
            (TESTS / "audit" / "data" / "lab.nft").read_text("utf-8"),
            [*audit, "--ruleset-format", "nft", "--nft-reader", "text"],
        ),
        "iptables-save": ((TESTS / "audit" / "data" / "lab.iptables").read_text("utf-8"), audit),
        "results": (results.read_text("utf-8"), ["report", lab, "--results", "{}", "-o", out]),
    }


def run(args: list[str], work: Path, name: str) -> dict[str, object]:
    err = work / f"{name}.stderr"
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: one whole command under the caps
        code = 70
        try:
            resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
            resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
            fd = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(fd, 2)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            from flowmatrix.cli import main

            try:
                main(args)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # a traceback: what the test looks for
            import traceback

            traceback.print_exc()
            code = 70
        finally:
            sys.stderr.flush()
            os._exit(code)
    deadline = started + WALL_SECONDS
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            status = -1
            break
        time.sleep(0.01)
    code = os.waitstatus_to_exitcode(status) if status != -1 else "wall-timeout"
    return {"code": code, "stderr": err.read_text("utf-8", "replace")}


def main() -> None:
    seed, runs, work = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    import flowmatrix.cli as cli

    for module in cli.COMMAND_MODULES:  # imported once, before the forks
        __import__(f"flowmatrix.cli.{module}")
    rng = random.Random(seed)
    for kind, (text, command) in seeds(work).items():
        for index in range(runs):
            structured = kind in ("nft-json", "results") and index % 2 == 0
            mutated = mutate_json(text, rng) if structured else mutate(text, rng)
            path = work / f"{kind}-{index}.input"
            path.write_text(mutated, "utf-8", errors="surrogatepass")
            args = [str(path) if part == "{}" else part for part in command]
            report = run(args, work, f"{kind}-{index}")
            print(json.dumps({"kind": kind, "index": index, "args": args, **report}), flush=True)


if __name__ == "__main__":
    main()
