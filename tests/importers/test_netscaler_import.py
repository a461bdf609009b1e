"""``flowmatrix import netscaler``: a realistic ns.conf becomes the expected, loadable site."""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from flowmatrix.documents import site_digest
from flowmatrix.importers.netscaler import lexer
from flowmatrix.importers.netscaler.deployment import collapse_networks
from flowmatrix.importers.netscaler.lexer import REDACTED, LexError, parse_line, reads, split_words
from flowmatrix.importers.netscaler.reader import canonical_address, read_text

DATA = Path(__file__).parent / "data"
NS_CONF = DATA / "ns.conf"
#: Every secret value of the fixture: none may reach any output, log or error.
SECRETS = (
    "8c1e2d4b6f0a93e7d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a6978",
    "hN3kQ1sSuperSecretPassCrypt==",
    "4f1c9b2e7a3d8c6b5e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b",
    "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
    "0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",
    "ENCMTHD_3",
    "ns-server.key",
    "gateway.example.com.key",
)


def _no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"secret {secret[:6]}... leaked"


def test_fixture_becomes_the_expected_site(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "site.yaml"
    result = run_cli("import", "netscaler", str(NS_CONF), "-o", str(out))
    assert result.code == 0, result
    expected = yaml.safe_load((DATA / "ns-expected.yaml").read_text())
    assert yaml.safe_load(out.read_text()) == expected
    text = out.read_text()
    # every inferred host and address names the ns.conf line it came from
    for line in text.splitlines():
        if re.match(r"\s+(addresses|fqdn|nsip|vip|snip|aaa):", line):
            assert re.search(r"# ns\.conf:\d+ ", line), line
    assert "TODO" in text and "sql-server" in text and "devices-lan" in text
    assert re.search(r"^publish:\n  xenmobile: netscaler-lb  # lb vserver _XM_LB_MDM", text, re.M)
    assert "XenMobile publishing: netscaler-lb" in result.stderr
    assert "skipped 15 command(s)" in result.stderr and "add ssl certKey (2)" in result.stderr
    assert f"{NS_CONF}:32:" not in result.stderr  # lb vserver 0.0.0.0 0 is valid, not a problem


def test_the_draft_passes_plan(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "site.yaml"
    assert run_cli("import", "netscaler", str(NS_CONF), "-o", str(out)).code == 0
    planned = run_cli("plan", str(out), "-f", "json")
    assert planned.code == 0, planned
    flows = {f["id"]: f for f in json.loads(planned.stdout)["flows"]}
    # LDAPS and RADIUS leave from the AAA address; DNS from the SNIPs; NTP from the NSIP
    assert flows["XM-APP-15.1"]["source"]["addresses"] == ["172.16.10.6"]
    assert flows["XM-APP-17.1"]["source"]["addresses"] == ["172.16.10.6"]
    assert flows["XM-APP-05.1"]["source"]["addresses"] == ["172.16.10.5"]
    assert flows["XM-APP-04.2"]["ports"] == [80]  # STA on http://: the choice the ns.conf made
    assert flows["XM-APP-07.1"]["destination"]["addresses"][0] == "172.16.10.10"
    # published through the lb vservers: the Internet reaches the NetScaler, never
    # XenMobile straight, and the NetScaler's SNIP reaches XenMobile
    assert not [
        f
        for f in flows.values()
        if f["source"]["zone"] == "internet" and f["destination"]["role"] == "xenmobile"
    ]
    legs = [
        f
        for f in flows.values()
        if f["destination"]["role"] == "xenmobile" and f["source"]["role"] == "netscaler-gateway"
    ]
    assert legs and all(f["source"]["addresses"][0] == "172.16.10.20" for f in legs)


def test_secrets_reach_no_output(run_cli, tmp_path: Path) -> None:
    conf = tmp_path / "ns.conf"
    broken = (
        "add authentication ldapAction bad -serverIP 10.10.20.999 -ldapBindDnPassword "
        '"s3cr3t-in-a-bad-line" -encrypted\n'
        'add authentication radiusAction r2 -serverIP 10.10.20.46 -radKey "unterminated-s3cr3t\n'
    )
    conf.write_text(NS_CONF.read_text() + broken)
    outputs = []
    for fmt in ("yaml", "json"):
        result = run_cli("import", "netscaler", str(conf), "-f", fmt)
        assert result.code == 0, result
        outputs += [result.stdout, result.stderr]
    example = tmp_path / "example.yaml"
    example.write_text(run_cli("example").stdout)
    merged = run_cli("import", "netscaler", str(conf), "--merge", str(example))
    outputs += [merged.stdout, merged.stderr]
    _no_secret(*outputs)
    for text in outputs:
        assert "s3cr3t" not in text
    assert f"{conf}:67:" in outputs[1] and "is not an IP address" in outputs[1]
    assert f"{conf}:68:" in outputs[1] and "unterminated double quote" in outputs[1]


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ('add server "my server" 10.0.0.1', ["add", "server", "my server", "10.0.0.1"]),
        (r'set x -a "say \"hi\" \\ ok"', ["set", "x", "-a", 'say "hi" \\ ok']),
        (
            'add rw act -x q{HTTP.REQ.HEADER("A").EQ("b c")} -y 1',
            ["add", "rw", "act", "-x", 'HTTP.REQ.HEADER("A").EQ("b c")', "-y", "1"],
        ),
        ('add rw act q|"https"| z', ["add", "rw", "act", '"https"', "z"]),
        (
            "add rw act q~a b~ q<c d> q[e f] q/g h/",
            ["add", "rw", "act", "a b", "c d", "e f", "g h"],
        ),
        ("add server q-1 10.0.0.1", ["add", "server", "q-1", "10.0.0.1"]),
        ("add server a\\ b 10.0.0.1 # a comment", ["add", "server", "a b", "10.0.0.1"]),
        ("#NS13.1 Build 49.15", []),
        ("   ", []),
    ],
)
def test_tokenizer(line: str, words: list[str]) -> None:
    assert split_words(line) == words


def test_options_in_any_order_and_secrets_redacted_at_once() -> None:
    one = parse_line(
        1,
        "add authentication ldapAction a -serverPort 636 -serverIP 10.0.0.1 -secType SSL -ldapBindDnPassword xyz -encrypted",
    )
    two = parse_line(
        2,
        "add authentication ldapAction a -encrypted -ldapBindDnPassword xyz -secType SSL -serverIP 10.0.0.1 -serverPort 636",
    )
    assert one is not None and two is not None
    assert one.options == two.options
    assert one.options["ldapbinddnpassword"] == REDACTED
    assert one.options["encrypted"] is None  # a flag
    assert "xyz" not in repr(one)


#: Malformed lines: each is skipped with a warning at its line and column; the rest imports.
MALFORMED = [
    ('add server srv1 "10.0.0.1', 17, "unterminated double quote"),
    ("add ns ip 10.0.0.300 255.255.255.0", 11, "add ns ip: the address is not an IP address"),
    ("add ns ip 10.0.0.30 255.0.255.0", 21, "the netmask is not valid"),
    ("add lb vserver lb1 SSL 10.0.0.40 99999", 34, "add lb vserver: the port is not a port number"),
    ("add lb vserver lb2", 1, "add lb vserver: missing service type"),
    ("add service s1 srv1 SSL http", 25, "add service: the port is not a port number"),
    ("add authentication ldapAction l1 -serverPort 636", 1, "no -serverIP or -serverName"),
    (
        "add authentication ldapAction l2 -serverIP 10.0.0.9 -serverPort 0",
        53,
        "-serverPort is not a port",
    ),
    ("add route 10.0.0.0 255.255.255.0 gw", 34, "the gateway is not an IP address"),
    ("add rewrite action a1 replace q{unterminated", 31, "unterminated q{...} quotation"),
    ("bind vpn vserver gw -staServer http://[::1", 21, "the URL is not valid"),
    ("add dns nameServer", 1, "missing name server"),
]


def test_malformed_lines_are_located_and_skipped(run_cli, tmp_path: Path) -> None:
    header = "set ns config -IPAddress 10.0.0.5 -netmask 255.255.255.0\n"
    conf = tmp_path / "bad.conf"
    conf.write_text(header + "".join(line + "\n" for line, _, _ in MALFORMED))
    inventory = read_text(conf.read_text(), str(conf))
    problems = {p.line: p for p in inventory.problems}
    for number, (_, col, message) in enumerate(MALFORMED, start=2):
        assert number in problems, f"line {number} not reported"
        assert message in problems[number].message, problems[number]
        assert problems[number].col == col, (number, problems[number])
    result = run_cli("import", "netscaler", str(conf))
    assert result.code == 0, result
    assert result.stderr.count("(line skipped)") == len(MALFORMED)
    assert "Traceback" not in result.stderr


def test_no_netscaler_address_is_exit_2(run_cli, tmp_path: Path) -> None:
    conf = tmp_path / "ns.conf"
    conf.write_text("add server s1 10.0.0.1\nadd lb vserver lb1 HTTP 10.0.0.2 80\n")
    result = run_cli("import", "netscaler", str(conf))
    assert result.code == 2
    assert result.stderr.count("\n") == 1
    assert "set ns config -IPAddress" in result.stderr and str(conf) in result.stderr


@pytest.mark.parametrize("content", [b"\x00\x01binary", None])
def test_unreadable_input_is_exit_2(run_cli, tmp_path: Path, content: bytes | None) -> None:
    conf = tmp_path / "ns.conf"
    if content is not None:
        conf.write_bytes(content)
    result = run_cli("import", "netscaler", str(conf))
    assert result.code == 2 and result.stderr.startswith("flowmatrix: error: ")


def test_merge_keeps_the_rest_and_its_comments(run_cli, tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    original = run_cli("example").stdout
    site.write_text(original)
    out = tmp_path / "merged.yaml"
    result = run_cli("import", "netscaler", str(NS_CONF), "--merge", str(site), "-o", str(out))
    assert result.code == 0, result
    merged = out.read_text()
    assert site.read_text() == original  # the input is not touched
    for line in original.splitlines():
        if line.lstrip().startswith("#"):
            assert line in merged  # every comment kept
    before, after = yaml.safe_load(original), yaml.safe_load(merged)
    assert after["zones"] == before["zones"] and after["firewalls"] == before["firewalls"]
    names = [h["name"] for h in after["hosts"]]
    assert names[: len(before["hosts"])] == [h["name"] for h in before["hosts"]]
    netscaler = after["hosts"][0]["netscaler"]
    assert netscaler["aaa"] == "172.16.10.6" and "172.16.10.11" in netscaler["vip"]
    assert {"sf2", "radius-10.10.20.45"} <= set(names)
    assert after["features"]["ldap"] is True  # the site's own value is kept...
    assert "features ldap: the site says True, ns.conf suggests False (kept)" in result.stderr
    assert after["features"]["radius"] is True  # ...and what it did not say is filled
    assert run_cli("plan", str(out)).code == 0


@pytest.mark.parametrize("version", [1, 2])
def test_merge_writes_the_form_of_the_site_s_format(run_cli, tmp_path: Path, version: int) -> None:
    # a format 2 site gets 'roles:' and the publishing mode; a format 1 site gets 'role:'
    # and a word that it cannot say how XenMobile is published
    site = tmp_path / "site.yaml"
    site.write_text(run_cli("example").stdout)  # the default example is format 1
    if version == 2:
        assert run_cli("site", "upgrade", str(site), "-o", str(site)).code == 0
    out = tmp_path / "merged.yaml"
    result = run_cli("import", "netscaler", str(NS_CONF), "--merge", str(site), "-o", str(out))
    assert result.code == 0, result
    after = yaml.safe_load(out.read_text())
    assert after["version"] == version
    netscalers = [h for h in after["hosts"] if "netscaler" in h]
    assert len(netscalers) == 1  # the site's own NetScaler, found in either form
    added = [h for h in after["hosts"] if h["name"] in ("sf2", "radius-10.10.20.45")]
    assert len(added) == 2 and all(("roles" in h) == (version == 2) for h in added)
    planned = run_cli("plan", str(out), "-f", "json")
    assert planned.code == 0, planned
    direct = [
        f
        for f in json.loads(planned.stdout)["flows"]
        if f["source"]["zone"] == "internet" and f["destination"]["role"] == "xenmobile"
    ]
    if version == 2:
        assert after["publish"] == {"xenmobile": "netscaler-lb"} and not direct
    else:
        assert "publish" not in after and direct
        assert "site format 1 cannot say so" in result.stderr


def _without_nat(text: str) -> str:
    """The hospital example without its edge NAT (which publishes the NetScaler's VIP)."""
    return re.sub(r"\n    nat:.*?(?=\n  - name: core)", "", text, flags=re.S)


def test_merge_keeps_the_site_s_own_publishing_mode(run_cli, tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    hospital = _without_nat(run_cli("example", "hospital").stdout)
    site.write_text(hospital.replace("netscaler-lb", "direct"))
    out = tmp_path / "merged.yaml"
    result = run_cli("import", "netscaler", str(NS_CONF), "--merge", str(site), "-o", str(out))
    assert result.code == 0, result
    assert yaml.safe_load(out.read_text())["publish"] == {"xenmobile": "direct"}
    assert (
        "publish xenmobile: the site says 'direct', ns.conf suggests 'netscaler-lb' (kept)"
        in result.stderr
    )
    assert run_cli("plan", str(out)).code == 0


def test_json_document(run_cli) -> None:
    result = run_cli("import", "netscaler", str(NS_CONF), "-f", "json")
    doc = json.loads(result.stdout)
    assert doc["format"] == "flowmatrix-import/1"
    assert doc["site"] == "nsg1 (imported from ns.conf)"
    draft = run_cli("import", "netscaler", str(NS_CONF)).stdout  # the site the import wrote
    assert doc["site_digest"] == site_digest(draft.encode())
    deployment = doc["deployment"]
    assert deployment["xenmobile_publishing"] == "netscaler-lb"
    assert deployment["nsip"]["address"] == "172.16.10.5"
    assert {h["role"] for h in deployment["hosts"]} >= {"xenmobile", "storefront", "ldap-server"}
    assert doc["skipped"]["add ssl certKey"] == 2


#: Characters that matter to the CLI's quoting, and a few plain ones.
_TRICKY = st.text(alphabet=' \t"\\q{}<>[]|/~$#-ab1', max_size=40)


@settings(max_examples=400, deadline=None)
@given(line=_TRICKY)
def test_a_line_reads_exactly_when_its_words_split(line: str) -> None:
    """The whole-line check used for skipped commands agrees with the word scanner."""
    try:
        split_words(line)
    except LexError:
        assert not reads(line)
    else:
        assert reads(line)


#: The word grammar as first written, one character per step: the faster runs of the
#: lexer must take exactly the same words.
_ONE_CHAR = {
    r'"(?P<dq>[^"\\]*(?:\\.[^"\\]*)*)"': r'"(?P<dq>(?:[^"\\]|\\.)*)"',
    r"(?P<tail>(?:[^ \t\r\n\\]+|\\.|\\)*)": r"(?P<tail>(?:\\.|[^ \t\r\n])*)",
    r"(?:[^ \t\r\n\\]+|\\.|\\)+)": r"(?:\\.|[^ \t\r\n])+)",
}


def _one_char(pattern: re.Pattern[str]) -> re.Pattern[str]:
    text = pattern.pattern
    for fast, slow in _ONE_CHAR.items():
        assert fast in text
        text = text.replace(fast, slow)
    return re.compile(text, pattern.flags)


@settings(max_examples=400, deadline=None)
@given(line=_TRICKY)
def test_word_runs_take_the_words_one_character_steps_take(line: str) -> None:
    for fast in (lexer._WORD, lexer._LINE):
        slow = _one_char(fast)
        assert [m.groupdict() for m in fast.finditer(line)] == [
            m.groupdict() for m in slow.finditer(line)
        ]
    # Only the line check is ever anchored at both ends (its words are atomic groups);
    # the word scanner is matched at a word start, never forced to reach the end, where
    # its un-atomic tail would backtrack exponentially.
    found, expected = lexer._LINE.fullmatch(line), _one_char(lexer._LINE).fullmatch(line)
    assert (found and found.groupdict()) == (expected and expected.groupdict())


def test_a_hostile_line_reads_in_linear_time() -> None:
    """The two ways the reader runs its grammar stay fast on what backtracks badly."""
    for n in (1_000, 100_000):
        for line in ('""' + "a" * n + ' #x"', '"' + "\\a" * n, "q{" + "\\" * n, "a\\" * n + '"'):
            assert isinstance(reads(line), bool)
            try:
                assert split_words(line)
            except LexError as error:  # an unclosed quotation: refused, and quickly
                assert "quot" in str(error)


_NETWORKS = st.one_of(
    st.builds(
        lambda a, p: ipaddress.ip_network((a, p), strict=False),
        st.integers(0, 2**16 - 1).map(lambda a: a << 16),
        st.integers(16, 32),
    ),
    st.builds(
        lambda a, p: ipaddress.ip_network((a, p), strict=False),
        st.integers(0, 2**12 - 1).map(lambda a: a << 116),
        st.integers(110, 128),
    ),
)


@settings(max_examples=200, deadline=None)
@given(nets=st.lists(_NETWORKS, min_size=1, max_size=30))
def test_routes_collapse_as_ipaddress_does(nets: list) -> None:
    v4 = [n for n in nets if n.version == 4]
    v6 = [n for n in nets if n.version == 6]
    expected = [*ipaddress.collapse_addresses(v4), *ipaddress.collapse_addresses(v6)]
    assert collapse_networks(nets) == expected


@settings(max_examples=300, deadline=None)
@given(
    text=st.one_of(
        st.tuples(*[st.integers(0, 300)] * 4).map(lambda t: ".".join(map(str, t))),
        st.text(alphabet="0123456789.:abcdefABCDEF x", max_size=20),
        st.ip_addresses().map(str),
    )
)
def test_addresses_read_as_ipaddress_writes_them(text: str) -> None:
    """The fast path for dotted quads gives what ipaddress gives, and refuses what it refuses."""
    try:
        expected = str(ipaddress.ip_address(text))
    except ValueError:
        with pytest.raises(ValueError):
            canonical_address(text)
    else:
        assert canonical_address(text) == expected


def test_merge_that_would_break_a_nat_is_refused(run_cli, tmp_path: Path) -> None:
    """ns.conf gives the NetScaler two VIPs: the site's 'to: adc1' would no longer say
    which one is published, so nothing is written and the message says where."""
    site = tmp_path / "site.yaml"
    site.write_text(run_cli("example", "hospital").stdout)
    out = tmp_path / "merged.yaml"
    result = run_cli("import", "netscaler", str(NS_CONF), "--merge", str(site), "-o", str(out))
    assert result.code == 2 and not out.exists()
    assert "(merged):" in result.stderr
    assert "host 'adc1' has no single address to publish (172.16.10.10, 172.16.10.11)" in (
        result.stderr
    )
