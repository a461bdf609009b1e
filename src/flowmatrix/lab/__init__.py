"""The lab: a site's zones and firewalls rebuilt in network namespaces, the generated
nftables rules loaded, planned flows probed end to end and unplanned ones proven blocked.

    >>> from flowmatrix.api import load_plan
    >>> from flowmatrix.lab import run_lab
    >>> report = run_lab(load_plan(None))      # root only
    >>> report.failed
    False

Imports: the top-level modules, ``rules`` (the rules it loads) and ``probe`` (the engine
of its probes).
"""

from __future__ import annotations

from flowmatrix.lab.session import (
    CaseResult,
    LabOptions,
    LabReport,
    parse_rules_overrides,
    run_lab,
)

__all__ = ["CaseResult", "LabOptions", "LabReport", "parse_rules_overrides", "run_lab"]
