"""For a blocked flow: the rule to add, where, in the audited ruleset's own syntax.

The new rule goes just before the rule that led the packet to its drop, in the
innermost chain that does more than log and drop: before the jump to
``LOG_DROP`` rather than inside ``LOG_DROP``; at the end of the base chain when its
policy dropped the packet. Every proposal is checked: the ruleset with the new rule is
evaluated again, and when the packet is still blocked further on (a later chain, the
reply), the next rule is proposed, until the flow passes or nothing more can be done.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from flowmatrix.audit import ranges
from flowmatrix.audit.delta import DeltaWalker
from flowmatrix.audit.engine import CompiledWalker
from flowmatrix.audit.ir import Action, Chain, IfaceMatch, Match, Origin, Rule, Ruleset
from flowmatrix.audit.packet import Ctx, Region
from flowmatrix.audit.pipeline import Decision, Path, PathResult
from flowmatrix.audit.ranges import Ivs
from flowmatrix.audit.result import Fix
from flowmatrix.audit.verdict import Alternative, evaluate_flow, held
from flowmatrix.audit.walk import Walker
from flowmatrix.i18n import _, ngettext

MAX_ROUNDS = 4
MAX_LISTED = 8
"""More addresses than this in a fix: the address condition is left out (and said so)."""


@dataclass(frozen=True)
class Blocked:
    """A blocked piece of a flow, with what blocked it."""

    region: Region
    ctx: Ctx
    alternative: Alternative


@dataclass(frozen=True)
class Placement:
    chain: Chain
    index: int | None
    """IR index to insert before; None to append."""
    text: str


def propose(
    ruleset: Ruleset, path: Path, blocked: list[Blocked], walker: CompiledWalker | None = None
) -> list[Fix]:
    """Fixes for the blocked pieces of one flow and port, checked by re-evaluation
    (with ``walker``, the audit's compiled engine of ``ruleset``, reused for that)."""
    pending = list(blocked)
    current = ruleset
    # a vendor's configuration has its own places and syntax (audit/vendor/fixwriters.py)
    writer = ruleset.device.fix_writer if ruleset.device is not None else None
    place = writer.placement if writer is not None else _placement
    # each fix but whether it is enough: command, chain, placement, leg, note
    proposed: list[tuple[str, str, str, str, str | None]] = []
    for _round in range(MAX_ROUNDS):
        if not pending:
            break
        groups = _group_by_chain(current, pending, place)
        if not groups:
            break
        progress = False
        for (_chain, leg, _iif, _oif, _family), group in groups.items():
            placement, items, results = _earliest(group)
            if writer is not None:
                fix_rule, command, note = writer.make_rule(current, placement, items, leg)
            else:
                untracked = any(d.outcome.untracked for r in results for d in r.decisions)
                fix_rule, command, note = _make_rule(current, placement, items, leg, untracked)
            if any(command == done[0] for done in proposed):
                continue
            note = _join_notes(note, _merged_note(group))
            progress = True
            current = _insert(current, placement, fix_rule)
            proposed.append((command, placement.chain.name, placement.text, leg, note))
        if not progress:
            break
        pending = _still_blocked(current, path, blocked, walker)
    verified = not pending
    return [
        Fix(command, chain, text, leg, verified, note)  # type: ignore[arg-type]
        for command, chain, text, leg, note in proposed
    ]


_GroupKey = tuple[str, str, str | None, str | None, int]
_Placed = tuple[Placement, Blocked, PathResult]


def _group_by_chain(
    ruleset: Ruleset,
    pending: list[Blocked],
    place: Callable[[Ruleset, Decision], Placement | None],
) -> dict[_GroupKey, list[_Placed]]:
    """The blocked pieces by the chain their fix goes in (and leg, interfaces, family):
    one rule per chain, however many rules of it drop parts of the flow."""
    groups: dict[_GroupKey, list[_Placed]] = {}
    seen: dict[int, Placement | None] = {}
    # the deciders are alive in ``pending`` for the whole loop: their ids are theirs
    for item in pending:
        leg, result = _blocking_leg(item.alternative)
        decider = result.decider
        if decider is None:
            continue
        if id(decider) not in seen:
            seen[id(decider)] = _placed(ruleset, decider, place)
        placement = seen[id(decider)]
        if placement is None:
            continue
        key = (placement.chain.key, leg, item.ctx.iif, item.ctx.oif, item.ctx.family)
        groups.setdefault(key, []).append((placement, item, result))
    return groups


def _placed(
    ruleset: Ruleset,
    decision: Decision,
    place: Callable[[Ruleset, Decision], Placement | None],
) -> Placement | None:
    """``place(ruleset, decision)``, once per ruleset and way of deciding: a placement
    depends on the base chain, the end, the deciding rule and the trace of the decision
    (nothing else of it), the flows blocked by one rule share it."""
    cache: dict[tuple[object, ...], Placement | None] = ruleset.__dict__.setdefault(
        "_placements", {}
    )
    outcome = decision.outcome
    key = (decision.base, decision.end, outcome.rule, outcome.trace)
    if key not in cache:
        cache[key] = place(ruleset, decision)
    return cache[key]


def _position(placement: Placement) -> float:
    return math.inf if placement.index is None else placement.index


def _earliest(group: list[_Placed]) -> tuple[Placement, list[Blocked], list[PathResult]]:
    """The first of the group's places in their chain: an accepting rule there lets
    every piece through before any of the rules that dropped one of them."""
    if len(group) == 1:
        placed, item, result = group[0]
        return placed, [item], [result]
    first = min((placed for placed, _, _ in group), key=_position)
    return first, [item for _, item, _ in group], [result for _, _, result in group]


def _merged_note(group: list[_Placed]) -> str | None:
    if len(group) < 2:
        return None
    places = sorted({_position(placed): placed for placed, _, _ in group}.items())
    if len(places) < 2:
        return None
    first, last = places[0][1].text, places[-1][1].text
    return ngettext(
        "one rule for {n} places that drop parts of the flow ({first} ... {last})",
        "one rule for {n} places that drop parts of the flow ({first} ... {last})",
        len(places),
    ).format(n=len(places), first=first, last=last)


def _join_notes(*notes: str | None) -> str | None:
    return "; ".join(n for n in notes if n) or None


def usual(alternatives: tuple[Alternative, ...]) -> list[Alternative]:
    """The alternatives that assume the fewest unevaluated conditions true: what happens
    when rate limits, recent lists and the like do not fire. Fixes address these only,
    never by opening a way around such a condition."""

    counts = [held(a.request) + held(a.reply) for a in alternatives]
    least = min(counts)
    return [a for a, count in zip(alternatives, counts, strict=True) if count == least]


def _blocking_leg(alternative: Alternative) -> tuple[str, PathResult]:
    if alternative.reply is not None and alternative.request.verdict == "accept":
        return "reply", alternative.reply
    return "request", alternative.request


def _still_blocked(
    ruleset: Ruleset, path: Path, blocked: list[Blocked], base: CompiledWalker | None
) -> list[Blocked]:
    walker: Walker = CompiledWalker(ruleset) if base is None else DeltaWalker(base, ruleset)
    out: list[Blocked] = []
    for region, ctx in dict.fromkeys((item.region, item.ctx) for item in blocked):
        for cell in evaluate_flow(walker, path, ctx, region):
            for alternative in usual(cell.alternatives):
                if alternative.status == "blocked":
                    out.append(Blocked(cell.region, ctx, alternative))
    return out


def _only_logs_and_drops(chain: Chain) -> bool:
    """A chain that only logs and drops: no rule of it looks at the packet's fields."""
    for rule in chain.rules:
        m = rule.match
        if any(
            v is not None
            for v in (m.src, m.dst, m.sport, m.dport, m.protos, m.states, m.iif, m.oif)
        ):
            return False
    return True


def _at_end(base: Chain) -> str:
    return _("at the end of {chain} (its policy drops the packet)").format(chain=base.name)


def _placement(ruleset: Ruleset, decision: Decision) -> Placement | None:
    base = ruleset.chains[decision.base]
    trace = decision.outcome.trace
    if decision.end.startswith("policy-") and not trace:
        return Placement(base, None, _at_end(base))
    frames: list[tuple[Chain, int, Rule]] = []
    for uid in trace:
        rule = ruleset.rule(uid)
        chain = ruleset.chains[_chain_key(ruleset, rule)]
        index = rule_positions(ruleset, chain).by_uid[uid]
        frames.append((chain, index, rule))
    if decision.end.startswith("policy-") or decision.outcome.rule is None:
        # the packet fell off the end of the last chain it was in, or left it by RETURN
        chain, index, last = frames[-1]
        if last.action.kind == "goto" and last.action.target in ruleset.chains:
            target = ruleset.chains[last.action.target]
            return Placement(
                target,
                None,
                _(
                    "at the end of {chain} (reached by goto from {rule}; the policy of "
                    "{base} drops what falls off it)"
                ).format(
                    chain=target.name,
                    rule=f"{chain.name}#{last.origin.position}",
                    base=base.name,
                ),
            )
        if last.action.kind == "return":
            first = rule_positions(ruleset, chain).first_equal[last.origin]
            return Placement(
                chain,
                first,
                _("before {rule} (RETURN, then the policy drops the packet)").format(
                    rule=f"{chain.name}#{last.origin.position}"
                ),
            )
        return Placement(base, None, _at_end(base))
    for chain, _index, rule in reversed(frames):
        if chain.key == base.key or not _only_logs_and_drops(chain):
            first = rule_positions(ruleset, chain).first_equal[rule.origin]
            what = rule.action.text or rule.action.kind
            text = _("before {rule} ({action})").format(
                rule=f"{chain.name}#{rule.origin.position}", action=what
            )
            return Placement(chain, first, text)
    return None


@dataclass(frozen=True)
class RulePositions:
    """Where the rules of a chain are, to place a fix without searching the chain."""

    rules: tuple[Rule, ...]
    by_uid: dict[int, int]
    first_equal: dict[Origin, int]
    """The first rule of each source rule (its origin, by value)."""
    first_same: dict[int, int]
    """The same by the identity of the origin object (``id``, kept alive by ``rules``)."""


def rule_positions(ruleset: Ruleset, chain: Chain) -> RulePositions:
    """The positions of the rules of ``chain``, built once per ruleset and chain."""
    cache: dict[str, RulePositions] = ruleset.__dict__.setdefault("_rule_positions", {})
    found = cache.get(chain.key)
    if found is None or found.rules is not chain.rules:
        by_uid: dict[int, int] = {}
        first_equal: dict[Origin, int] = {}
        first_same: dict[int, int] = {}
        for index, rule in enumerate(chain.rules):
            by_uid.setdefault(rule.uid, index)
            first_equal.setdefault(rule.origin, index)
            first_same.setdefault(id(rule.origin), index)
        found = cache[chain.key] = RulePositions(chain.rules, by_uid, first_equal, first_same)
    return found


def _chain_key(ruleset: Ruleset, rule: Rule) -> str:
    key = f"{rule.origin.table}/{rule.origin.chain}"
    if key in ruleset.chains:
        return key
    return next(c.key for c in ruleset.chains.values() if any(r.uid == rule.uid for r in c.rules))


def _insert(ruleset: Ruleset, placement: Placement, rule: Rule) -> Ruleset:
    copy = ruleset.with_rule_inserted(placement.chain.key, placement.index, rule)
    # a fix accepts: the base chains that can change a packet's fate stay the same
    # (pipeline.deciding_chains), so the copy keeps what was found for the original
    if rule.action.kind == "accept" and "_deciding" in ruleset.__dict__:
        copy.__dict__["_deciding"] = ruleset.__dict__["_deciding"]
    return copy


def _make_rule(
    ruleset: Ruleset, placement: Placement, items: list[Blocked], leg: str, untracked: bool
) -> tuple[Rule, str, str | None]:
    ctx = items[0].ctx
    family = ctx.family
    if leg == "request":
        src = ranges.normalize(iv for item in items for iv in item.region.src)
        dst = ranges.normalize(iv for item in items for iv in item.region.dst)
        port = items[0].region.dport
        iif, oif, state = ctx.iif, ctx.oif, "new"
        sport: Ivs | None = None
        dport: Ivs | None = port
    else:
        src = ranges.normalize(iv for item in items for iv in item.region.dst)
        dst = ranges.normalize(iv for item in items for iv in item.region.src)
        iif, oif, state = ctx.oif, ctx.iif, "established"
        sport, dport = items[0].region.dport, None
    if untracked:
        state = "untracked"  # conntrack is off for these packets (notrack)
    notes = []
    src_list = ranges.to_cidrs(src, family)
    dst_list = ranges.to_cidrs(dst, family)
    if len(src_list) > MAX_LISTED:
        notes.append(
            _("source left open: {n} networks ({addresses})").format(
                n=len(src_list), addresses=ranges.describe_addresses(src, family)
            )
        )
        src_list = []
    if len(dst_list) > MAX_LISTED:
        notes.append(_("destination left open: {n} networks").format(n=len(dst_list)))
        dst_list = []
    full = ranges.ALL_ADDRESSES[family]
    match = Match(
        family=family,
        src=src if src_list and src != full else None,
        dst=dst if dst_list and dst != full else None,
        protos=frozenset({ctx.proto}),
        sport=sport,
        dport=dport,
        states=frozenset({state}),
        iif=IfaceMatch(frozenset({iif})) if iif else None,
        oif=IfaceMatch(frozenset({oif})) if oif else None,
    )
    if match.src is None:
        src_list = []
    if match.dst is None:
        dst_list = []
    chain = placement.chain
    position = (
        len(chain.rules)
        if placement.index is None
        else chain.rules[placement.index].origin.position
    )
    handle = None if placement.index is None else chain.rules[placement.index].origin.handle
    proto_name = {6: "tcp", 17: "udp"}.get(ctx.proto, str(ctx.proto))
    port_value = (sport or dport or ((0, 0),))[0][0]
    if ruleset.dialect == "nftables":
        command = _nft_command(
            chain,
            placement.index is None,
            position,
            handle,
            family,
            iif,
            oif,
            src_list,
            dst_list,
            proto_name,
            "sport" if sport else "dport",
            port_value,
            state,
        )
    else:
        command = _ipt_command(
            ruleset.dialect,
            chain,
            placement.index is None,
            position,
            iif,
            oif,
            src_list,
            dst_list,
            proto_name,
            "--sport" if sport else "--dport",
            port_value,
            state,
        )
    origin = Origin("(proposed fix)", None, command, chain.table, chain.name, position)
    rule = Rule(-1 - ruleset.rule_count, match, Action("accept", "ACCEPT", command), origin)
    return rule, command, "; ".join(notes) or None


def _ipt_command(
    dialect: str,
    chain: Chain,
    append: bool,
    position: int,
    iif: str | None,
    oif: str | None,
    src: list[str],
    dst: list[str],
    proto: str,
    port_option: str,
    port: int,
    state: str,
) -> str:
    words = [dialect]
    if chain.table != "filter":
        words += ["-t", chain.table]
    words += ["-A", chain.name] if append else ["-I", chain.name, str(position)]
    if src:
        words += ["-s", ",".join(src)]
    if dst:
        words += ["-d", ",".join(dst)]
    if iif:
        words += ["-i", iif]
    if oif:
        words += ["-o", oif]
    words += ["-p", proto, "-m", proto, port_option, str(port)]
    words += ["-m", "conntrack", "--ctstate", state.upper(), "-j", "ACCEPT"]
    return " ".join(words)


def _nft_command(
    chain: Chain,
    append: bool,
    position: int,
    handle: int | None,
    family: int,
    iif: str | None,
    oif: str | None,
    src: list[str],
    dst: list[str],
    proto: str,
    port_field: str,
    port: int,
    state: str,
) -> str:
    where = f"{chain.table} {chain.name}"
    if append:
        head = f"nft add rule {where}"
    elif handle is not None:
        head = f"nft insert rule {where} position {handle}"
    else:
        head = f"nft insert rule {where} index {position - 1}"
    words = [head]
    if iif:
        words.append(f'iifname "{iif}"')
    if oif:
        words.append(f'oifname "{oif}"')
    selector = "ip" if family == 4 else "ip6"
    for field_name, values in (("saddr", src), ("daddr", dst)):
        if values:
            value = values[0] if len(values) == 1 else "{ " + ", ".join(values) + " }"
            words.append(f"{selector} {field_name} {value}")
    words.append(f"{proto} {port_field} {port}")
    words.append(f"ct state {state} accept")
    return " ".join(words)
