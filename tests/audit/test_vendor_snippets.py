"""The public parser test snippets of batfish (../shared/data/rulesets/vendor/): every file
is read by its vendor's reader without a traceback, everything skipped is named with its
file and line, and the number of problems per file is pinned (see the vendor README:
undefined references, invalid ranges and odd constructs are there on purpose)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowmatrix.audit.loader import load_ruleset

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "rulesets" / "vendor"
FILES = (
    sorted(p for p in SHARED.glob("*/*") if p.is_file() and p.suffix not in (".md", ".txt"))
    if SHARED.exists()
    else []
)
#: Files holding several vsys: the one audited is named.
CONTEXT = {"move-rulebase-security": "vsys1", "vsys-rulebase": "vsys1", "vsys-zones": "vsys1"}
#: Problems (things not read, with their lines) per file: each is upstream's on purpose.
PROBLEMS = {
    "ciscoasa/asa-acl-object": 3,  # acl2 names undefined objects
    "ciscoasa/asa-filters": 1,  # access-group to an undefined ACL
    "ciscoasa/asa-nat-twice-static": 1,  # an undefined mapped object
    "ciscoasa/asa_acl": 1,  # an undefined object-group
    "ciscoasa/asa_nat": 23,  # syntax variants over objects the file never defines
    "fortigate/rename": 6,  # renames to over-long names, references to old names
    "paloalto/address-groups": 1,  # an undefined member
    "paloalto/address-objects": 3,  # a name-only object, an invalid range, no value
    "paloalto/move-rulebase-security": 1,  # an undefined service
    "paloalto/rulebase-nat": 6,  # undefined address objects
    "paloalto/service": 1,  # an undefined group member
    "srx/application-set": 3,  # undefined applications and sets
    "srx/applications": 1,  # an undefined application
    "srx/nat-dest": 3,  # undefined address names
    "srx/nat-source": 2,  # undefined address names
}


def _key(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def test_the_snippets_are_there() -> None:
    if not SHARED.exists():
        pytest.skip(f"vendor snippets not found at {SHARED}")
    assert len(FILES) == 66


@pytest.mark.parametrize("path", FILES, ids=_key)
def test_snippet_reads_and_names_what_it_skips(path: Path) -> None:
    ruleset = load_ruleset(path, context=CONTEXT.get(path.name))
    assert ruleset.dialect == path.parent.name
    for problem in ruleset.problems:
        assert problem.file == str(path) and problem.line is not None and problem.message
    assert len(ruleset.problems) == PROBLEMS.get(_key(path), 0), [str(p) for p in ruleset.problems]
    # every rule points into the file or is a named default of the vendor
    for rule in ruleset.rules:
        assert rule.origin.file == str(path) and rule.origin.name


def test_the_srx_testbed_secrets_stay_out(tmp_path: Path) -> None:
    """The testbed files carry placeholders shaped like password hashes and keys."""
    if not SHARED.exists():
        pytest.skip(f"vendor snippets not found at {SHARED}")
    for name in ("junos-srx-1.cfg", "junos-srx-3.cfg"):
        ruleset = load_ruleset(SHARED / "srx" / name)
        texts = [r.origin.text for r in ruleset.rules] + [str(p) for p in ruleset.problems]
        texts += list(ruleset.notes)
        assert not [t for t in texts if "$9$" in t or "$1$" in t or "ssh-rsa" in t]
