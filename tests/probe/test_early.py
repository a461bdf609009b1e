"""A repeated verify probes early, on real loopback sockets: the same results, only for the
same targets, one run at a time, and never a secret in the cache."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from flowmatrix.api import load_plan
from flowmatrix.cli import OUTPUT_FLAGS, main
from flowmatrix.probe import early
from flowmatrix.probe.runner import ProbeOptions
from flowmatrix.probe.targets import ProbeTarget, Selection, build_targets
from flowmatrix.probe.verify import verify
from probe.responders import free_port


class Counted:
    """A progress receiver (as a progress bar is): counts the results it is given."""

    def __init__(self) -> None:
        self.results = 0

    def start(self, total: int) -> None:
        pass

    def advance(self, result: object) -> None:
        self.results += 1

    def finish(self) -> None:
        pass


class Listener:
    """A TCP listener on loopback that counts the connections made to it: each completed
    handshake waits in the accept queue until ``accepted`` drains it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.setblocking(False)
        self.port: int = self.sock.getsockname()[1]
        self._count = 0

    @property
    def accepted(self) -> int:
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return self._count
            self._count += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    opened = Listener()
    yield opened
    opened.close()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FLOWMATRIX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FLOWMATRIX_NO_CACHE", raising=False)
    return tmp_path / "cache"


def site_file(folder: Path, ports: list[int]) -> Path:
    site = folder / "site.yaml"
    site.write_text(
        "version: 1\nname: early\n"
        "zones:\n  - {name: here, cidrs: [127.0.0.0/8]}\n"
        "hosts:\n"
        "  - {name: src, role: xenmobile, addresses: [127.0.0.1]}\n"
        "  - {name: dst, role: sql-server, addresses: [127.0.0.1]}\n"
        "flows:\n"
        f"  - {{name: t, source: src, destination: dst, ports: [{', '.join(map(str, ports))}]}}\n"
    )
    return site


def targets_of(site: Path) -> tuple[ProbeTarget, ...]:
    return build_targets(load_plan(site), Selection(flows=("SITE-t",))).targets


OPTIONS = ProbeOptions(timeout=0.3, retries=0, check_tls=False)


def test_the_same_targets_get_the_early_results(
    cache: Path, tmp_path: Path, listener: Listener
) -> None:
    closed = free_port()
    site = site_file(tmp_path, [listener.port, closed])
    argv = ["verify", str(site), "--flow", "SITE-t"]
    with early.early_probes(argv):  # the first run: nothing kept yet, so nothing probed
        assert early.take(targets_of(site), OPTIONS) is None
        early.keep(targets_of(site), OPTIONS)
    assert listener.accepted == 0
    with early.early_probes(argv):  # the next one probes as soon as it starts
        report = verify(load_plan(site), Selection(flows=("SITE-t",)), OPTIONS)
    assert [r.state for r in report.results] == ["open", "closed"]
    assert listener.accepted == 1  # probed once: the early results were the ones used


def test_other_targets_or_options_wait_and_probe_again(
    cache: Path, tmp_path: Path, listener: Listener
) -> None:
    site = site_file(tmp_path, [listener.port])
    argv = ["verify", str(site)]
    with early.early_probes(argv):
        early.keep(targets_of(site), OPTIONS)
    with early.early_probes(argv):
        assert early.take(targets_of(site), replace(OPTIONS, retries=1)) is None
    assert listener.accepted == 1  # the early run ended before anything else was probed
    progress = Counted()
    with early.early_probes(argv):
        report = verify(load_plan(site), Selection(flows=("SITE-t",)), OPTIONS, progress)
    assert [r.state for r in report.results] == ["open"]
    assert progress.results == 1
    assert listener.accepted == 3  # a progress bar to feed: the early results are not used


def test_a_run_with_a_secret_is_never_kept(cache: Path, tmp_path: Path) -> None:
    site = site_file(tmp_path, [free_port()])
    with early.early_probes(["verify", str(site)]):
        early.keep(targets_of(site), replace(OPTIONS, radius_secret=b"s3cret"))
    assert not list(cache.glob("verify-targets-*"))


def test_a_long_run_is_never_kept(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = site_file(tmp_path, [free_port(), free_port()])
    monkeypatch.setattr(early, "MAX_TARGETS", 1)
    with early.early_probes(["verify", str(site)]):
        early.keep(targets_of(site), OPTIONS)
    assert not list(cache.glob("verify-targets-*"))
    monkeypatch.setattr(early, "MAX_TARGETS", 2)
    with early.early_probes(["verify", str(site)]):
        early.keep(targets_of(site), OPTIONS)
    assert len(list(cache.glob("verify-targets-*"))) == 1


def test_the_key_follows_what_the_command_reads_not_what_it_writes(tmp_path: Path) -> None:
    site = site_file(tmp_path, [1000])
    out = tmp_path / "out.json"
    out.write_text("one")
    argv = ["verify", str(site), "-o", str(out)]
    key = early.command_key(argv, OUTPUT_FLAGS)
    out.write_text("two")
    assert early.command_key(argv, OUTPUT_FLAGS) == key
    glued = ["verify", str(site), f"--output={out}"]
    before = early.command_key(glued, OUTPUT_FLAGS)
    out.write_text("three")
    assert early.command_key(glued, OUTPUT_FLAGS) == before
    site_file(tmp_path, [1001])
    assert early.command_key(argv, OUTPUT_FLAGS) != key
    assert early.command_key([*argv, "--timeout", "2"], OUTPUT_FLAGS) != key


def test_the_command_run_twice_reports_the_same(
    cache: Path, tmp_path: Path, listener: Listener, capsys: pytest.CaptureFixture[str]
) -> None:
    site = site_file(tmp_path, [listener.port, free_port()])
    out = tmp_path / "out.json"
    argv = [
        "verify",
        str(site),
        "--flow",
        "SITE-t",
        "--timeout",
        "0.3",
        "-f",
        "json",
        "-o",
        str(out),
    ]
    states = []
    for _ in range(2):
        with pytest.raises(SystemExit):
            main(argv)
        states.append([r["state"] for r in json.loads(out.read_text())["results"]])
    assert states == [["open", "closed"], ["open", "closed"]]
    assert listener.accepted == 2
    assert len(list(cache.glob("verify-targets-*"))) == 1
    assert "2 probes" in capsys.readouterr().err
