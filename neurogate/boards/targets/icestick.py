"""Lattice iCEstick: iCE40HX1K-TQ144, 12 MHz, UART on the FTDI's second channel."""

from amaranth_boards.icestick import ICEStickPlatform

from neurogate.boards.board import Board
from neurogate.core.hookspecs import hookimpl


class ICEStick(Board):
    name = "icestick"
    title = "Lattice iCEstick"
    platform = ICEStickPlatform
    programmers = (
        ("openFPGALoader", "-b", "ice40_generic", "{bitstream}"),
        ("iceprog", "{bitstream}"),
    )
    notes = "UART on the FTDI's second channel (the USB plug); 1280 logic cells, no SPRAM"


@hookimpl
def neurogate_register_boards():
    return [ICEStick()]
