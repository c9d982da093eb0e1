"""Boards: targets on amaranth-boards platforms, the build flow, reports and the host side.

>>> import neurogate as ng
>>> b = ng.boards.board("icebreaker")
>>> b.device, b.package, b.clock_hz
('iCE40UP5K', 'SG48', 12000000.0)
>>> "ulx3s_85f" in ng.boards.boards()
True

:func:`build` turns a design into a bitstream, Verilog and a utilisation/timing report
(:mod:`neurogate.boards.build`); :func:`prepare` stops before the tools run. A board is a
:class:`Board` registered through the ``neurogate_register_boards`` hook.
"""

from .board import Board
from .build import (
    BuildError,
    BuildResult,
    DesignTooBigError,
    PreparedBuild,
    TimingError,
    UnknownBoardError,
    board,
    boards,
    build,
    cache_dir,
    prepare,
    program,
)
from .hostlink import HostLink as HostLink
from .report import format_report
from .toolchain import Toolchain, ToolchainError, get_toolchain

__all__ = [
    "Board",
    "BuildError",
    "BuildResult",
    "DesignTooBigError",
    "PreparedBuild",
    "TimingError",
    "Toolchain",
    "ToolchainError",
    "UnknownBoardError",
    "board",
    "boards",
    "build",
    "cache_dir",
    "format_report",
    "get_toolchain",
    "prepare",
    "program",
]
