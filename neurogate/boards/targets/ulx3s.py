"""Radiona ULX3S: ECP5 LFE5U-12F/25F/45F/85F in CABGA381, 25 MHz, UART through the FT231X."""

from amaranth_boards.ulx3s import (
    ULX3S_12F_Platform,
    ULX3S_25F_Platform,
    ULX3S_45F_Platform,
    ULX3S_85F_Platform,
)

from neurogate.boards.board import Board
from neurogate.core.hookspecs import hookimpl


class _ULX3S(Board):
    programmers = (("openFPGALoader", "-b", "ulx3s", "{bitstream}"),)
    notes = "UART through the FT231X (the US1 USB port)"


class ULX3S12F(_ULX3S):
    name = "ulx3s_12f"
    title = "Radiona ULX3S (12F)"
    platform = ULX3S_12F_Platform


class ULX3S25F(_ULX3S):
    name = "ulx3s_25f"
    title = "Radiona ULX3S (25F)"
    platform = ULX3S_25F_Platform


class ULX3S45F(_ULX3S):
    name = "ulx3s_45f"
    title = "Radiona ULX3S (45F)"
    platform = ULX3S_45F_Platform


class ULX3S85F(_ULX3S):
    name = "ulx3s_85f"
    title = "Radiona ULX3S (85F)"
    platform = ULX3S_85F_Platform


@hookimpl
def neurogate_register_boards():
    return [ULX3S12F(), ULX3S25F(), ULX3S45F(), ULX3S85F()]
