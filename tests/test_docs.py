"""The documentation builds without warnings, its examples run, and the CLI page is honest.

The Sphinx doctest builder runs every example in docs/ (``.. doctest::`` blocks); the HTML build
renders the API reference from the docstrings with warnings as errors. Every ``$ neurogate ...``
command line shown in docs/cli.rst is run and must succeed (or, when the page shows a
``neurogate: error:`` line after it, fail with exactly that message); every option of every
subcommand must be documented there, and every built-in component and hook in docs/api.rst.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import neurogate as ng
from neurogate.cli import build_parser
from neurogate.core import hookspecs
from neurogate.core.plugins import get_plugin_manager

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CLI_PAGE = DOCS / "cli.rst"


def _sphinx(builder: str, out: Path) -> None:
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", builder, "docs", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (
        f"{' '.join(cmd)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    )


@pytest.mark.parametrize("builder", ["doctest", "html"])
def test_sphinx_build(builder, tmp_path):
    _sphinx(builder, tmp_path / builder)


# -- docs/cli.rst ---------------------------------------------------------------------------------
def _shown_commands() -> list[tuple[dict[str, str], list[str], str | None]]:
    """Return ``(env, argv, shown error line or None)`` for each ``$ neurogate`` line."""
    lines = CLI_PAGE.read_text().splitlines()
    found = []
    for i, line in enumerate(lines):
        text = line.strip()
        if not text.startswith("$ "):
            continue
        words = shlex.split(text[2:])
        env = {}
        while words and "=" in words[0] and not words[0].startswith("-"):
            key, _, value = words.pop(0).partition("=")
            env[key] = value
        if not words or words[0] != "neurogate":
            continue
        assert not set(words) & {"|", ">", "<", "&&", ";"}, f"keep shell syntax out: {text}"
        following = lines[i + 1].strip() if i + 1 < len(lines) else ""
        error = following if following.startswith("neurogate: error:") else None
        found.append((env, words[1:], error))
    return found


COMMANDS = _shown_commands()


def test_cli_page_shows_commands():
    assert len(COMMANDS) >= 10
    shown = {argv[0] for _, argv, _ in COMMANDS if argv and not argv[0].startswith("-")}
    assert shown >= {"plugins", "info", "rtl", "verify", "demo"}


@pytest.mark.parametrize(
    ("env", "argv", "error"),
    COMMANDS,
    ids=[" ".join([*(f"{k}={v}" for k, v in e.items()), *a]) for e, a, _ in COMMANDS],
)
def test_cli_page_command_runs(env, argv, error, tmp_path):
    examples = ROOT / "examples"
    for design in [*examples.glob("*.toml"), *examples.glob("*/*.nir")]:  # the page runs them
        shutil.copy(design, tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "neurogate", *argv],
        cwd=tmp_path,  # `rtl -o FILE` writes here, not into the repository
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = f"neurogate {' '.join(argv)}\n{proc.stdout}\n{proc.stderr}"
    if error is None:
        assert proc.returncode == 0, output
    else:
        assert proc.returncode == 2, output
        assert proc.stderr.strip() == error, output


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("neurogate has no subcommands")


def test_cli_page_documents_every_option():
    page = CLI_PAGE.read_text()
    for name, sub in _subcommands().items():
        assert f"``neurogate {name}``" in page, f"no section for `neurogate {name}`"
        section = page.split(f"``neurogate {name}``", 1)[1].split("\n``neurogate ", 1)[0]
        for action in sub._actions:
            for option in action.option_strings:
                if option in ("-h", "--help"):
                    continue
                assert option in section, f"`neurogate {name} {option}` is not documented"


# -- docs/api.rst ---------------------------------------------------------------------------------
def test_api_page_documents_every_builtin_component_and_hook():
    page = (DOCS / "api.rst").read_text()
    pm = get_plugin_manager(autoload=False)
    for name, reg in pm.components().items():
        module = reg.obj.__module__
        assert f".. automodule:: {module}\n" in page, f"component {name!r}: add {module} to api.rst"
    hooks = [n for n in dir(hookspecs) if n.startswith("neurogate_")]
    assert hooks
    for hook in hooks:
        assert f"neurogate.core.hookspecs.{hook}\n" in page, f"hook {hook}: add it to api.rst"


def test_readme_and_index_name_every_builtin_component():
    pm = ng.get_plugin_manager(autoload=False)
    readme = (ROOT / "README.md").read_text()
    index = (ROOT / "docs" / "index.rst").read_text()
    for name in pm.components():
        assert f"`{name}`" in readme, f"README.md does not list {name}"
        assert f"``{name}``" in index, f"docs/index.rst does not list {name}"
