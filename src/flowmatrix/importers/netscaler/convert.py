"""The import as one call: ns.conf -> site text (a fresh draft, or a merged site), checked.

The result is validated as ``flowmatrix plan`` would read it before anything is written:
a draft that would not load is a bug, reported as such, never a file left behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowmatrix.catalog import load_catalog
from flowmatrix.collector import collector_paused
from flowmatrix.documents import SiteRef, header, site_digest
from flowmatrix.errors import UserError
from flowmatrix.i18n import N_, _, ngettext, pgettext
from flowmatrix.importers.netscaler.deployment import Deployment, build_deployment
from flowmatrix.importers.netscaler.items import Inventory
from flowmatrix.importers.netscaler.reader import read_file
from flowmatrix.importers.netscaler.writer import write_site
from flowmatrix.inputfile import read_input_text
from flowmatrix.site import Site
from flowmatrix.sitecheck import check_site
from flowmatrix.yamlio import load_yaml, parse_yaml_text

if TYPE_CHECKING:  # the merge (and ruamel's round trip) is imported for --merge only
    from flowmatrix.importers.netscaler.site_merge import MergeReport


@dataclass(frozen=True)
class Imported:
    inventory: Inventory
    deployment: Deployment
    text: str
    merge: MergeReport | None = None


def check_site_text(text: str, name: str) -> None:
    """Load ``text`` as ``flowmatrix plan`` would; raises the UserError it would raise."""
    document = parse_yaml_text(text, name)
    site = document.validate(Site)
    check_site(document, site, load_catalog(site.catalog))


def import_netscaler(config: str | Path, merge_into: str | Path | None = None) -> Imported:
    with collector_paused():  # hundreds of thousands of small records, no cycles
        inventory = read_file(config)
        deployment = build_deployment(inventory)
    report: MergeReport | None = None
    if merge_into is None:
        text = write_site(deployment)
        name = "<imported site draft>"
    else:
        from flowmatrix.importers.netscaler.site_merge import merge_site

        load_yaml(merge_into)  # unreadable or not YAML: the usual located error
        text, report = merge_site(document_text(merge_into), str(merge_into), deployment)
        name = f"{merge_into} (merged)"
    try:
        check_site_text(text, name)
    except UserError as exc:
        if merge_into is not None:
            raise
        raise UserError(
            _("the draft written from {file} does not load: {error}").format(
                file=config, error=exc
            ),
            hint=_("this is a flowmatrix bug; please report it with the ns.conf lines named"),
        ) from None
    return Imported(inventory, deployment, text, report)


def document_text(path: str | Path) -> str:
    return read_input_text(path, what=N_("document"), encoding="utf-8-sig")


def _draft_site(text: str) -> SiteRef:
    """The site the import wrote (the draft, or the merged site): its name and digest."""
    data = parse_yaml_text(text, "<draft>").data
    name = data.get("name") if isinstance(data, dict) else None
    return SiteRef(str(name or ""), site_digest(text.encode()))


def import_to_dict(imported: Imported) -> dict[str, Any]:
    """The ``flowmatrix import netscaler --format json`` document (docs/import.md)."""
    inv = imported.inventory
    deployment = asdict(imported.deployment)
    deployment["xenmobile_publishing"] = imported.deployment.xenmobile_publishing
    for host in deployment["hosts"]:
        host["ports"] = sorted(host["ports"])
    deployment["features"] = {
        k: {"value": v, "origin": o} for k, (v, o) in deployment["features"].items()
    }
    deployment["choices"] = {
        k: {"port": p, "origin": o} for k, (p, o) in deployment["choices"].items()
    }
    deployment["notes"] = [{"text": t, "origin": o} for t, o in deployment["notes"]]
    return {
        **header("import", _draft_site(imported.text)),
        "file": inv.file,
        "lines": inv.lines,
        "commands": inv.commands,
        "taken": dict(sorted(inv.taken.items())),
        "skipped": dict(sorted(inv.skipped.items())),
        "problems": [asdict(p) for p in inv.problems],
        "deployment": deployment,
    }


def summary_lines(imported: Imported) -> Iterable[str]:
    """What was taken, skipped and why: the lines printed on stderr."""
    inv, dep = imported.inventory, imported.deployment
    roles: dict[str, int] = {}
    for host in dep.hosts:
        roles[host.role] = roles.get(host.role, 0) + 1
    ns = f"NSIP {dep.nsip.address}, {len(dep.vips)} VIP, {len(dep.snips)} SNIP"
    if dep.aaa is not None:
        ns += f", AAA {dep.aaa.address}"
    yield (
        _("read {file}: {lines} lines, {commands} commands, {taken} taken; NetScaler {name} ({ns})")
        .format(
            file=inv.file,
            lines=inv.lines,
            commands=inv.commands,
            taken=sum(inv.taken.values()),
            name=dep.hostname or "",
            ns=ns,
        )
        .replace("  ", " ")
    )
    yield _("hosts: {hosts}").format(
        hosts=", ".join(f"{n} {r}" for r, n in sorted(roles.items())) or _("none")
    )
    yield _("XenMobile publishing: {publishing}").format(publishing=dep.xenmobile_publishing) + (
        f" ({', '.join(p.vserver for p in dep.publications)})" if dep.publications else ""
    )
    if dep.features:
        on, off = pgettext("feature", "on"), pgettext("feature", "off")
        yield _("features: {features}").format(
            features=", ".join(
                f"{k} {on if v else off}" for k, (v, _o) in sorted(dep.features.items())
            )
        )
    skipped = sum(inv.skipped.values())
    if skipped:
        top = ", ".join(f"{k} ({n})" for k, n in inv.skipped.most_common(8))
        rest = len(inv.skipped) - 8
        more = (
            ""
            if rest <= 0
            else ngettext(", and {n} more kind", ", and {n} more kinds", rest).format(n=rest)
        )
        yield _("skipped {n} command(s) the flow matrix does not need: {top}{more}").format(
            n=skipped, top=top, more=more
        )
    for problem in inv.problems:
        yield _("warning: {file}:{line}:{col}: {message} (line skipped)").format(
            file=inv.file, line=problem.line, col=problem.col, message=problem.message
        )
    if imported.merge is not None:
        merge = imported.merge
        if merge.added:
            yield _("added: {items}").format(items=", ".join(merge.added))
        if merge.kept:
            yield _("kept: {items}").format(items=", ".join(merge.kept))
        for conflict in merge.conflicts:
            yield _("warning: {message}").format(message=conflict)
        for address in merge.outside:
            yield _(
                "warning: {address} is in no zone of the site: it counts as the Internet "
                "(add its network to a zone)"
            ).format(address=address)
