"""The vendor readers' shortcuts give what the plain way gives.

Redaction looks for a secret keyword only in texts that may hold one; address sets are
united in one pass; a policy's alternatives are worked out once per address set. Each is
compared here with the plain way: redaction always, the fold of ``union``, the policy
expansion as first written (matches made by ``replace``).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowmatrix.audit import ranges
from flowmatrix.audit.ir import Action, IfaceMatch, Match, Origin, Rule
from flowmatrix.audit.vendor import shared
from flowmatrix.audit.vendor.policy import ANY_FAMILY, Addresses, Policy, RuleMaker, Service
from flowmatrix.audit.vendor.shared import (
    SECRET_ELEMENTS,
    SECRET_WORDS,
    may_hold_secret,
    redact,
    redact_always,
)

# -- redaction ----------------------------------------------------------------------------

#: Every construct of the four vendors that holds a secret, with the secret in it.
SECRET_LINES = [
    # FortiGate
    "set password ENC SH2XYZZYAdminHash000=",
    "        set psksecret ENC XYZZYPreSharedKey==",
    "set passwd ENC XYZZYUserPassword",
    'set private-key "-----BEGIN ENCRYPTED PRIVATE KEY----- XYZZYKey"',
    "set secret ENC XYZZYRadius",
    "set key ENC XYZZYTacacs",
    "set auth-pwd ENC XYZZYLdap",
    "set md5-key 1 XYZZYOspf",
    "set authentication-key XYZZYBgp",
    "frobnicate password XYZZYX",
    # Cisco ASA
    "enable password $sha512$5000$XYZZYEnableHash==$xyz pbkdf2",
    "passwd 2KFQnbNIdXYZZY encrypted",
    "username admin password $sha512$5000$XYZZYUserHash==$abc pbkdf2 privilege 15",
    "snmp-server community XYZZYCommunity",
    "snmp-server host inside 10.0.0.5 community XYZZYCommunity version 2c",
    " ikev1 pre-shared-key XYZZYTunnelKey",
    " ikev2 local-authentication pre-shared-key XYZZYIkev2",
    " key XYZZYRadiusKey",
    " ospf message-digest-key 1 md5 XYZZYOspf",
    "ntp authentication-key 1 md5 XYZZYNtp",
    "failover key XYZZYFailover",
    # PAN-OS
    "set mgt-config users admin phash $1$XYZZYPasswordHash0000",
    "set network ike gateway branch authentication pre-shared-key key -AQ==XYZZYIke=",
    "set shared local-user-database user u password XYZZYLocal",
    "<phash>$1$XYZZYXmlHash</phash>",
    "<password>XYZZYXmlPassword</password>",
    "<pre-shared-key><key>-AQ==XYZZYXmlKey</key></pre-shared-key>",
    "<private-key>XYZZYXmlPrivate</private-key>",
    "<secret>XYZZYXmlSecret</secret>",
    "<PHASH>XYZZYUpperHash</PHASH>",
    # Juniper SRX
    'encrypted-password "$6$Redacted$XYZZYRootHash"; ## SECRET-DATA',
    'pre-shared-key ascii-text "$9$XYZZYIkeKey"; ## SECRET-DATA',
    "pre-shared-key hexadecimal-key XYZZYHex;",
    'authentication-key "$9$XYZZYOspfKey"; ## SECRET-DATA',
    'ssh-rsa "ssh-rsa AAAAB3XYZZYRsa admin@host"; ## SECRET-DATA',
    'ssh-ed25519 "ssh-ed25519 AAAAC3XYZZYEd admin@host";',
    'ssh-dss "ssh-dss AAAAB3XYZZYDss";',
    'ecdsa-sha2-nistp256 "ecdsa-sha2-nistp256 AAAAE2XYZZYEcdsa";',
    'secret "$9$XYZZYRadius"; ## SECRET-DATA',
    "community XYZZYSnmp {",
    'md5 1 key "$9$XYZZYMd5";',
    "set system root-authentication encrypted-password $6$XYZZYSetHash",
    "set security ike policy p pre-shared-key ascii-text $9$XYZZYSetKey",
    # any case, and the letters that match ASCII ones regardless of case
    "SET PASSWORD ENC XYZZYUpper",
    "Pre-Shared-Key XYZZYMixed",
    "set \u212aey XYZZYKelvin",
    "pa\u017f\u017fword XYZZYLongS",
    "policy 7 'srv': srcaddr key XYZZYInText; action accept",
]


@pytest.mark.parametrize("line", SECRET_LINES)
def test_every_secret_construct_is_redacted_as_always(line: str) -> None:
    assert may_hold_secret(line)
    assert redact(line) == redact_always(line)
    assert "XYZZY" not in redact(line)


#: Letters that match these ASCII ones regardless of case (Unicode case folding).
_CASES = {"k": "\u212a", "s": "\u017f", "i": "\u0130\u0131"}
_BEFORE = ["", " ", "set ", "\t", "\n", ";", "<x>", "a", "é "]
_FORMS = ["{} XYZZY", "{}\tXYZZY x", "<{}>XYZZY<", "<{}><key>XYZZY<", "{}", "{};", "x{} XYZZY"]


def _spellings(word: str) -> list[str]:
    """The word in lower, upper and title case, and with each letter that has a
    non-ASCII match replaced by it."""
    out = [word.lower(), word.upper(), word.title()]
    for at, letter in enumerate(word.lower()):
        out += [
            word.lower()[:at] + other + word.lower()[at + 1 :] for other in _CASES.get(letter, "")
        ]
    return out


def test_redaction_is_the_expressions_for_every_keyword_however_written() -> None:
    for word in SECRET_WORDS + SECRET_ELEMENTS:
        for spelled in _spellings(word):
            for before, form in itertools.product(_BEFORE, _FORMS):
                text = before + form.format(spelled)
                assert redact(text) == redact_always(text), text


_PIECES = [*SECRET_WORDS, *SECRET_ELEMENTS, *"<>/ \t\n;-", "\u212a", "\u017f", "pass", "ke"]
TEXTS = st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=3)), max_size=12).map("".join)


@settings(max_examples=1000, deadline=None)
@given(TEXTS)
def test_redaction_is_the_expressions_on_every_text(text: str) -> None:
    assert redact(text) == redact_always(text)
    if not may_hold_secret(text):
        assert shared._SECRET.search(text) is None and shared._SECRET_XML.search(text) is None


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
