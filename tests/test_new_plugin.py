"""`neurogate new-plugin`: the scaffolded packages install, register and pass their own tests.

The slow test makes one plugin of each kind, pip-installs them (editable, offline, no build
isolation) into a throwaway virtual environment that sees this interpreter's packages through a
``.pth`` file (so the environment running the tests is left untouched), checks that
``neurogate plugins`` run from there lists them, and runs their generated tests in a
subprocess. The generated comparisons run on ``pysim`` only (``--ng-backends=pysim``): the
co-simulation backends are tested by their own suite, and compiling each sweep point there
would take minutes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import time
import venv
from pathlib import Path

import pytest

from neurogate.cli import main
from neurogate.scaffold import KINDS, new_plugin

# Variables that would make a subprocess see something other than what the test set up.
_LEAKY = ("PYTHONPATH", "VIRTUAL_ENV", "NEUROGATE_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_ADDOPTS",
          "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_PLUGINS")  # fmt: skip


def run(*cmd, cwd=None, timeout=600) -> str:
    env = {k: v for k, v in os.environ.items() if k not in _LEAKY}
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)  # fmt: skip
    assert proc.returncode == 0, f"{cmd} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


# -- the command ----------------------------------------------------------------------------------
def test_generated_files(tmp_path, capsys):
    root = tmp_path / "proj"
    assert main(["new-plugin", "spiky", "--kind", "neuron", "--dir", str(root)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"wrote {root}/ (neuron plugin 'spiky'):"
    assert "  src/neurogate_spiky/spiky.py" in out
    pyproject = (root / "pyproject.toml").read_text()
    assert '[project.entry-points."neurogate.plugins"]\nspiky = "neurogate_spiky.spiky"' in (
        pyproject
    )
    assert 'name = "neurogate-spiky"' in pyproject
    assert (root / "tests" / "test_spiky.py").read_text() == (
        "from neurogate.testing import component_tests\n"
        "\n"
        'test_spiky = component_tests("spiky", sweep={"width": [4, 16], "threshold": [1, 7]})\n'
    )
    module = (root / "src" / "neurogate_spiky" / "spiky.py").read_text()
    assert "class Spiky(ng.NeuronKernel):" in module
    assert '    name = "spiky"' in module
    assert "{{" not in module
    assert "`spiky`" in (root / "README.md").read_text()


def test_empty_directory_is_used(tmp_path):
    assert new_plugin("my_enc", "encoder", tmp_path) == tmp_path
    assert (tmp_path / "src" / "neurogate_my_enc" / "my_enc.py").exists()


def test_default_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert new_plugin("delay_two", "decorrelator") == Path("neurogate-delay-two")
    assert (tmp_path / "neurogate-delay-two" / "pyproject.toml").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["My-Neuron", "--kind", "neuron"],
            "plugin name must be a lowercase Python identifier (a-z, 0-9, _; starting with a "
            "letter; at most 30 characters), not 'My-Neuron'",
        ),
        (
            ["class", "--kind", "neuron"],
            "plugin name must be a lowercase Python identifier (a-z, 0-9, _; starting with a "
            "letter; at most 30 characters), not 'class'",
        ),
        (
            ["lif", "--kind", "neuron"],
            "plugin name 'lif' is already registered by neurogate (built-in); choose another "
            "(names are unique among installed plugins)",
        ),
    ],
)
def test_bad_names(argv, message, tmp_path, capsys):
    assert main(["new-plugin", *argv, "--dir", str(tmp_path / "x")]) == 2
    assert capsys.readouterr().err == f"neurogate: error: {message}\n"
    assert not (tmp_path / "x").exists()


def test_refuses_a_non_empty_directory(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["new-plugin", "fine_name", "--kind", "router", "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == f"neurogate: error: {tmp_path} already exists and is not empty; not " + (
        "overwriting it\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_bad_kind(capsys):
    with pytest.raises(SystemExit):
        main(["new-plugin", "x", "--kind", "synapse"])
    assert "argument --kind: invalid choice: 'synapse'" in capsys.readouterr().err
    with pytest.raises(ValueError, match=r"^plugin kind must be one of neuron, encoder, "):
        new_plugin("x", "synapse")


# -- install and run ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def plugin_venv(tmp_path_factory) -> Path:
    """A throwaway venv whose ``site-packages`` adds this interpreter's through a ``.pth``."""
    env_dir = tmp_path_factory.mktemp("plugin-venv")
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = run(py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    parents = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    lines = "".join(f"import site; site.addsitedir({p!r})\n" for p in parents)
    (Path(purelib) / "_neurogate_parent_env.pth").write_text(lines)
    return py


@pytest.mark.slow
def test_scaffolded_plugins_install_register_and_pass_their_tests(plugin_venv, tmp_path):
    start = time.perf_counter()
    # One name of the longest length allowed: the generated lines still fit 100 columns.
    names = {kind: f"scaffold_{kind}" for kind in KINDS}
    names["neuron"] = "scaffold_neuron_" + "n" * 14
    assert len(names["neuron"]) == 30
    roots = {kind: new_plugin(names[kind], kind, tmp_path / kind) for kind in KINDS}
    # The generated code passes the same linter as neurogate (its own pyproject's settings).
    run(sys.executable, "-m", "ruff", "check", "--no-cache", *roots.values(), cwd=tmp_path)
    run(sys.executable, "-m", "ruff", "format", "--check", "--no-cache", *roots.values(),
        cwd=tmp_path)  # fmt: skip
    editable = [arg for root in roots.values() for arg in ("-e", root)]
    run(plugin_venv, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
        "--no-index", *editable, cwd=tmp_path)  # fmt: skip
    listing = json.loads(run(plugin_venv, "-m", "neurogate", "plugins", "--json", cwd=tmp_path))
    for kind, name in names.items():
        entry = listing["components"][name]
        assert entry["kind"] == kind
        assert entry["origin"] == "neurogate-" + name.replace("_", "-") + " 0.1.0"
    assert listing["unavailable"] == []
    table = run(plugin_venv, "-m", "neurogate", "plugins", cwd=tmp_path)
    assert re.search(r"^  scaffold_router +router +<i:stream8 >o:stream8 +neurogate-scaffold-"
                     r"router 0\.1\.0$", table, re.M)  # fmt: skip
    # ... and not in the environment that runs this test.
    assert "scaffold_router" not in run(sys.executable, "-m", "neurogate", "plugins")
    for kind, root in roots.items():
        took = time.perf_counter()
        out = run(plugin_venv, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                  "--ng-backends=pysim", cwd=root)  # fmt: skip
        summary = out.strip().splitlines()[-1]
        assert re.fullmatch(r"\d+ passed(, \d+ deselected)? in [\d.]+s", summary), (kind, out)
        print(f"{kind}: {summary} ({time.perf_counter() - took:.1f} s with start-up)")
    print(f"4 plugins scaffolded, installed and tested in {time.perf_counter() - start:.1f} s")
