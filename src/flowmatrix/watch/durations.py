"""Durations as people write them (``60s``, ``5m``) and as Prometheus does."""

from __future__ import annotations

import math
import re

from flowmatrix.errors import UserError
from flowmatrix.i18n import _

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str, option: str = "--interval") -> float:
    """``60s``, ``1m``, ``500ms``, ``2h`` or a number of seconds -> seconds."""
    match = _DURATION.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise UserError(
            _("{option} {value}: not a duration").format(option=option, value=repr(text)),
            hint=_("e.g. 60s, 5m, 500ms, 1h"),
        )
    return float(match.group(1)) * _UNIT[match.group(2)]


def promql_duration(seconds: float) -> str:
    """Seconds as a Prometheus duration, rounded up to the second (``180s``)."""
    return f"{max(1, math.ceil(seconds))}s"
