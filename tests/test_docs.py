"""The README and docs/ stay true: their links resolve, their code names what exists and calls it as it takes.

- every relative link of README.md and docs/*.md names a file that exists;
- every ```python block compiles; each name it imports from tfgan_translate exists, and each call of such a
  name (or of a method of it, `ResNetGenerator.from_preset(...)`) binds to the callable's real signature;
- every `tfgan-translate ...` line of a ```bash block parses with the command line's own parser;
- the README is a front door: at most 200 lines;
- every docstring example (`>>>`) of the package runs and shows what it says; those marked `+SKIP` need a
  file, a cluster or a download.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import inspect
import pkgutil
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def blocks(language: str):
    for page in PAGES:
        for match in _BLOCK.finditer(page.read_text()):
            if match[1] == language:
                line = page.read_text()[:match.start()].count("\n") + 1
                yield pytest.param(match[2], id=f"{page.relative_to(ROOT)}:{line}")


def test_the_readme_is_a_front_door():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_resolve(page):
    prose = re.sub(r"`[^`\n]*`", "", _BLOCK.sub("", page.read_text()))  # links outside code
    missing = [target for target in _LINK.findall(prose)
               if not target.startswith(("http://", "https://", "mailto:")) and not (page.parent / target).exists()]
    assert missing == []


def _imported_names(tree) -> dict:
    """{name in the block: the object} for `from tfgan_translate... import NAME` statements."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "tfgan_translate":
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name), f"{node.module} has no {alias.name}"
                names[alias.asname or alias.name] = getattr(module, alias.name)
    return names


def _target(node, names):
    """The tfgan_translate callable a call node calls, or None."""
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in names:
        return getattr(names[node.value.id], node.attr)
    return None


@pytest.mark.parametrize("code", blocks("python"))
def test_python_blocks_name_what_exists_and_call_it_as_it_takes(code):
    tree = ast.parse(code)
    compile(tree, "<block>", "exec")
    names = _imported_names(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        target = _target(node.func, names)
        if target is None or not callable(target):
            continue
        if any(isinstance(arg, ast.Starred) for arg in node.args) or any(kw.arg is None for kw in node.keywords):
            continue
        signature = inspect.signature(target)
        try:
            signature.bind(*([None] * len(node.args)), **{kw.arg: None for kw in node.keywords})
        except TypeError as error:
            raise AssertionError(f"{ast.unparse(node)[:120]}: {error} (signature {signature})") from None


def _command_lines(code: str):
    """The `tfgan-translate ...` commands of a shell block, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", code)
    for line in joined.splitlines():
        line = line.split(" #", 1)[0].strip()
        for part in re.split(r"&&|;", line):
            part = part.strip()
            if part.startswith("tfgan-translate ") and "$" not in part:
                yield shlex.split(part)[1:]


@pytest.mark.parametrize("code", blocks("bash"))
def test_command_lines_parse(code):
    from tfgan_translate.app.cli import build_parser

    parser = build_parser()
    for argv in _command_lines(code):
        try:
            parser.parse_args(argv)
        except SystemExit as exit_:
            raise AssertionError(f"tfgan-translate {shlex.join(argv)} does not parse (exit {exit_.code})") from None


def test_docstring_examples_run(capsys):
    import keras

    import tfgan_translate

    failed = {}
    for info in pkgutil.walk_packages(tfgan_translate.__path__, "tfgan_translate."):
        if info.name.endswith("__main__"):  # importing it runs the command line
            continue
        keras.mixed_precision.set_global_policy("float32")
        result = doctest.testmod(importlib.import_module(info.name), optionflags=doctest.ELLIPSIS)
        if result.failed:
            failed[info.name] = result.failed
    keras.mixed_precision.set_global_policy("float32")
    assert not failed, f"docstring examples that fail, per module: {failed}\n{capsys.readouterr().out}"
