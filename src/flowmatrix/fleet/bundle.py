"""The remote probe as one zipapp: the probe engine, the plan reader, and nothing else.

The source hosts get no pip, no internet and maybe another Python than ours, so the
archive carries only pure-Python modules of flowmatrix that the remote entry point
needs, found by following its imports. A third-party import on that path (pydantic's
compiled core, for one) would not run there: the build refuses it and names the chain.

The archive is a PEP 441 zipapp (a shebang, then a zip with ``__main__.py``), written
with sorted entries and fixed timestamps so that the same code gives the same bytes:
Ansible's ``copy`` then sees no change and sends nothing.
"""

from __future__ import annotations

import ast
import importlib.util
import io
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flowmatrix.errors import UserError
from flowmatrix.i18n import _

ENTRY_MODULE = "flowmatrix.fleet.remote"
PACKAGE = "flowmatrix"
#: The oldest Python the bundled code runs on (``asyncio.timeout``, ``X | Y`` at
#: run time): checked by the archive's ``__main__`` before anything else is imported.
REMOTE_MIN_PYTHON = (3, 11)
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
#: Third-party packages the probe engine uses when the host's Python has them, and what
#: the remote probe does without them. Not bundled (compiled code, platform-specific).
OPTIONAL_ON_REMOTE = {
    "cryptography": "TLS checks judge certificates with the standard library (probe/tls.py)",
    "dns": "only for a chosen DNS server (verify --resolver), not offered by the remote probe",
}

#: Python 2 and old Python 3 must be able to parse this, to print the message.
MAIN_PY = """\
import sys
if sys.version_info < {minimum}:
    sys.stderr.write("flowmatrix probe: needs Python {shown} or later, this is %s\\n"
                     % sys.version.split()[0])
    sys.exit(2)
from {entry} import main
sys.exit(main())
"""


@dataclass(frozen=True)
class Bundle:
    """A built probe archive."""

    data: bytes
    modules: tuple[str, ...]
    """The flowmatrix modules inside, sorted."""

    @property
    def size(self) -> int:
        return len(self.data)


def _source_of(module: str) -> tuple[Path | None, bool]:
    """(source file or None for a namespace package, is_package) of a flowmatrix module."""
    spec = importlib.util.find_spec(module)
    if spec is None:
        raise UserError(
            _("cannot build the remote probe: module {module} not found").format(module=module)
        )
    is_package = spec.submodule_search_locations is not None
    origin = spec.origin if spec.has_location else None
    if origin is not None and not origin.endswith(".py"):
        raise UserError(
            _("cannot build the remote probe: {module} is not pure Python ({origin})").format(
                module=module, origin=origin
            )
        )
    return (Path(origin) if origin else None), is_package


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ModuleNotFoundError, ValueError):
        return False  # ``from module import name``: a name, not a submodule


def _is_type_checking_guard(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> list[str]:
    """Modules imported at run time (``if TYPE_CHECKING:`` blocks left out)."""
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking_guard(node):
            for branch in node.orelse:
                visit(branch)
            return
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".")
                anchor = parts if is_package else parts[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            found.append(base)
            found.extend(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def collect_modules(entry: str = ENTRY_MODULE) -> dict[str, tuple[Path | None, bool]]:
    """Every flowmatrix module ``entry`` needs, with its source; refuses third-party imports."""
    stdlib = sys.stdlib_module_names
    found: dict[str, tuple[Path | None, bool]] = {}
    chain: dict[str, str] = {entry: entry}
    todo = [entry]
    while todo:
        module = todo.pop()
        if module in found:
            continue
        path, is_package = _source_of(module)
        found[module] = (path, is_package)
        for parent in _parents(module):
            if parent not in found:
                chain.setdefault(parent, module)
                todo.append(parent)
        if path is None:
            continue
        tree = ast.parse(path.read_text("utf-8"), str(path))
        for name in _imports(tree, module, is_package):
            top = name.split(".")[0]
            if top == PACKAGE:
                if name in found or not _is_module(name):
                    continue  # ``from package import name`` where name is not a module
                chain.setdefault(name, module)
                todo.append(name)
            elif top not in stdlib and top not in OPTIONAL_ON_REMOTE:
                raise UserError(
                    _(
                        "cannot build the remote probe: {module} imports {name}, which is not "
                        "in the standard library (needed by: {chain})"
                    ).format(module=module, name=name, chain=_chain(chain, module)),
                    hint=_(
                        "the remote probe must need only the standard library; "
                        "move that import out of the probe's path"
                    ),
                )
    return found


def _chain(chain: dict[str, str], module: str) -> str:
    path = [module]
    while chain.get(path[-1], path[-1]) != path[-1]:
        path.append(chain[path[-1]])
    return " <- ".join(path)


def _arcname(module: str, is_package: bool) -> str:
    base = module.replace(".", "/")
    return f"{base}/__init__.py" if is_package else f"{base}.py"


def _entry(name: str, data: bytes) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info, data


def build_bundle(entry: str = ENTRY_MODULE, interpreter: str = "/usr/bin/env python3") -> Bundle:
    """Build the probe zipapp in memory."""
    modules = collect_modules(entry)
    files: dict[str, bytes] = {}
    for module, (path, is_package) in modules.items():
        files[_arcname(module, is_package)] = path.read_bytes() if path is not None else b""
    minimum = ".".join(map(str, REMOTE_MIN_PYTHON))
    files["__main__.py"] = MAIN_PY.format(
        minimum=REMOTE_MIN_PYTHON, shown=minimum, entry=entry
    ).encode()
    buffer = io.BytesIO()
    buffer.write(f"#!{interpreter}\n".encode())
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info, data = _entry(name, files[name])
            archive.writestr(info, data, compresslevel=9)
    return Bundle(buffer.getvalue(), tuple(sorted(modules)))
