"""The watch tests run against the loopback lab of the probe tests."""

from __future__ import annotations

from probe.conftest import RADIUS_SECRET, Lab, lab

__all__ = ["RADIUS_SECRET", "Lab", "lab"]
