"""Certificate pinning support.

- :func:`collect` fetches the chains the XenMobile and NetScaler Gateway endpoints present
  and writes them as PEM (public certificates only);
- :func:`check_files` describes certificate files and refuses any file holding a private key.

The auto discovery service check runs probes, so it lives with them
(``probe/ads_check.py``). Heavy modules load on first use, so that importing the package
stays cheap.

Imports: the top-level modules and ``probe`` (the TLS fetch and the probe states).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowmatrix.certs.check import CheckReport, check_files
    from flowmatrix.certs.collect import (
        PINNING_ROLES,
        CollectReport,
        Target,
        collect,
        parse_target,
        plan_targets,
    )

__all__ = [
    "PINNING_ROLES",
    "CheckReport",
    "CollectReport",
    "Target",
    "check_files",
    "collect",
    "parse_target",
    "plan_targets",
]

_HOMES = {
    "CheckReport": "check",
    "check_files": "check",
    "PINNING_ROLES": "collect",
    "CollectReport": "collect",
    "Target": "collect",
    "collect": "collect",
    "parse_target": "collect",
    "plan_targets": "collect",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'flowmatrix.certs' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"flowmatrix.certs.{_HOMES[name]}"), name)
