"""Reading a ruleset file whatever its dialect: iptables-save, ``nft -j``, nft text.

nftables text is best understood by nft itself: when nft and root are available, the
text is loaded into a throwaway network namespace and read back as JSON (the lines and
texts still come from the file). Otherwise, or when nft refuses the file, the text is
read directly (the common language; what is not read is reported).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Literal

from flowmatrix.audit.ipset import IpsetDb, load_ipsets
from flowmatrix.audit.ir import Problem, Ruleset
from flowmatrix.audit.nft_text import parse_nft_text
from flowmatrix.audit.parse_iptables import parse_iptables
from flowmatrix.audit.parse_nft import build_ruleset, parse_nft_json
from flowmatrix.audit.vendor import VENDORS, read_vendor
from flowmatrix.audit.vendor import detect as detect_vendor
from flowmatrix.errors import UserError
from flowmatrix.i18n import N_, _
from flowmatrix.inputfile import read_input_text

Format = Literal[
    "auto", "iptables", "ip6tables", "nft", "nft-json", "fortigate", "paloalto", "ciscoasa", "srx"
]
NftReader = Literal["auto", "kernel", "text"]


def detect(text: str, file: str | None = None) -> Format:
    stripped = text.lstrip()
    if stripped.startswith("{"):
        return "nft-json"
    vendor = detect_vendor(text)
    if vendor is not None:
        return vendor
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("*", ":", "-A ", "-N ", "-P ")) or line == "COMMIT":
            return "iptables"
        if re.match(r"^(table|flush|define|add|create|insert)\b", line):
            return "nft"
        break
    raise UserError(
        _("cannot tell the ruleset format"),
        file=file,
        hint=_(
            "give iptables-save output, 'nft list ruleset' or 'nft -j list ruleset' "
            "output, or a FortiGate, PAN-OS, Cisco ASA or Juniper SRX configuration "
            "(or say which with --ruleset-format)"
        ),
    )


def load_ruleset(
    path: str | Path,
    *,
    ipset: str | Path | None = None,
    fmt: Format = "auto",
    nft_reader: NftReader = "auto",
    context: str | None = None,
    prefer: str | None = None,
) -> Ruleset:
    """``context``: the VDOM or vsys of a vendor configuration (``prefer``: the name tried
    first when the file holds several, the audited firewall's)."""
    file = str(path)
    text = read_input_text(path, what=N_("ruleset file"), errors="replace")
    if not text.strip():
        raise UserError(_("the ruleset file is empty"), file=file)
    kind = detect(text, file) if fmt == "auto" else fmt
    if kind in VENDORS:
        if ipset is not None:
            raise UserError(_("--ipset applies to iptables rulesets only"), file=file)
        return read_vendor(kind, text, file, context=context, prefer=prefer)
    if context is not None:
        raise UserError(
            _("--context applies to vendor configurations (a VDOM or a vsys)"), file=file
        )
    ipsets: IpsetDb | None = load_ipsets(ipset) if ipset is not None else None
    if kind in ("iptables", "ip6tables"):
        family = None if fmt == "auto" else (6 if kind == "ip6tables" else 4)
        return parse_iptables(text, file, ipsets=ipsets, family=family)
    if ipsets is not None:
        raise UserError(
            _("--ipset applies to iptables rulesets only"),
            file=file,
            hint=_("nftables sets are read from the ruleset itself"),
        )
    if kind == "nft-json":
        return parse_nft_json(text, file)
    return read_nft_text(text, file, nft_reader)


def kernel_reader_available() -> bool:
    return os.geteuid() == 0 and shutil.which("nft") is not None and shutil.which("ip") is not None


def read_nft_text(text: str, file: str, reader: NftReader = "auto") -> Ruleset:
    """nft text, through the kernel when possible, else read directly."""
    objects, text_problems, handles = parse_nft_text(text, file)
    problems = [Problem(file, line, message) for line, message in text_problems]
    use_kernel = reader == "kernel" or (reader == "auto" and kernel_reader_available())
    if use_kernel:
        loaded = _through_kernel(text, file)
        if isinstance(loaded, list):
            lines: dict[str, list[tuple[int | None, str, int | None]]] = {}
            chain_lines: dict[str, int] = {}
            for item in objects:
                if "chain" in item:
                    chain = item["chain"]
                    chain_lines.setdefault(
                        f"{chain['family']} {chain['table']}/{chain['name']}", chain["line"]
                    )
                if "rule" in item:
                    rule = item["rule"]
                    key = f"{rule['family']} {rule['table']}/{rule['chain']}"
                    lines.setdefault(key, []).append(
                        (rule.get("line"), rule.get("text", ""), rule.get("handle"))
                    )
            return build_ruleset(
                loaded,
                file,
                handles_real=handles,
                text_rules=lines,
                chain_lines=chain_lines,
                problems=problems,
                notes=(_("read by nft in a throwaway network namespace"),),
            )
        if reader == "kernel":
            raise UserError(
                _("nft could not load the file: {error}").format(error=loaded), file=file
            )
        notes: tuple[str, ...] = (
            _("nft refused the file ({error}); read as text instead").format(error=loaded),
        )
    elif reader == "text":
        notes = (_("read as text"),)
    else:
        notes = (_("read as text (reading through nft needs root and nft)"),)
    return build_ruleset(objects, file, handles_real=handles, problems=problems, notes=notes)


def _through_kernel(text: str, file: str) -> list[dict[str, object]] | str:
    """The ruleset as nft itself reads it (JSON objects), or nft's complaint."""
    import json

    from flowmatrix.netns import NamespaceSet

    with tempfile.TemporaryDirectory(prefix="fm-nft-") as folder, NamespaceSet() as spaces:
        copy = Path(folder) / "ruleset.nft"
        copy.write_text(text, "utf-8")
        space = spaces.add("audit")
        try:
            loaded = space.run(["nft", "-f", str(copy)], check=False, timeout=60)
        except subprocess.TimeoutExpired:
            return _("nft took too long")
        if loaded.returncode != 0:
            first = (loaded.stderr or loaded.stdout).strip().splitlines()
            message = first[0] if first else f"exit {loaded.returncode}"
            return message.replace(str(copy), Path(file).name)
        listed = space.run(["nft", "-j", "list", "ruleset"], check=False, timeout=60)
        if listed.returncode != 0:
            return listed.stderr.strip() or _("nft -j list ruleset failed")
        document = json.loads(listed.stdout)
        objects = document.get("nftables", [])
        return [o for o in objects if "metainfo" not in o]
