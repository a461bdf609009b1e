"""Command-line values converted directly (cli/param_coercion.py) are what Typer's own
coercion makes of them, on every parameter of every command; what it leaves to Typer is
what Typer refuses or changes (bounds, unknown choices, unreadable files)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer import _click
from typer._click.exceptions import BadParameter

from flowmatrix.cli import _load_commands
from flowmatrix.cli.app import app
from flowmatrix.cli.param_coercion import _MISS, DirectRuntimeParam, converter, runtime_param


def _parameters() -> Iterator[tuple[str, Any, Any]]:
    _load_commands([])
    root = typer.main.get_command(app)
    pending: list[tuple[str, Any]] = [("flowmatrix", root)]
    while pending:
        name, command = pending.pop()
        for param in command.params:
            if hasattr(param, "type_descriptor"):
                yield f"{name} {param.name}", command, param
        pending.extend((f"{name} {n}", c) for n, c in getattr(command, "commands", {}).items())


PARAMETERS = sorted(_parameters(), key=lambda item: item[0])


def _samples(annotation: Any, folder: Path) -> list[Any]:
    text = str(annotation)
    file = folder / "site.yaml"
    file.write_text("x", "utf-8")
    closed = folder / "closed.yaml"
    closed.write_text("x", "utf-8")
    closed.chmod(0)
    paths = [str(file), str(folder), str(folder / "missing.yaml"), str(closed), "-", ""]
    if annotation is str:
        return ["abc", "", "a b", "--x", "é"]
    if annotation is bool:
        return [True, False, "true"]
    if annotation is int:
        return ["0", "5", "-3", "+7", "999999", "10", "11", "abc", "1.5", " 4", 3, 0, True]
    if annotation is float:
        return ["0.5", "1", ".5", "1.", "0.01", "0.05", "300", "1e3", "abc", "-1", 2, 0.25]
    if annotation is Path:
        return paths
    if isinstance(annotation, type) and issubclass(annotation, __import__("enum").Enum):
        return [str(m.value) for m in annotation] + ["zzz", "", *list(annotation)]
    if text.startswith("list["):
        inner = _samples(annotation.__args__[0], folder)
        return [tuple(inner[:2]), tuple(inner[-2:]), (), tuple(inner)]
    return []


def _typer_value(param: Any, command: Any, value: Any) -> Any:
    from typer._coercion import build_runtime_param

    ctx = _click.Context(command)
    try:
        return build_runtime_param(param.type_descriptor)._coerce_value(value, param, ctx)
    except BadParameter:
        return _MISS


@pytest.mark.parametrize(("name", "command", "param"), PARAMETERS, ids=[p[0] for p in PARAMETERS])
def test_a_direct_value_is_the_one_typer_makes(
    name: str, command: Any, param: Any, tmp_path: Path
) -> None:
    descriptor = param.type_descriptor
    convert = converter(descriptor.annotation, descriptor.parameter_info)
    if convert is None:
        assert not isinstance(runtime_param(descriptor), DirectRuntimeParam)
        return
    samples = _samples(descriptor.annotation, tmp_path)
    assert samples, f"{name}: no sample values for {descriptor.annotation}"
    for value in samples:
        direct = convert(value)
        if direct is _MISS:
            continue  # Typer's coercion runs, by construction
        expected = _typer_value(param, command, value)
        assert expected is not _MISS, f"{name}: {value!r} is refused by Typer, taken directly"
        assert direct == expected and type(direct) is type(expected), (name, value)


def test_most_parameters_are_converted_directly() -> None:
    direct = [
        name
        for name, _, param in PARAMETERS
        if converter(param.type_descriptor.annotation, param.type_descriptor.parameter_info)
    ]
    assert len(direct) >= 0.9 * len(PARAMETERS)


def test_what_typer_refuses_is_left_to_it(tmp_path: Path) -> None:
    # a bound, a bad number, an unknown choice, a path that must exist: all Typer's
    by_name = {name: param for name, _, param in PARAMETERS}
    timeout = by_name["flowmatrix verify timeout"].type_descriptor
    convert = converter(timeout.annotation, timeout.parameter_info)
    assert convert is not None
    assert convert("0.01") is _MISS and convert("abc") is _MISS and convert("1") == 1.0
    fmt = by_name["flowmatrix verify fmt"].type_descriptor
    choose = converter(fmt.annotation, fmt.parameter_info)
    assert choose is not None and choose("no-such-format") is _MISS


def test_a_verify_run_builds_no_validator(tmp_path: Path) -> None:
    """The point of it: a command whose values are plain never imports pydantic."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from flowmatrix.cli import main\n"
        "try:\n"
        "    main(['plan', '--lang', 'en', '-f', 'json', '-o', sys.argv[1]])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print('pydantic' in sys.modules, 'typer._adapters' in sys.modules)\n"
    )
    out = tmp_path / "plan.json"
    env = dict(os.environ, FLOWMATRIX_CACHE_DIR=str(tmp_path / "cache"))
    first = subprocess.run([sys.executable, "-c", code, str(out)], env=env, check=False)
    assert first.returncode == 0  # fills the plan cache (reads the site: pydantic)
    result = subprocess.run(
        [sys.executable, "-c", code, str(out)], env=env, capture_output=True, check=False
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().split()[-2:] == ["False", "False"]


def test_another_typer_keeps_its_own_coercion_and_english_help(tmp_path: Path) -> None:
    """Without the Typer internals they rebind (another Typer version), commands still
    run: Typer's own coercion, English help, never an ImportError."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import typer._coercion, typer._click.formatting\n"
        "del typer._coercion.RuntimeParam  # as if this Typer had other internals\n"
        "del typer._click.formatting.HelpFormatter\n"
        "from flowmatrix.cli import main\n"
        "for args in (['plan', '--timeout'], ['plan', '-f', 'json', '-o', sys.argv[1]],\n"
        "             ['plan', '--help', '--lang', 'fr']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as exc:\n"
        "        print('exit', exc.code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "plan.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout.split("\n")[:1] == ["exit 2"]  # plan has no --timeout: Typer says so
    assert (tmp_path / "plan.json").is_file()
    assert "Usage: flowmatrix plan" in result.stdout  # the help, in English
