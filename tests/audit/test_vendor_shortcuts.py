"""The vendor readers' shortcuts give what the plain way gives.

Address sets are united in one pass; a policy's alternatives are worked out once per
address set; the Cisco ASA reader keeps what each object reads to; the FortiOS parser
takes the words of a line it read before again and reads ``set`` in its loop; the
FortiGate reader works out the interfaces of a list of names once and looks at the
seldom settings of a policy only when it has one. Each is compared here with the plain
way: the fold of ``union``, the policy expansion as first written (matches made by
``replace``), every object read again at each use, each line read by the general path,
every setting looked at. (Redaction: test_vendor_redaction.py.)
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowmatrix.audit import ranges
from flowmatrix.audit.ir import Action, IfaceMatch, Match, Origin, Rule, Ruleset
from flowmatrix.audit.vendor import fortigate, fortios
from flowmatrix.audit.vendor.ciscoasa import read_ciscoasa
from flowmatrix.audit.vendor.fortigate import read_fortigate
from flowmatrix.audit.vendor.policy import ANY_FAMILY, Addresses, Policy, RuleMaker, Service
from flowmatrix.audit.vendor.shared import Notes, ReadOnce

from .test_vendor_property import asas, fortigates

DATA = Path(__file__).parent / "data" / "vendor"
SNIPPETS = Path(__file__).resolve().parents[3] / "shared" / "data" / "rulesets" / "vendor"

# -- address sets and policies ------------------------------------------------------------

IVS = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=3).map(tuple)
ADDRESSES = st.builds(
    Addresses,
    st.dictionaries(st.sampled_from([6, 4]), IVS | st.just(ranges.ALL_ADDRESSES[4]), max_size=2),
    st.frozensets(st.sampled_from(["a.example", "b.example"]), max_size=2),
    st.lists(st.sampled_from(["geography FR", "dynamic d"]), max_size=3).map(tuple),
    st.sampled_from([False, False, False, True]),
)


def _folded(parts: list[Addresses]) -> Addresses:
    return functools.reduce(Addresses.union, parts, Addresses())


@settings(max_examples=400, deadline=None)
@given(st.lists(ADDRESSES, max_size=4))
def test_union_of_is_the_fold_of_union(parts: list[Addresses]) -> None:
    united, folded = Addresses.union_of(parts), _folded(parts)
    assert united == folded
    assert list(united.by_family.items()) == list(folded.by_family.items())


def _plain_alternatives(addresses: Addresses, negated: bool, side: str) -> list[Match]:
    """The alternatives of an address set as partial matches (as first written)."""
    names_field = f"{side}_names"
    if negated:
        if addresses.everything:
            return []
        opaque: tuple[str, ...] = ()
        if addresses.names:
            opaque += (f"DNS: not an address of {', '.join(sorted(addresses.names))}",)
        opaque += tuple(f"not {d}" for d in addresses.depends)
        out = []
        for family in ANY_FAMILY:
            rest = ranges.complement(addresses.by_family.get(family, ()), ranges.ADDR_MAX[family])
            if rest:
                values: dict[str, Any] = {"family": family, "opaque": opaque}
                if rest != ranges.ALL_ADDRESSES[family]:
                    values[side] = rest
                out.append(Match(**values))
        return out
    if addresses.everything:
        return [Match()]
    out = []
    for family in sorted(addresses.by_family):
        ivs = addresses.by_family[family]
        if ivs:
            values = {"family": family}
            if ivs != ranges.ALL_ADDRESSES[family]:
                values[side] = ivs
            out.append(Match(**values))
    if addresses.names:
        out.append(Match(**{names_field: addresses.names}))
    out += [Match(opaque=(d,)) for d in addresses.depends]
    return out


def _plain_rules(policy: Policy, first_uid: int) -> list[Rule]:
    """The IR rules of a policy as first written: partial matches combined by replace."""
    action = Action(policy.action, policy.target, policy.action_text)
    sources = _plain_alternatives(policy.src, policy.src_negate, "src")
    destinations = _plain_alternatives(policy.dst, policy.dst_negate, "dst")
    for name, translated in policy.dst_by_translation.items():
        for alt in _plain_alternatives(translated, False, "dst"):
            destinations.append(replace(alt, dnat=frozenset({name})))
    base = Match(
        family=policy.family,
        iif=policy.iif,
        oif=policy.oif,
        opaque=policy.conditions,
        dnat=policy.dnat,
    )
    matches = []
    for src, dst, service in itertools.product(sources, destinations, policy.services):
        family = base.family
        clash = False
        for part in (src, dst):
            if part.family is not None:
                clash = clash or (family is not None and family != part.family)
                family = part.family
        if clash:
            continue
        opaque = base.opaque + src.opaque + dst.opaque
        if service.depends:
            opaque += (service.depends,)
        protos = service.protos
        if (service.sport is not None or service.dport is not None) and protos is None:
            protos = frozenset({6, 17})
        matches.append(
            replace(
                base,
                family=family,
                src=src.src,
                dst=dst.dst,
                src_names=src.src_names,
                dst_names=dst.dst_names,
                protos=protos,
                sport=service.sport,
                dport=service.dport,
                opaque=tuple(dict.fromkeys(opaque)),
                dnat=dst.dnat if dst.dnat is not None else base.dnat,
            )
        )
    if not matches:
        matches = [replace(base, never="its addresses or services leave nothing to match")]
    return [Rule(first_uid + i, m, action, policy.origin) for i, m in enumerate(matches)]


PORT_IVS = st.none() | st.lists(st.tuples(st.integers(0, 9), st.integers(10, 20)), max_size=2).map(
    tuple
)
SERVICES = st.builds(
    Service,
    st.none() | st.sampled_from([frozenset({6}), frozenset({17}), frozenset({1})]),
    PORT_IVS,
    PORT_IVS,
    st.none() | st.just("ICMP type 8"),
)
IFACES = st.none() | st.builds(IfaceMatch, st.frozensets(st.sampled_from(["p1", "p2"])))


@st.composite
def policies(draw: Any, pool: list[Addresses]) -> Policy:
    """A policy whose address sets come from ``pool`` (so that sets are shared, as the
    readers share an object's set between its uses) or are drawn anew."""
    shared_or_new = st.sampled_from(pool) | ADDRESSES
    origin = Origin("f", 1, "policy 1", "t", "c", 1, None, "policy 1")
    return Policy(
        origin,
        draw(st.sampled_from(["accept", "drop"])),
        "accept",
        src=draw(shared_or_new),
        dst=draw(shared_or_new),
        src_negate=draw(st.booleans()),
        dst_negate=draw(st.booleans()),
        services=tuple(draw(st.lists(SERVICES, min_size=1, max_size=3))),
        iif=draw(IFACES),
        oif=draw(IFACES),
        conditions=tuple(draw(st.lists(st.sampled_from(["schedule 'x'", "user y"]), max_size=3))),
        dnat=draw(st.none() | st.just(frozenset({""}))),
        dst_by_translation=draw(st.dictionaries(st.sampled_from(["VIP a", "VIP b"]), ADDRESSES)),
        family=draw(st.none() | st.sampled_from([4, 6])),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_policy_rules_are_the_plain_expansion(data: st.DataObject) -> None:
    pool = data.draw(st.lists(ADDRESSES, min_size=1, max_size=3))
    maker = RuleMaker()
    for policy in data.draw(st.lists(policies(pool), min_size=1, max_size=6)):
        first = maker.next_uid
        assert maker.rules(policy) == _plain_rules(policy, first)


# -- the Cisco ASA objects, read once -----------------------------------------------------


def _ir(ruleset: Ruleset) -> tuple[Any, ...]:
    """What a reading gives, to compare two readings (the fix writer aside)."""
    device = ruleset.device
    assert device is not None
    return (
        ruleset.chains,
        ruleset.bases,
        ruleset.problems,
        ruleset.notes,
        device.interfaces,
        device.zones,
        device.translations,
        device.default_route,
        device.filter_sees,
        device.context,
    )


def _read_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ReadOnce, "__call__", lambda self, name, line: self.read(name, line))


ASA_NAMES = ["o1", "o2", "o3", "missing", "g1", "g2", "g3", "s1", "sg"]


@st.composite
def asa_objects(draw: Any) -> str:
    """Network and service objects and groups, nested, some members undefined or
    unreadable, named by many ACL lines (the readings kept are those used again)."""
    out = []
    members = st.sampled_from(
        [
            " host 10.0.0.1",
            " subnet 10.0.1.0 255.255.255.0",
            " range 10.0.2.1 10.0.2.9",
            " range 10.0.3.9",
            " subnet 10.0.4.0 255.0.255.0",
            " fqdn www.example.com",
            " host not-an-address",
        ]
    )
    for name in ("o1", "o2", "o3"):
        out.append(f"object network {name}")
        out += draw(st.lists(members, min_size=1, max_size=2))
    group_members = st.sampled_from(
        [
            " network-object object o1",
            " network-object object o2",
            " network-object object o3",
            " network-object object missing",
            " network-object host 10.0.9.9",
            " network-object 10.0.8.0 255.255.255.0",
            " network-object bogus",
            " group-object g1",
            " group-object g2",
            " group-object missing",
        ]
    )
    for name in ("g1", "g2", "g3"):
        out.append(f"object-group network {name}")
        out += draw(st.lists(group_members, min_size=1, max_size=4))
    out += [
        "object service s1",
        draw(
            st.sampled_from([" service tcp destination eq 443", " service bogus", " service udp"])
        ),
    ]
    out.append("object-group service sg tcp")
    out += draw(
        st.lists(
            st.sampled_from([" port-object eq 80", " port-object range 1 9", " group-object sg"]),
            min_size=1,
            max_size=2,
        )
    )
    operand = st.sampled_from(
        [
            "any",
            "object o1",
            "object o2",
            "object o3",
            "object missing",
            "object-group g1",
            "object-group g2",
            "object-group g3",
            "object-group missing",
            "host 10.0.0.7",
        ]
    )
    for _ in range(draw(st.integers(1, 12))):
        service = draw(st.sampled_from(["tcp", "ip", "object s1", "object-group sg"]))
        src, dst = draw(operand), draw(operand)
        tail = draw(st.sampled_from(["", " eq 22", " object-group sg"])) if service == "tcp" else ""
        out.append(f"access-list A extended permit {service} {src} {dst}{tail}")
    out.append("access-group A global")
    out.append(draw(st.sampled_from(["", "nat (inside,outside) source static g1 o2"])))
    return "\n".join(out) + "\n"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(asa_objects() | asas().map(lambda asa: asa.text()))
def test_asa_objects_read_once_are_read_as_each_time(text: str) -> None:
    kept = _ir(read_ciscoasa(text, "asa.cfg"))
    with pytest.MonkeyPatch.context() as monkeypatch:
        _read_every_time(monkeypatch)
        assert _ir(read_ciscoasa(text, "asa.cfg")) == kept


def _asa_files() -> list[Path]:
    return [DATA / "edge.ciscoasa.cfg", *sorted((SNIPPETS / "ciscoasa").glob("*"))]


@pytest.mark.parametrize("path", _asa_files(), ids=lambda p: p.name)
def test_asa_files_read_once_are_read_as_each_time(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = path.read_text("utf-8")
    kept = _ir(read_ciscoasa(text, str(path)))
    _read_every_time(monkeypatch)
    assert _ir(read_ciscoasa(text, str(path))) == kept


def test_a_reading_that_skips_is_done_again_at_each_use() -> None:
    notes = Notes("x")
    calls: list[str] = []

    def read(name: str, line: int) -> str:
        calls.append(name)
        if name == "bad":
            notes.skip(line, f"{name} is bad")
        return name.upper()

    once = ReadOnce(notes, read)
    assert [once("ok", 1), once("ok", 2), once("bad", 3), once("bad", 4)] == [
        "OK",
        "OK",
        "BAD",
        "BAD",
    ]
    assert calls == ["ok", "bad", "bad"]
    assert [p.line for p in notes.problems] == [3, 4]


# -- the FortiOS parser -------------------------------------------------------------------

COMMANDS = st.sampled_from(
    [
        'set srcaddr "a" "b"',
        "set srcaddr a",
        "set srcaddr",
        'set comments ""',
        "set name 'single quoted'",
        'set name "a\\"b"',
        "set",
        "unset srcaddr",
        'append srcaddr "c"',
        "select service HTTP",
        "unselect service HTTP",
        "frobnicate password TopSecret",
        'set private-key "-----BEGIN KEY-----\nend\nnext \\"x\\"\n-----END KEY-----"',
        "show",
        "# a comment",
        "",
        "\tset srcaddr a  ",
    ]
)


@st.composite
def fortios_texts(draw: Any) -> str:
    """Blocks, entries (some edited twice), every kind of setting command."""
    out = []
    for path in draw(st.lists(st.sampled_from(["firewall policy", "system global"]), max_size=3)):
        out.append(f"config {path}")
        for name in draw(st.lists(st.sampled_from(["1", "2", '"x y"']), max_size=3)):
            out.append(f"    edit {name}")
            out += ["        " + c for c in draw(st.lists(COMMANDS, max_size=5))]
            out.append("    next")
        out += draw(st.lists(COMMANDS, max_size=2))
        out.append(draw(st.sampled_from(["", "    move 2 before 1", "    delete 1", "    purge"])))
        out.append("end")
    return "\n".join(out) + "\n"


def _parsed(text: str) -> tuple[fortios.Entry, list[Any]]:
    notes = Notes("f.conf")
    return fortios.parse_fortios(text, notes), notes.problems


def _parsed_plainly(text: str) -> tuple[fortios.Entry, list[Any]]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(fortios._Parser, "shortcuts", False)
        return _parsed(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fortios_texts() | fortigates().map(lambda forti: forti.text()))
def test_fortios_shortcuts_parse_as_the_general_path(text: str) -> None:
    assert _parsed(text) == _parsed_plainly(text)


# -- the FortiGate reader -----------------------------------------------------------------


def _read_plainly(text: str, file: str) -> Ruleset:
    """The FortiGate reading with each line read by the general path and the interfaces
    of each policy worked out again."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(fortios._Parser, "shortcuts", False)
        monkeypatch.setattr(
            fortigate._Reader, "iface_match", lambda self, names, line: self._iface_match(names)
        )
        return read_fortigate(text, file)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fortigates())
def test_fortigate_shortcuts_read_as_the_plain_way(forti: Any) -> None:
    text = forti.text()
    assert _ir(read_fortigate(text, "fg.conf")) == _ir(_read_plainly(text, "fg.conf"))


def _fortigate_files() -> list[Path]:
    return [DATA / "edge.fortigate.conf", *sorted((SNIPPETS / "fortigate").glob("*"))]


@pytest.mark.parametrize("path", _fortigate_files(), ids=lambda p: p.name)
def test_fortigate_files_read_as_the_plain_way(path: Path) -> None:
    text = path.read_text("utf-8")
    assert _parsed(text) == _parsed_plainly(text)
    assert _ir(read_fortigate(text, str(path))) == _ir(_read_plainly(text, str(path)))


_SETTINGS = st.dictionaries(
    st.sampled_from(
        [
            *("schedule", "groups", "users", "fsso-groups", "ztna-status", "devices", "name"),
            *("internet-service6", "srcaddr", "srcaddr6", "service", "match-vip", "action"),
            *("dstaddr-negate", "internet-service"),
        ]
    ),
    st.lists(st.sampled_from(["always", "office", "enable", "disable", "a", ""]), max_size=2),
)


def _plain_conditions(entry: fortios.Entry, label: str) -> list[str]:
    """The conditions of a policy, every setting looked at."""
    conditions = []
    schedule = entry.get("schedule", "always")
    if schedule and schedule != "always":
        conditions.append(f"schedule {schedule!r} ({label})")
    for field_name in ("groups", "users", "fsso-groups"):
        if entry.values(field_name):
            conditions.append(f"user {field_name} {' '.join(entry.values(field_name))} ({label})")
    for field_name, what in fortigate._UNEVALUATED:
        value = entry.values(field_name)
        if value and value != ["disable"]:
            conditions.append(f"{what} ({label})")
    return conditions


def _plain_summary(entry: fortios.Entry) -> str:
    """The text of a policy, every setting looked at."""
    parts = []
    for key in ("srcintf", "dstintf", "srcaddr", "dstaddr", "srcaddr6", "dstaddr6"):
        if entry.values(key):
            parts.append(f"{key} {' '.join(entry.values(key))}")
    for key in ("service", "schedule", "action"):
        if entry.values(key):
            parts.append(f"{key} {' '.join(entry.values(key))}")
    for key in ("srcaddr-negate", "dstaddr-negate", "internet-service", "match-vip"):
        if entry.get(key) == "enable":
            parts.append(f"{key} enable")
    return "; ".join(parts)


@settings(max_examples=300, deadline=None)
@given(_SETTINGS)
def test_a_policys_conditions_and_text_look_at_every_setting(values: dict[str, list[str]]) -> None:
    entry = fortios.Entry("7", 1, {k: fortios.Setting(v, 2) for k, v in values.items()})
    assert fortigate._conditions(entry, "policy 7") == _plain_conditions(entry, "policy 7")
    assert fortigate._summary(entry) == _plain_summary(entry)
