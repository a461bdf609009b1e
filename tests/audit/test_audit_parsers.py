"""Reading rulesets: iptables-save, ipset save, interface maps, nftables text and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowmatrix.audit import ranges
from flowmatrix.audit.ipassmt import load_ipassmt, parse_ipassmt
from flowmatrix.audit.ipset import parse_ipsets
from flowmatrix.audit.loader import load_ruleset, read_nft_text
from flowmatrix.audit.nft_text import parse_nft_text
from flowmatrix.audit.parse_iptables import parse_iptables
from flowmatrix.audit.parse_nft import parse_nft_json
from flowmatrix.errors import UserError

DATA = Path(__file__).parent / "data"


def ip(text: str) -> int:
    return ranges.parse_prefix(text)[1][0]


def net(text: str) -> tuple[tuple[int, int], ...]:
    return (ranges.parse_prefix(text)[1],)


def save(*rules: str, chains: tuple[str, ...] = ()) -> str:
    return "\n".join(
        [
            "*filter",
            ":INPUT ACCEPT [0:0]",
            ":FORWARD DROP [0:0]",
            ":OUTPUT ACCEPT [0:0]",
            *chains,
            *rules,
            "COMMIT",
            "",
        ]
    )


def test_iptables_matches_become_fields() -> None:
    text = save(
        "-A FORWARD -s 10.0.0.0/255.255.255.0 ! -d 10.0.0.5/32 -i eth+ -p tcp -m tcp "
        "--dport 1000:2000 --tcp-flags FIN,SYN,RST,ACK SYN -m state --state NEW -j ACCEPT",
        "-A FORWARD -p udp -m multiport --dports 53,5000:5010 -m iprange --src-range "
        "10.1.0.1-10.1.0.9 -j DROP",
    )
    rules = parse_iptables(text, "f").chains["filter/FORWARD"].rules
    first, second = rules[0].match, rules[1].match
    assert first.src == net("10.0.0.0/24")
    assert first.dst == ranges.complement(net("10.0.0.5/32"), ranges.ADDR_MAX[4])
    assert first.iif is not None and first.iif.matches("eth7") and not first.iif.matches("wlan0")
    assert first.protos == frozenset({6}) and first.dport == ((1000, 2000),)
    assert first.tcp_flags == ((0x17, 0x02, False),) and first.states == frozenset({"new"})
    assert second.dport == ((53, 53), (5000, 5010))
    assert second.src == ((ip("10.1.0.1"), ip("10.1.0.9")),)
    assert rules[0].origin.line == 5 and rules[1].action.kind == "drop"


def test_multiport_ports_is_a_union_of_two_exact_rules() -> None:
    text = save("-A FORWARD -p tcp -m multiport --ports 22,80 -j ACCEPT")
    rules = parse_iptables(text, "f").chains["filter/FORWARD"].rules
    assert len(rules) == 2 and {r.origin.line for r in rules} == {5}
    assert rules[0].match.dport == ((22, 22), (80, 80)) and rules[0].match.sport is None
    assert rules[1].match.sport == ((22, 22), (80, 80))
    assert rules[1].match.dport is not None and not ranges.contains(rules[1].match.dport, 80)


def test_old_negation_syntax_inserts_counters_goto() -> None:
    text = save(
        "[3:180] -A FORWARD -p tcp -m tcp --dport ! 22 -j web",
        "-I FORWARD 1 -s 10.9.9.9 -j DROP",
        "-A FORWARD -g web",
        "-A web -j RETURN",
        chains=(":web - [0:0]",),
    )
    ruleset = parse_iptables(text, "f")
    rules = ruleset.chains["filter/FORWARD"].rules
    assert [r.origin.line for r in rules] == [7, 6, 8]
    assert [r.origin.position for r in rules] == [1, 2, 3]
    assert rules[1].match.dport is not None and not ranges.contains(rules[1].match.dport, 22)
    assert rules[1].action.kind == "jump" and rules[2].action.kind == "goto"
    assert rules[2].action.target == "filter/web"


def test_unevaluated_matches_are_kept_and_unknown_targets_reported() -> None:
    text = save(
        "-A FORWARD -m recent --update --seconds 60 --name x --rsource -j DROP",
        "-A FORWARD -m mac --mac-source XX:XX:XX:XX:XX:XX -p tcp --dport 22 -j ACCEPT",
        '-A FORWARD -m limit --limit 5/min -j LOG --log-prefix "drop: "',
        "-A FORWARD -j FANCYTARGET --frob 1",
        "-A FORWARD -f -j DROP",
    )
    ruleset = parse_iptables(text, "f")
    rules = ruleset.chains["filter/FORWARD"].rules
    assert rules[0].match.opaque == ("-m recent --update --seconds 60 --name x --rsource",)
    assert rules[1].match.opaque and rules[1].match.dport == ((22, 22),)
    assert rules[2].action.kind == "continue"
    assert rules[3].action.kind == "unknown"
    assert rules[4].match.never is not None
    assert [(p.line, "FANCYTARGET" in p.message) for p in ruleset.problems] == [(8, True)]


def test_unreadable_parts_name_their_line() -> None:
    ruleset = parse_iptables(save("-A FORWARD -s 10.0.0.300 -j ACCEPT"), "f")
    assert ruleset.problems[0].line == 5 and "10.0.0.300" in ruleset.problems[0].message
    assert ruleset.rules[0].match.opaque


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("-A FORWARD -j ACCEPT\n", 1, "outside a table"),
        ("*filter\n:FORWARD DROP [0:0]\n-A NOPE -j ACCEPT\nCOMMIT\n", 3, "does not declare"),
        ("*filter\n-Z FORWARD\nCOMMIT\n", 2, "unexpected command"),
        ('*filter\n-A FORWARD -m comment --comment "open\nCOMMIT\n', 2, "unreadable"),
    ],
)
def test_iptables_errors_point_at_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_iptables(text, "fw.rules")
    assert caught.value.file == "fw.rules" and caught.value.line == line
    assert words in caught.value.message


def test_built_in_chains_need_no_declaration() -> None:
    # accepted by iptables-restore --test: FORWARD exists, its policy is ACCEPT
    ruleset = parse_iptables("*filter\n-A FORWARD -s 10.0.0.1 -j DROP\nCOMMIT\n", "f")
    (forward,) = [b for b in ruleset.bases if b.chain == "filter/FORWARD"]
    assert forward.policy == "accept" and len(ruleset.chains["filter/FORWARD"].rules) == 1


@pytest.mark.parametrize(
    ("header", "dialect"),
    [
        ("# flowmatrix: ip6tables-restore rules (IPv6) for firewall edge", "ip6tables"),
        (
            "# Generated by ip6tables-save v1.8.9 (nf_tables) on Wed Dec  2 10:00:00 2026",
            "ip6tables",
        ),
        ("# flowmatrix: iptables-restore rules (IPv4) for firewall edge", "iptables"),
        ("# Generated by iptables-save v1.8.9 on Wed Dec  2 10:00:00 2026", "iptables"),
    ],
)
def test_the_header_names_the_family_of_a_file_without_addresses(header: str, dialect: str) -> None:
    text = (
        f"{header}\n*filter\n:FORWARD DROP [0:0]\n-A FORWARD -p tcp --dport 443 -j ACCEPT\nCOMMIT\n"
    )
    assert parse_iptables(text, "f").dialect == dialect


def test_ipset_contents_make_set_matches_exact() -> None:
    sets = parse_ipsets(
        "create admins hash:net family inet hashsize 1024 maxelem 65536\n"
        "add admins 10.0.0.0/24\nadd admins 10.0.0.128/25 nomatch\n"
        "create svc hash:ip,port family inet\nadd svc 10.1.0.1,tcp:443\nadd svc 10.1.0.2,udp:53\n",
        "sets",
    )
    text = save(
        "-A FORWARD -m set --match-set admins src -j ACCEPT",
        "-A FORWARD -m set --match-set svc dst,dst -j ACCEPT",
        "-A FORWARD -m set ! --match-set admins dst -j DROP",
        "-A FORWARD -m set --match-set missing src -j DROP",
    )
    rules = parse_iptables(text, "f", ipsets=sets).chains["filter/FORWARD"].rules
    assert rules[0].match.src == net("10.0.0.0/25")
    assert {(r.match.dst, r.match.protos, r.match.dport) for r in rules[1:3]} == {
        (net("10.1.0.1/32"), frozenset({6}), ((443, 443),)),
        (net("10.1.0.2/32"), frozenset({17}), ((53, 53),)),
    }
    assert rules[3].match.dst == ranges.complement(net("10.0.0.0/25"), ranges.ADDR_MAX[4])
    assert rules[4].match.opaque  # a set the file does not have
    without = parse_iptables(text, "f").chains["filter/FORWARD"].rules
    assert all(r.match.opaque for r in without)


def test_ipassmt_most_specific_entry_wins(tmp_path: Path) -> None:
    found = parse_ipassmt(
        "# uplink\neth0 = [0.0.0.0/0]\neth1 = [10.0.0.0/8, "
        "192.168.1.10-192.168.1.20]\neth2 = [10.5.0.0/16]\n",
        "map",
    )
    assert found.interface_of(4, ip("8.8.8.8")) == "eth0"
    assert found.interface_of(4, ip("10.5.1.1")) == "eth2"
    assert found.interface_of(4, ip("10.6.1.1")) == "eth1"
    assert found.interface_of(6, ip("2001:db8::1")) is None
    parts = {name: ivs for ivs, name in found.split(4, net("10.0.0.0/8"))}
    assert parts["eth2"] == net("10.5.0.0/16") and len(parts) == 2
    yaml_map = tmp_path / "map.yaml"
    yaml_map.write_text("eth0: [0.0.0.0/0]\neth1:\n  - 10.0.0.0/8\n  - not-an-address\n")
    with pytest.raises(UserError) as caught:
        load_ipassmt(yaml_map)
    assert caught.value.line == 4


def test_ipassmt_bad_line() -> None:
    with pytest.raises(UserError) as caught:
        parse_ipassmt("eth0 = [10.0.0.0/8]\neth1 10.1.0.0/16\n", "map")
    assert caught.value.line == 2


NFT = (DATA / "lab.nft").read_text()


def test_nft_text_reads_sets_maps_and_concatenations() -> None:
    ruleset = read_nft_text(NFT, "lab.nft", "text")
    forward = ruleset.chains["inet lab/forward"]
    base = next(b for b in ruleset.bases if b.chain == "inet lab/forward")
    assert (base.hook, base.priority, base.policy) == ("forward", 0, "drop")
    raw = next(b for b in ruleset.bases if b.chain == "inet lab/raw")
    assert raw.priority == -300
    vmap = [r for r in forward.rules if r.origin.line == 35]
    assert sorted(r.action.kind for r in vmap) == ["accept", "drop", "jump"]
    assert all(r.match.src == ((ip("198.18.1.5"), ip("198.18.1.7")),) for r in vmap)
    concat = ruleset.chains["inet lab/from_right"].rules[1:3]
    assert {(r.match.dst, r.match.dport) for r in concat} == {
        (net("198.18.1.10/32"), ((9000, 9000),)),
        (net("198.18.1.10/32"), ((9001, 9001),)),
    }
    assert forward.rules[0].origin.text == "ip saddr 198.18.2.20 tcp sport 8443 drop"


def test_nft_text_priorities_defines_and_commands() -> None:
    text = (
        "define LAN = 10.0.0.0/8\nflush ruleset\nadd table ip f\n"
        "add chain ip f fwd { type filter hook forward priority filter + 10; policy drop; }\n"
        "add rule ip f fwd ip saddr $LAN tcp dport ssh counter accept\n"
    )
    ruleset = read_nft_text(text, "cmds.nft", "text")
    (base,) = ruleset.bases
    assert base.priority == 10 and base.policy == "drop"
    (rule,) = ruleset.rules
    assert rule.match.src == net("10.0.0.0/8") and rule.match.dport == ((22, 22),)
    assert rule.origin.line == 5


def test_nft_text_errors_and_unread_parts() -> None:
    with pytest.raises(UserError) as caught:
        parse_nft_text("table inet t {\n  chain c {\n    accept\n", "bad.nft")
    assert caught.value.file == "bad.nft"
    ruleset = read_nft_text(
        "table ip t {\n chain c {\n  type filter hook forward priority 0;\n"
        "  ip saddr 10.0.0.1 fib daddr type local frobnicate accept\n }\n}\n",
        "odd.nft",
        "text",
    )
    (rule,) = ruleset.rules
    assert rule.action.kind == "accept" and rule.match.opaque
    assert any(p.line == 4 for p in ruleset.problems)


def test_nft_text_keeps_handles_of_an_annotated_listing() -> None:
    text = (
        "table inet t { # handle 3\n\tchain c { # handle 1\n"
        "\t\ttype filter hook forward priority filter; policy accept;\n"
        "\t\ttcp dport 22 drop # handle 7\n\t}\n}\n"
    )
    (rule,) = read_nft_text(text, "a.nft", "text").rules
    assert rule.origin.handle == 7 and rule.origin.line == 4


def test_nft_json_keeps_handles_and_renders_text() -> None:
    document = {
        "nftables": [
            {"table": {"family": "ip", "name": "t", "handle": 1}},
            {
                "chain": {
                    "family": "ip",
                    "table": "t",
                    "name": "c",
                    "handle": 1,
                    "type": "filter",
                    "hook": "forward",
                    "prio": 0,
                    "policy": "drop",
                }
            },
            {
                "rule": {
                    "family": "ip",
                    "table": "t",
                    "chain": "c",
                    "handle": 4,
                    "expr": [
                        {
                            "match": {
                                "op": "==",
                                "left": {"payload": {"protocol": "tcp", "field": "dport"}},
                                "right": {"set": [22, {"range": [8000, 8080]}]},
                            }
                        },
                        {"counter": {"packets": 0, "bytes": 0}},
                        {"accept": None},
                    ],
                }
            },
        ]
    }
    (rule,) = parse_nft_json(json.dumps(document), "j.json").rules
    assert rule.origin.handle == 4 and rule.origin.line is None
    assert rule.match.dport == ((22, 22), (8000, 8080)) and rule.match.family == 4
    assert "tcp dport" in rule.origin.text
    with pytest.raises(UserError):
        parse_nft_json('{"nope": 1}', "j.json")
    with pytest.raises(UserError) as caught:
        parse_nft_json('{\n  "nftables": [\n  oops\n]}', "j.json")
    assert caught.value.line == 3


def test_format_detection(tmp_path: Path) -> None:
    unknown = tmp_path / "acl.txt"
    # a Cisco IOS ACL (an ASA one is read since the vendor readers exist)
    unknown.write_text("ip access-list extended outside\n permit tcp any any eq 443\n")
    with pytest.raises(UserError, match="cannot tell"):
        load_ruleset(unknown)
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(UserError, match="empty"):
        load_ruleset(empty)
    with pytest.raises(UserError, match="no such file"):
        load_ruleset(tmp_path / "missing")


def test_mangled_rulesets_give_user_errors_only(tmp_path: Path) -> None:
    """Lines cut, glued and shuffled: a clear error or a ruleset, never a crash."""
    import random

    from flowmatrix.api import load_plan
    from flowmatrix.audit.judging import audit_plan

    plan = load_plan(None)
    seeds = [(DATA / name).read_text() for name in ("back.rules", "lab.nft", "lab.iptables")]
    words = [
        "{",
        "}",
        ";",
        "!",
        "-j",
        "-m",
        "--dport",
        "-s",
        "jump",
        "goto",
        "vmap",
        "@x",
        '"',
        "::",
        "10.0.0.0/33",
        "-",
        "ip saddr",
        "tcp dport",
        "drop",
        "*filter",
        "COMMIT",
        ":X -",
        "-A",
        "999999",
        "a-b",
        ",",
        ".",
        ":",
        "priority",
        "elements = {",
    ]
    rng = random.Random(5)
    target = tmp_path / "mangled"
    for _ in range(300):
        lines = rng.choice(seeds).splitlines()
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(lines))
            parts = lines[at].split(" ")
            choice = rng.random()
            if choice < 0.5:
                parts.insert(rng.randrange(len(parts) + 1), rng.choice(words))
            elif choice < 0.8 and len(parts) > 1:
                del parts[rng.randrange(len(parts))]
            else:
                lines.insert(at, rng.choice(words))
            lines[at] = " ".join(parts)
        target.write_text("\n".join(lines) + "\n")
        try:
            ruleset = load_ruleset(target, nft_reader="text")
        except UserError as exc:
            assert exc.file is not None
            continue
        audit_plan(plan, ruleset, firewall="fw-back")
