"""The servers the lab runs for names and the web proxy: tests that need them skip with
the reason where they are not installed, and fail when kernel tests are required."""

from __future__ import annotations

import os
import shutil

import pytest

SERVERS = ("dnsmasq", "squid")


def require_servers() -> None:
    missing = [name for name in SERVERS if shutil.which(name) is None]
    if not missing:
        return
    reason = f"the lab's servers are not installed: {', '.join(missing)}"
    if os.environ.get("FLOWMATRIX_REQUIRE_KERNEL_TESTS") == "1":
        pytest.fail(f"kernel tests are required (FLOWMATRIX_REQUIRE_KERNEL_TESTS=1): {reason}")
    pytest.skip(reason)
