"""Namespaces registered before they exist, and the debris of runs that died, in real
namespaces and real marker files. Only what these tests create is ever removed: other
debris on the machine is left alone (it is filtered out of what ``find_debris`` sees)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowmatrix.lab.debris import Debris, clean, debris_line, find_debris
from flowmatrix.netns import NamespaceSet, delete_namespaces, existing_namespaces
from flowmatrix.netns_registry import RUN_DIR, Marker, Owner, marker_path, read_markers

pytestmark = pytest.mark.kernel
SRC = str(Path(__file__).parents[2] / "src")


def _mine(found: list[Debris], names: set[str]) -> list[Debris]:
    """The debris items that are this test's (by namespace or marker prefix)."""
    return [
        Debris(tuple(n for n in d.namespaces if n in names), d.reason, d.marker, d.broken)
        for d in found
        if set(d.namespaces) & names or (d.marker is not None and d.marker.prefix in names)
    ]


@pytest.fixture
def own_names() -> Iterator[set[str]]:
    """Names this test creates; whatever is left of them is deleted afterwards."""
    names: set[str] = set()
    yield names
    delete_namespaces(n for n in existing_namespaces() if any(n.startswith(x) for x in names))
    for prefix in names:
        marker_path(prefix).unlink(missing_ok=True)


def test_a_set_records_its_names_before_creating_them(own_names: set[str]) -> None:
    made = NamespaceSet(prefix=f"fmtest{uuid.uuid4().hex[:6]}", purpose="test")
    own_names.add(made.prefix)
    with made:
        spaces = made.add_many(["a", "b"])
        marker = next(
            m for m in read_markers() if isinstance(m, Marker) and m.prefix == made.prefix
        )
        assert marker.namespaces == [ns.name for ns in spaces]
        assert marker.owner.pid == os.getpid() and marker.owner.alive()
        assert marker.purpose == "test"
        assert {ns.name for ns in spaces} <= existing_namespaces()
    assert not marker_path(made.prefix).exists()
    assert not {ns.name for ns in spaces} & existing_namespaces()


def test_a_link_never_passes_through_the_host(own_names: set[str]) -> None:
    made = NamespaceSet(prefix=f"fmtest{uuid.uuid4().hex[:6]}")
    own_names.add(made.prefix)
    with made:
        a, b = made.add_many(["a", "b"])
        made.link(a, "left", b, "right")
        listed = a.run(["ip", "-o", "link", "show", "left"]).stdout
        assert "link-netns" in listed and "state UP" in listed
        assert "right" in b.run(["ip", "-o", "link", "show", "right"]).stdout
        dad = b.run(["sysctl", "-n", "net.ipv6.conf.default.accept_dad"]).stdout
        assert dad.strip() == "0"


def test_what_a_dead_process_left_is_debris_and_clean_removes_it(
    own_names: set[str],
) -> None:
    prefix = f"fmtest{uuid.uuid4().hex[:6]}"
    own_names.add(prefix)
    # a real process creates namespaces and dies without a chance to clean up
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import os; from flowmatrix.netns import NamespaceSet; "
            f"NamespaceSet(prefix={prefix!r}, purpose='flowmatrix lab').add_many(['z0', 'f0']); "
            "os._exit(0)",
        ],
        check=True,
        env={**os.environ, "PYTHONPATH": SRC},
    )
    left = {f"{prefix}-z0", f"{prefix}-f0"}
    assert left <= existing_namespaces()
    mine = _mine(find_debris(), left | {prefix})
    assert len(mine) == 1 and set(mine[0].namespaces) == left
    assert mine[0].marker is not None and not mine[0].marker.owner.alive()
    line = debris_line(mine)
    assert line is not None and "2 namespaces" in line and "flowmatrix lab --clean" in line
    report = clean(mine)
    assert set(report.removed) == left and report.files == (marker_path(prefix),)
    assert not left & existing_namespaces() and not marker_path(prefix).exists()
    assert "removed 2 namespaces and 1 marker file" in report.line()


def test_a_live_owner_is_never_debris(own_names: set[str]) -> None:
    made = NamespaceSet(prefix=f"fmtest{uuid.uuid4().hex[:6]}")
    own_names.add(made.prefix)
    with made:
        made.add("z0")
        later = time.time() + 86400
        assert _mine(find_debris(now=later, age=0), {made.name_of("z0"), made.prefix}) == []


def test_an_unclaimed_lab_namespace_is_debris_only_when_old(own_names: set[str]) -> None:
    name = f"fmlab-unclaimed{uuid.uuid4().hex[:6]}"
    own_names.add(name)
    subprocess.run(["ip", "netns", "add", name], check=True)
    assert _mine(find_debris(), {name}) == []  # young: maybe a run that is starting
    mine = _mine(find_debris(now=time.time() + 3600), {name})
    assert len(mine) == 1 and mine[0].namespaces == (name,) and mine[0].marker is None
    assert "no marker claims" in mine[0].reason
    assert clean(mine).removed == (name,)
    assert name not in existing_namespaces()


def test_a_lab_namespace_naming_a_live_process_is_never_debris(own_names: set[str]) -> None:
    name = f"fmlab-{os.getpid()}-test{uuid.uuid4().hex[:4]}-z0"
    own_names.add(name)
    subprocess.run(["ip", "netns", "add", name], check=True)
    assert _mine(find_debris(now=time.time() + 86400, age=0), {name}) == []


def test_a_marker_cut_short_is_debris_once_old(own_names: set[str]) -> None:
    prefix = f"fmtest{uuid.uuid4().hex[:6]}"
    own_names.add(prefix)
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    path = marker_path(prefix)
    path.write_text('{"format_version": 1, "prefix": "fmte')
    old = time.time() - 3600
    os.utime(path, (old, old))
    mine = [d for d in find_debris(age=60) if d.broken is not None and d.broken.path == path]
    assert len(mine) == 1 and "unreadable marker" in mine[0].reason
    assert clean(mine).files == (path,)
    assert not path.exists()


def test_a_marker_names_its_owner_and_its_start_time() -> None:
    owner = Owner.this_process()
    assert owner.pid == os.getpid() and owner.start is not None and owner.alive()
    assert not Owner(owner.pid, owner.start + 1).alive()  # the pid reused by another
    marker = Marker("fmtest-x", owner, "test", ["fmtest-x-a"])
    document = marker.to_dict()
    assert document["owner"] == {"pid": owner.pid, "start": owner.start}
    assert json.loads(json.dumps(document))["namespaces"] == ["fmtest-x-a"]
    assert marker.claims("fmtest-x-b") and not marker.claims("fmtest-xy-b")
