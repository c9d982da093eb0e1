#!/usr/bin/env python3
"""Set up and run neurogate from a fresh clone with nothing but Python 3.11+ and pip.

    python3 dev.py demo      # make .venv, install neurogate, run the demo (the main job)
    python3 dev.py test      # make .venv, install test extras, run ruff + the whole test suite

Extra arguments after ``test`` go to pytest (e.g. ``python3 dev.py test -k lif -x``).
The virtual environment lives in ``.venv`` (override with ``NEUROGATE_VENV``); installs are
skipped when ``pyproject.toml`` has not changed since the last one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("NEUROGATE_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def run(*cmd, **kwargs) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kwargs)


def ensure_venv(extras: str) -> None:
    """Create the venv and install neurogate (editable) with ``extras`` unless up to date."""
    if sys.version_info < (3, 11):
        sys.exit(f"neurogate needs Python 3.11 or newer, not {sys.version.split()[0]}")
    if not PY.exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / ".neurogate-install"
    if stamp.exists() and stamp.read_text() == digest:
        return
    run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    target = f"{ROOT}[{extras}]" if extras else str(ROOT)
    run(PY, "-m", "pip", "install", "--quiet", "--editable", target)
    stamp.write_text(digest)


def demo(args: list[str]) -> None:
    ensure_venv("")
    run(PY, "-m", "neurogate", "demo", *args)


def test(args: list[str]) -> None:
    ensure_venv("test,docs,plot,build,cosim,formal")
    optional_icarus()
    run(PY, "-m", "ruff", "check", ".", cwd=ROOT)
    run(PY, "-m", "ruff", "format", "--check", ".", cwd=ROOT)
    run(PY, "-m", "pytest", *args, cwd=ROOT)


def optional_icarus() -> None:
    """On CI (``CI`` set) as root with apt-get, install Icarus Verilog for the icarus tests.

    Icarus is optional: without it those tests skip with the reason, so this never fails.
    """
    if not os.environ.get("CI") or shutil.which("iverilog") or not shutil.which("apt-get"):
        return
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "iverilog"]):
        if subprocess.run(cmd, **quiet).returncode:
            print("note: iverilog not installed; the icarus co-simulation tests will be skipped")
            return


def main() -> None:
    commands = {"demo": demo, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    try:
        commands[sys.argv[1]](sys.argv[2:])
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)


if __name__ == "__main__":
    main()
