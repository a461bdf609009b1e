"""Headless Chromium through chromedriver's W3C WebDriver HTTP API, with urllib only.

Used by the browser tests and by benchmarks/report_scale.py. The browser runs with a
fresh profile and every background service switched off, so that any network request
the performance log shows comes from the page under test.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("FLOWMATRIX_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("FLOWMATRIX_CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


def missing_browser() -> str | None:
    """Why the browser cannot run here, or None."""
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)) and not shutil.which(path):
            return f"{path} not found (Debian package {package})"
    return None


class WebDriverError(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Chromium:
    """One chromedriver process and one browser session."""

    def __init__(self, width: int = 1400, height: int = 1000, log_dir: Path | None = None) -> None:
        self.profile = tempfile.mkdtemp(prefix="flowmatrix-chromium-")
        self.port = _free_port()
        log_path = (log_dir or Path(self.profile)) / "chromedriver.log"
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in quit()
        self.driver = subprocess.Popen(
            [CHROMEDRIVER, f"--port={self.port}", "--allowed-ips=127.0.0.1"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        self.session: str | None = None
        try:
            self._wait_ready()
            capabilities = {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": CHROMIUM,
                    "args": [
                        *CHROMIUM_FLAGS,
                        f"--user-data-dir={self.profile}",
                        f"--window-size={width},{height}",
                    ],
                    "perfLoggingPrefs": {"enableNetwork": True, "enablePage": False},
                },
                "goog:loggingPrefs": {"browser": "ALL", "performance": "ALL"},
                "pageLoadStrategy": "normal",
            }
            value = self._call("POST", "/session", {"capabilities": {"alwaysMatch": capabilities}})
            self.session = value["sessionId"]
            self._call("POST", self._path("/timeouts"), {"pageLoad": 120_000, "script": 60_000})
        except BaseException:
            self.quit()
            raise

    # --- plumbing -------------------------------------------------------------------

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.driver.poll() is not None:
                raise WebDriverError(f"chromedriver exited with {self.driver.returncode}")
            with contextlib.suppress(OSError, WebDriverError):
                if self._call("GET", "/status").get("ready"):
                    return
            time.sleep(0.05)
        raise WebDriverError("chromedriver did not start within 20 s")

    def _path(self, suffix: str) -> str:
        return f"/session/{self.session}{suffix}"

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        try:
            with urllib.request.urlopen(request, timeout=180) as response:
                payload = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            payload = json.loads(exc.read() or b"{}")
            value = payload.get("value", {})
            raise WebDriverError(f"{value.get('error')}: {value.get('message')}") from None
        return payload.get("value")

    # --- what the tests use -----------------------------------------------------------

    def get(self, url: str) -> None:
        self._call("POST", self._path("/url"), {"url": url})

    def run(self, script: str, *args: Any) -> Any:
        """Run ``script`` (a function body: use ``return``) in the page."""
        return self._call(
            "POST", self._path("/execute/sync"), {"script": script, "args": list(args)}
        )

    def wait_for(self, script: str, timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = self.run(script)
            if value:
                return value
            if time.monotonic() > deadline:
                raise WebDriverError(f"timed out waiting for: {script}")
            time.sleep(0.02)

    def element(self, css: str) -> str:
        value = self._call("POST", self._path("/element"), {"using": "css selector", "value": css})
        return str(next(iter(value.values())))

    def click(self, css: str) -> None:
        self._call("POST", self._path(f"/element/{self.element(css)}/click"), {})

    def type_into(self, css: str, text: str) -> None:
        self._call("POST", self._path(f"/element/{self.element(css)}/value"), {"text": text})

    def clear(self, css: str) -> None:
        self._call("POST", self._path(f"/element/{self.element(css)}/clear"), {})

    def logs(self, kind: str) -> list[dict[str, Any]]:
        """Log entries since the last call: 'browser' (console) or 'performance'."""
        return list(self._call("POST", self._path("/se/log"), {"type": kind}) or [])

    def network_requests(self) -> list[str]:
        """URLs the page requested since the last call (from the performance log)."""
        urls = []
        for entry in self.logs("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                urls.append(message["params"]["request"]["url"])
        return urls

    def cdp(self, command: str, params: dict[str, Any] | None = None) -> Any:
        """A Chrome DevTools Protocol command, through chromedriver."""
        return self._call(
            "POST", self._path("/goog/cdp/execute"), {"cmd": command, "params": params or {}}
        )

    def open(self, url: str, ready: str = "document.documentElement.dataset.ready") -> float:
        """Load ``url`` after a blank page (logs drained); seconds until ``ready`` is true."""
        self.get("about:blank")
        self.logs("browser")
        self.logs("performance")
        start = time.monotonic()
        self.get(url)
        self.wait_for(f"return {ready}")
        return time.monotonic() - start

    def screenshot(self, path: Path, full_page: bool = False) -> None:
        """A PNG of the viewport, or of the whole page."""
        if full_page:
            value = self.cdp(
                "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
            )
            data = value["data"]
        else:
            data = self._call("GET", self._path("/screenshot"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def quit(self) -> None:
        if self.session is not None:
            with contextlib.suppress(Exception):
                self._call("DELETE", self._path(""))
            self.session = None
        if self.driver.poll() is None:
            self.driver.terminate()
            try:
                self.driver.wait(10)
            except subprocess.TimeoutExpired:
                self.driver.kill()
                self.driver.wait()
        self._log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.quit()
