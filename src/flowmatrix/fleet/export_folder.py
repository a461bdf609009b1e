"""``flowmatrix fleet export``: everything Ansible needs, in one folder.

::

    DIR/inventory.yml                 source hosts grouped by role
    DIR/playbook.yml                  ships the probe and the plan, runs, fetches
    DIR/files/flowmatrix-probe.pyz    the probe (standard library + probe engine)
    DIR/files/plans/<host>.json       each host's own flows
    DIR/results/                      where the playbook puts <host>.json

Every file is written atomically and only when its bytes change, so a second export of
the same plan leaves the folder untouched (and Ansible's ``copy`` sends nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flowmatrix.atomic import write_atomic
from flowmatrix.errors import UserError
from flowmatrix.fleet import planfile
from flowmatrix.fleet.bundle import Bundle, build_bundle
from flowmatrix.fleet.inventory import render_inventory
from flowmatrix.fleet.playbook import PLANS_DIR, PROBE_NAME, RESULTS_DIR, render_playbook
from flowmatrix.fleet.sources import SourceHost, source_hosts
from flowmatrix.i18n import _, ngettext, pgettext
from flowmatrix.model import Plan

INVENTORY_NAME = "inventory.yml"
PLAYBOOK_NAME = "playbook.yml"


@dataclass(frozen=True)
class FleetExport:
    """What an export wrote."""

    folder: Path
    hosts: tuple[SourceHost, ...]
    """Source hosts in the inventory."""
    left_out: tuple[SourceHost, ...]
    """Source hosts Ansible cannot reach (networks without an FQDN)."""
    bundle: Bundle
    written: tuple[Path, ...]
    """Files whose content changed (the others were already up to date)."""

    @property
    def inventory(self) -> Path:
        return self.folder / INVENTORY_NAME

    @property
    def playbook(self) -> Path:
        return self.folder / PLAYBOOK_NAME

    @property
    def results(self) -> Path:
        return self.folder / RESULTS_DIR

    @property
    def probe(self) -> Path:
        return self.folder / "files" / PROBE_NAME

    def describe(self) -> str:
        """What was written, what was left out, and how to run it."""
        from flowmatrix.fleet.bundle import REMOTE_MIN_PYTHON
        from flowmatrix.fleet.inventory import group_name

        groups = sorted({group_name(role) for h in self.hosts for role in h.roles})
        flows = sum(len(h.flows) for h in self.hosts)
        python = ".".join(map(str, REMOTE_MIN_PYTHON))
        changed = len(self.written)
        hosts = len(self.hosts)
        inventory = _("{hosts} in {groups}: {names}").format(
            hosts=ngettext("{n} source host(s)", "{n} source host(s)", hosts).format(n=hosts),
            groups=ngettext("{n} group(s)", "{n} group(s)", len(groups)).format(n=len(groups)),
            names=", ".join(groups),
        )
        probe = _("{size:.1f} KiB, {modules} modules, needs Python {python}+ on the hosts").format(
            size=self.bundle.size / 1024, modules=len(self.bundle.modules), python=python
        )
        plans = _("{plans}, {flows} to probe in all").format(
            plans=ngettext("{n} plan(s)", "{n} plan(s)", hosts).format(n=hosts),
            flows=ngettext("{n} flow(s)", "{n} flow(s)", flows).format(n=flows),
        )
        lines = [
            ngettext(
                "{folder}: {n} file(s) written, the others already up to date",
                "{folder}: {n} file(s) written, the others already up to date",
                changed,
            ).format(folder=self.folder, n=changed),
            f"  {INVENTORY_NAME:<28} {inventory}",
            f"  {PLAYBOOK_NAME:<28} " + _("ships the probe, runs it, fetches the results"),
            f"  {'files/' + PROBE_NAME:<28} {probe}",
            f"  {'files/' + PLANS_DIR + '/':<28} {plans}",
        ]
        for host in self.left_out:
            lines.append(
                _(
                    "left out {host}: {why} (run 'flowmatrix verify --from {host}' on it and merge)"
                ).format(host=host.name, why=host.why_not)
            )
        lines.append(
            _("run: ansible-playbook -i {inventory} -i YOUR-INVENTORY {playbook}").format(
                inventory=self.inventory, playbook=self.playbook
            )
        )
        return "\n".join(lines) + "\n"


def _make_folder(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise UserError(
            _("{path} exists and is not a folder").format(path=path),
            hint=_("give a folder for -o"),
        )
    try:
        path.mkdir(parents=False, exist_ok=True)
    except FileNotFoundError:
        raise UserError(
            _("cannot create {path}: its parent folder does not exist").format(path=path),
            hint=_("create the parent folder first"),
        ) from None
    except OSError as exc:
        raise UserError(
            _("cannot create {path}: {error}").format(path=path, error=exc.strerror)
        ) from None


def _write_if_changed(path: Path, content: bytes, written: list[Path]) -> None:
    try:
        if path.read_bytes() == content:
            return
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise UserError(
            _("cannot read {path}: {error}").format(path=path, error=exc.strerror)
        ) from None
    write_atomic(path, content)
    written.append(path)


def _prune_plans(folder: Path, keep: set[str]) -> None:
    """Remove plan files of hosts that are no longer sources (only ``*.json`` we wrote)."""
    for stale in folder.glob("*.json"):
        if stale.name not in keep:
            stale.unlink()


def export_fleet(plan: Plan, folder: Path, *, version: str | None = None) -> FleetExport:
    """Write the inventory, playbook, probe and per-host plans of ``plan`` into ``folder``."""
    from flowmatrix import __version__

    hosts = source_hosts(plan)
    reachable = tuple(h for h in hosts if h.reachable)
    left_out = tuple(h for h in hosts if not h.reachable)
    if not reachable:
        detail = pgettext("list separator", "; ").join(
            _("{host}: {why}").format(host=h.name, why=h.why_not) for h in left_out
        ) or _("no flow has a source host")
        raise UserError(
            _("no source host for Ansible to run on ({detail})").format(detail=detail),
            hint=_("give source hosts a single address or an fqdn in the site file"),
        )
    bundle = build_bundle()
    written: list[Path] = []
    _make_folder(folder)
    for sub in ("files", f"files/{PLANS_DIR}", RESULTS_DIR):
        _make_folder(folder / sub)
    _write_if_changed(
        folder / INVENTORY_NAME, render_inventory(hosts, plan.site.name).encode(), written
    )
    _write_if_changed(folder / PLAYBOOK_NAME, render_playbook().encode(), written)
    _write_if_changed(folder / "files" / PROBE_NAME, bundle.data, written)
    plans = folder / "files" / PLANS_DIR
    for host in reachable:
        document = planfile.plan_file(
            site=plan.site_ref(),
            catalog=plan.catalog.catalog.id,
            lang=plan.lang,
            host=host.name,
            flows=host.flows,
            version=version or __version__,
        )
        _write_if_changed(plans / f"{host.name}.json", planfile.dump(document).encode(), written)
    _prune_plans(plans, {f"{h.name}.json" for h in reachable})
    return FleetExport(folder, reachable, left_out, bundle, tuple(written))
