"""``flowmatrix site upgrade``: a site file rewritten in the newest format."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flowmatrix.cli import options as opt
from flowmatrix.cli.common import command_group, emit, note
from flowmatrix.i18n import _, ngettext

group = command_group("site", "Work on a site file itself (format upgrades).")


@group.command("upgrade")
def upgrade_command(
    site_file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="The site file to upgrade.", show_default=False),
    ],
    output: opt.OutputOpt = None,
    lang: opt.LangOpt = opt.Language.en,
) -> None:
    """Write FILE in the newest site format (version 2), comments and layout kept.

    Each host's 'role: X' becomes 'roles: [X]'. The file must load as it is; the result
    is read back before it is written. '-o FILE' with the same path rewrites it in place.
    """
    from flowmatrix.api import load_site, site_from_text
    from flowmatrix.site import SITE_VERSION
    from flowmatrix.siteupgrade import upgrade_text

    name = str(site_file)
    loaded = load_site(site_file)
    upgraded = upgrade_text(loaded.document.text, name)
    site_from_text(upgraded.text, name)
    emit(upgraded.text, output)
    if upgraded.changed:
        hosts = ngettext(
            "{n} host(s) now list their roles ('roles: [...]')",
            "{n} host(s) now list their roles ('roles: [...]')",
            upgraded.hosts,
        ).format(n=upgraded.hosts)
        note(
            _("{file}: version {old} -> {new}; {hosts}").format(
                file=name, old=upgraded.old_version, new=SITE_VERSION, hosts=hosts
            )
        )
    else:
        note(
            _("{file}: already version {version}, nothing to change").format(
                file=name, version=SITE_VERSION
            )
        )
