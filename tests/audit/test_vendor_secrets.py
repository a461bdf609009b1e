"""Every setting that carries a secret, as each vendor documents it, in each form its
reader accepts (FortiOS; ASA; PAN-OS set, brace and XML; Junos brace and set): in a
whole configuration audited in every output format, in a file cut right after it, in
a statement that lost its ';', nothing of the secret is in any output, problem, note or
error. A value over several lines (a certificate, a private key) is one value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.test_vendor_paloalto import XML
from audit.test_vendor_srx import SET as SRX_SET
from audit.vendor_lab import DATA, SITE
from flowmatrix.audit.ir import Ruleset
from flowmatrix.audit.loader import load_ruleset
from flowmatrix.audit.vendor import fortios
from flowmatrix.audit.vendor.shared import Notes, opens_value, value_over_lines
from flowmatrix.errors import UserError

MARK = "XYZZY"

FORTIOS = """config system admin
    edit "a2"
        set password ENC {m}
    next
end
config user local
    edit "u"
        set type password
        set passwd "{m}"
    next
end
config vpn ipsec phase1-interface
    edit "b2"
        set psksecret "{m}"
        set psksecret-remote ENC {m}
        set ppk-secret "{m}"
    next
end
config user radius
    edit "r"
        set secret ENC {m}
        set secondary-secret "{m}"
    next
end
config user tacacs+
    edit "t"
        set key ENC {m}
    next
end
config user ldap
    edit "l"
        set password ENC {m}
    next
end
config system snmp community
    edit 1
        set name "{m}"
    next
end
config system snmp user
    edit "s"
        set auth-pwd ENC {m}
        set priv-pwd "{m}"
    next
end
config router ospf
    config ospf-interface
        edit "o"
            set authentication-key ENC {m}
            config md5-keys
                edit 1
                    set key-string "{m}"
                next
            end
        next
    end
end
config vpn certificate local
    edit "c"
        set password ENC {m}
        set private-key "-----BEGIN ENCRYPTED PRIVATE KEY-----
MIIFHDBOBgkq{m}kiG9w0BBQ0wQTAp
end
-----END ENCRYPTED PRIVATE KEY-----"
    next
end
"""
ASA = """enable password {m} pbkdf2
passwd {m} encrypted
username bob password {m} privilege 15
aaa-server RAD protocol radius
aaa-server RAD (inside) host 192.168.10.9
 key {m}
aaa-server LDAP protocol ldap
aaa-server LDAP (inside) host 192.168.10.9
 ldap-login-password {m}
snmp-server community {m}
snmp-server host inside 192.168.10.5 community {m} version 2c
snmp-server user u g v3 auth sha {m} priv aes 128 {m}
tunnel-group 198.51.100.9 ipsec-attributes
 ikev1 pre-shared-key {m}
 ikev2 remote-authentication pre-shared-key {m}
 ikev2 local-authentication pre-shared-key {m}
failover key {m}
ntp authentication-key 1 md5 {m}
"""
PANOS = [
    "set mgt-config users bob phash {m}",
    "set mgt-config users bob password {m}",
    "set network ike gateway g2 authentication pre-shared-key key {m}",
    "set shared server-profile ldap L server s bind-password {m}",
    "set shared server-profile radius R server s secret {m}",
    "set deviceconfig system snmp-setting access-setting version v2c snmp-community-string {m}",
    "set deviceconfig system snmp-setting access-setting version v3 users u authpwd {m}",
    "set deviceconfig system snmp-setting access-setting version v3 users u privpwd {m}",
    "set deviceconfig system panorama local-panorama panorama-server 10.0.0.1 authkey {m}",
    "set network virtual-router default protocol bgp auth-profile B secret {m}",
]
PANOS_KEY = """set shared certificate C private-key "-----BEGIN RSA PRIVATE KEY-----
MII{m}
-----END RSA PRIVATE KEY-----"
"""
PANOS_XML = """<mgt-config><users><entry name="bob"><phash>{m}</phash></entry></users></mgt-config>
<deviceconfig><system><snmp-setting><access-setting><version>
<v2c><snmp-community-string>{m}</snmp-community-string></v2c>
<v3><users><entry name="u"><authpwd>{m}</authpwd><privpwd>{m}</privpwd></entry></users></v3>
</version></access-setting></snmp-setting></system></deviceconfig>
<network><ike><gateway><entry name="g"><authentication><pre-shared-key><key>{m}</key>
</pre-shared-key></authentication></entry></gateway></ike></network>
<server-profile><ldap><entry name="l"><bind-password>{m}</bind-password></entry></ldap>
</server-profile>
"""
JUNOS = [
    "set system root-authentication encrypted-password {m}",
    "set system login user bob authentication plain-text-password-value {m}",
    'set system login user bob authentication ssh-rsa "ssh-rsa AAAA{m} bob@h"',
    "set system radius-server 10.0.0.1 secret {m}",
    "set system tacplus-server 10.0.0.1 secret {m}",
    "set security ike policy p pre-shared-key ascii-text {m}",
    "set security ike policy p2 pre-shared-key hexadecimal-key {m}",
    "set snmp community {m} authorization read-only",
    "set snmp v3 usm local-engine user u authentication-sha authentication-password {m}",
    "set protocols ospf area 0 interface ge-0/0/0.0 authentication md5 1 key {m}",
    "set protocols bgp group g authentication-key {m}",
]


def _marked(text: str) -> str:
    """``text`` with each ``{m}`` a marker of its own."""
    count = iter(range(1000))
    return re.sub(r"\{m\}", lambda _match: f"{MARK}{next(count):03d}", text)


def _brace(lines: list[str]) -> str:
    """``set`` lines as brace blocks, one line each (the last word is the value)."""
    out = []
    for line in lines:
        *path, key, value = re.findall(r'"[^"]*"|\S+', line)[1:]
        out.append(" ".join(f"{w} {{" for w in path) + f" {key} {value}; " + "}" * len(path))
    return "\n".join(out) + "\n"


def _fortigate() -> str:
    base = (DATA / "edge.fortigate.conf").read_text("utf-8")
    at = base.index("config system interface")
    return base[:at] + FORTIOS + base[at:]


def _insert(base: str, before: str, text: str) -> str:
    at = base.index(before)
    return base[:at] + text + base[at:]


PAN_BRACE = "config {\n" + _brace(PANOS) + "devices { localhost { vsys { vsys1 { } } } }\n}\n"
WHOLE = {
    "fortigate.conf": _fortigate(),
    "ciscoasa.cfg": _insert((DATA / "edge.ciscoasa.cfg").read_text("utf-8"), ": end", ASA),
    "paloalto.set": _insert(
        (DATA / "edge.paloalto.set").read_text("utf-8"),
        "set zone untrust",
        "\n".join(PANOS) + "\n" + PANOS_KEY,
    ),
    "paloalto.brace": PAN_BRACE,
    "paloalto.xml": _insert(XML, "<vsys>", PANOS_XML),
    "srx.set": _insert(SRX_SET, "set interfaces", "\n".join(JUNOS) + "\n"),
    "srx.conf": _insert((DATA / "edge.srx.conf").read_text("utf-8"), "interfaces {", _brace(JUNOS)),
}


@pytest.mark.parametrize("name", sorted(WHOLE))
@pytest.mark.parametrize("fmt", ["table", "json", "csv", "sarif"])
def test_no_output_holds_a_secret(run_cli, tmp_path: Path, name: str, fmt: str) -> None:
    path, out = tmp_path / name, tmp_path / f"report.{fmt}"
    path.write_text(_marked(WHOLE[name]), "utf-8")
    result = run_cli("audit", str(SITE), "-F", "edge", "-r", str(path), "-f", fmt, "-o", str(out))
    assert result.code in (0, 1), result.stderr
    everything = result.stdout + result.stderr + out.read_text("utf-8")
    assert "Traceback" not in everything and MARK not in everything


def _words(read: Ruleset | UserError) -> str:
    """Every text of a reading a person may see: rules, problems, notes; or an error."""
    if isinstance(read, UserError):
        return f"{read} {read.hint}"
    texts = [f"{r.origin.text} {r.origin.name}" for r in read.rules]
    return " ".join(texts + [str(p) for p in read.problems] + list(read.notes))


def _load(tmp_path: Path, name: str, text: str) -> Ruleset | UserError:
    path = tmp_path / name
    path.write_text(_marked(text), "utf-8")
    try:
        return load_ruleset(path)
    except UserError as error:
        return error


def _cuts() -> list[object]:
    """Each whole file cut right after each line that holds a secret."""
    out = []
    for name, text in WHOLE.items():
        lines = text.splitlines(keepends=True)
        out += [
            pytest.param(name, "".join(lines[: n + 1]), id=f"{name}:{n + 1}")
            for n, line in enumerate(lines)
            if "{m}" in line
        ]
    return out


@pytest.mark.parametrize(("name", "text"), _cuts())
def test_a_file_cut_after_a_secret_does_not_show_it(tmp_path: Path, name: str, text: str) -> None:
    assert MARK not in _words(_load(tmp_path, name, text))


def _statements() -> list[object]:
    """A statement of each secret left without its ';' at the end of a brace file."""
    out = []
    for name, lines, base in (
        ("paloalto.brace", PANOS, PAN_BRACE),
        ("srx.conf", JUNOS, WHOLE["srx.conf"]),
    ):
        for line in lines:
            statement = " ".join(re.findall(r'"[^"]*"|\S+', line)[-2:])
            out.append(pytest.param(name, base + statement + "\n", id=f"{name}:{statement[:20]}"))
    return out


@pytest.mark.parametrize(("name", "text"), _statements())
def test_a_statement_without_its_semicolon_is_named_by_its_keyword(
    tmp_path: Path, name: str, text: str
) -> None:
    error = _load(tmp_path, name, text)
    assert isinstance(error, UserError) and "has no ';'" in str(error)
    assert MARK not in _words(error)


# -- values over several lines ------------------------------------------------------------


def test_a_fortios_value_over_lines_is_one_value() -> None:
    notes = Notes("f.conf")
    root = fortios.parse_fortios(FORTIOS.replace("{m}", MARK), notes)
    assert notes.problems == []  # no line of the key is a command: not even 'end'
    entry = root.blocks["vpn certificate local"].entries["c"]
    key = entry.get("private-key") or ""
    assert key.startswith("-----BEGIN") and key.endswith("KEY-----") and key.count("\n") == 3
    opening = '        set private-key "-----BEGIN ENCRYPTED PRIVATE KEY-----'
    assert entry.line_of("private-key") == FORTIOS.splitlines().index(opening) + 1


@pytest.mark.parametrize(
    ("name", "text"),
    [("f.conf", _fortigate()), ("p.set", "set deviceconfig system hostname p\n" + PANOS_KEY)],
)
def test_a_value_cut_before_its_closing_quote_is_an_error(
    tmp_path: Path, name: str, text: str
) -> None:
    cut = text[: text.index("-----END")]
    first = next(n for n, line in enumerate(cut.splitlines(), 1) if "-----BEGIN" in line)
    error = _load(tmp_path, name, cut)
    assert isinstance(error, UserError) and error.line == len(cut.splitlines())
    assert error.message == f"the quoted value opened at line {first} is not closed"
    assert "truncated" in str(error.hint) and MARK not in _words(error)


def test_a_line_of_lone_quotes_is_nothing_to_read(tmp_path: Path) -> None:
    notes = Notes("f.conf")
    root = fortios.parse_fortios("config system global\n    '\n    ''\n    set x 1\nend\n", notes)
    assert root.blocks["system global"].settings.get("x") == "1"
    assert [p.message for p in notes.problems] == ["unknown command '' in 'config system global'"]
    for name in ("paloalto.set", "srx.set"):
        ruleset = _load(tmp_path, name, WHOLE[name].replace("\nset ", "\n'\nset ", 1))
        assert isinstance(ruleset, Ruleset), ruleset


PIECES = st.sampled_from(['"', "'", "\\", " ", "a", '\\"', "''", '""', "end"])
LINES = st.lists(st.lists(PIECES, max_size=6).map("".join), min_size=1, max_size=6)


@settings(max_examples=500, deadline=None)
@given(LINES)
def test_a_value_ends_where_the_text_so_far_closes_it(lines: list[str]) -> None:
    """Each line looked at once gives the line the whole text's expression gives."""
    first, *rest = ['"' + lines[0], *lines[1:]]
    numbered = iter(enumerate(rest, 2))
    try:
        joined = value_over_lines(first, 1, numbered, Notes("f")) if opens_value(first) else first
    except UserError:
        joined = None
    texts = ["\n".join([first, *rest[:n]]) for n in range(len(rest) + 1)]
    closing = next((t for t in texts if not opens_value(t)), None)
    assert joined == closing
