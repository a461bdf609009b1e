"""A ``flowmatrix watch`` process for the tests: its events, its /metrics, its signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

#: Straight to the address asked, whatever proxy the environment names.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class RunningWatch:
    """``flowmatrix watch ARGS`` (optionally under a command prefix such as ``ip netns
    exec NS``); stderr goes to a file read as JSON-line events. Killed on exit."""

    def __init__(
        self,
        args: Sequence[str],
        log: Path,
        prefix: Sequence[str] = (),
        stdout: Path | None = None,
    ) -> None:
        self.log = log
        self._log_file = log.open("wb")
        self._stdout = stdout.open("wb") if stdout is not None else None
        self.process = subprocess.Popen(
            [*prefix, sys.executable, "-m", "flowmatrix", "watch", *args],
            stdout=self._stdout or subprocess.DEVNULL,
            stderr=self._log_file,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def events(self) -> list[dict[str, Any]]:
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                found.append(json.loads(line))
        return found

    def wait_for(self, check: Callable[[], Any], what: str, limit: float = 60.0) -> Any:
        """Poll ``check`` until it returns something true (a bound, not a measure)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            if self.process.poll() is not None:
                raise AssertionError(
                    f"watch exited ({self.process.returncode}): {self.log.read_text()}"
                )
            time.sleep(0.05)
        raise AssertionError(f"no {what} within {limit}s: {self.log.read_text()}")

    def event(self, name: str, count: int = 1) -> dict[str, Any]:
        def seen() -> dict[str, Any] | None:
            matching = [e for e in self.events() if e.get("event") == name]
            return matching[count - 1] if len(matching) >= count else None

        found: dict[str, Any] = self.wait_for(seen, f"event {name!r} x{count}")
        return found

    def metrics(self, address: str) -> str:
        with DIRECT.open(f"http://{address}/metrics", timeout=5) as reply:
            return str(reply.read().decode("utf-8"))

    def signal(self, signum: signal.Signals) -> None:
        self.process.send_signal(signum)

    def __enter__(self) -> RunningWatch:
        return self

    def __exit__(self, *_: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._log_file.close()
        if self._stdout is not None:
            self._stdout.close()
