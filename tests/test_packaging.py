"""Packaging: `python -m build` makes a wheel and an sdist that install and run on their own."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

from neurogate.scaffold import KINDS

ROOT = Path(__file__).resolve().parents[1]


def sh(*cmd, **kwargs):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{cmd} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    sh(sys.executable, "-m", "build", "--outdir", out, ROOT)
    wheels, sdists = list(out.glob("*.whl")), list(out.glob("*.tar.gz"))
    assert len(wheels) == 1
    assert len(sdists) == 1
    return wheels[0], sdists[0]


@pytest.mark.slow
def test_wheel_and_sdist_contents(dists):
    wheel, sdist = dists
    names = zipfile.ZipFile(wheel).namelist()
    for required in (
        "neurogate/__init__.py",
        "neurogate/__main__.py",
        "neurogate/py.typed",
        "neurogate/core/plugins.py",
        "neurogate/plugins/neurons/lif.py",
        "neurogate/plugins/encoders/lfsr.py",
        "neurogate/sim/backends.py",
        "neurogate/testing.py",
        "_neurogate_pytestplugin.py",  # the pytest11 entry point
        "neurogate/scaffold/__init__.py",
        *(f"neurogate/scaffold/templates/{k}.py.tmpl" for k in KINDS),  # new-plugin templates
        "neurogate/scaffold/templates/pyproject.toml.tmpl",
    ):
        assert required in names, required
    assert not any(n.startswith("tests/") for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "neurogate = neurogate.cli:main" in text
    assert "[pytest11]\nneurogate = _neurogate_pytestplugin" in text
    with tarfile.open(sdist) as tar:
        members = tar.getnames()
    top = members[0].split("/")[0]
    for required in (
        "pyproject.toml",
        "README.md",
        "neurogate/cli.py",
        "tests/conftest.py",  # the shipped tests need their fixtures and data
        "tests/data/lava_cuba_lif.npz",
        "tests/plugin_pkgs/good_plugin.py",
        "docs/conf.py",
        "examples/custom_neuron.py",
        "_neurogate_pytestplugin.py",
        "neurogate/scaffold/templates/router.py.tmpl",
    ):
        assert f"{top}/{required}" in members, required
    assert not any("__pycache__" in m for m in members)


@pytest.mark.slow
def test_wheel_and_sdist_install_and_run(dists, tmp_path):
    wheel, sdist = dists
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    py = bindir / "python"
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    for dist in (wheel, sdist):
        sh(py, "-m", "pip", "install", "--quiet", "--force-reinstall", dist, env=clean)
        where = sh(py, "-c", "import neurogate; print(neurogate.__file__)", cwd=tmp_path, env=clean)
        assert str(env_dir) in where  # the installed copy, not the source tree
        out = sh(bindir / "neurogate", "plugins", cwd=tmp_path, env=clean)
        assert "lfsr" in out
        assert "lif" in out
        out = sh(py, "-m", "neurogate", "demo", "-q", "--neurons", "2", "--steps", "40",
                 cwd=tmp_path, env=clean)  # fmt: skip
        assert "model == gateware: OK" in out
        sh(bindir / "neurogate", "rtl", "lif", "-o", tmp_path / "lif.v", cwd=tmp_path, env=clean)
        assert "module lif(" in (tmp_path / "lif.v").read_text()
        plugin = tmp_path / f"plugin-{dist.suffix}"  # the templates come from the installed copy
        sh(bindir / "neurogate", "new-plugin", "pkg_check", "--kind", "router", "--dir", plugin,
           cwd=tmp_path, env=clean)  # fmt: skip
        assert (
            "class PkgCheck(ng.Component):"
            in (plugin / "src" / "neurogate_pkg_check" / "pkg_check.py").read_text()
        )
