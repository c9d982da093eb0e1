"""Lattice ECP5-5G Evaluation Board: LFE5UM5G-85F-CABGA381, 12 MHz, UART through the FT2232H."""

from amaranth_boards.ecp5_5g_evn import ECP55GEVNPlatform

from neurogate.boards.board import Board
from neurogate.core.hookspecs import hookimpl


class ECP5EVN(Board):
    name = "ecp5_evn"
    title = "Lattice ECP5-5G Evaluation Board"
    platform = ECP55GEVNPlatform
    programmers = (("openFPGALoader", "-b", "ecp5_evn", "{bitstream}"),)
    notes = "UART through the FT2232H's second channel"


@hookimpl
def neurogate_register_boards():
    return [ECP5EVN()]
