"""Colorlight 5A-75B v7.0: ECP5 LFE5U-25F-CABGA256, 25 MHz; UART and JTAG on header pads."""

from amaranth_boards.colorlight_5a75b_r7_0 import Colorlight_5A75B_R70Platform

from neurogate.boards.board import Board
from neurogate.core.hookspecs import hookimpl


class Colorlight5A75B(Board):
    name = "colorlight_5a75b"
    title = "Colorlight 5A-75B v7.0"
    platform = Colorlight_5A75B_R70Platform
    programmers = (("openFPGALoader", "-c", "ft232", "{bitstream}"),)
    notes = "programmed through a JTAG adapter; UART through a 3.3 V adapter on its pads"


@hookimpl
def neurogate_register_boards():
    return [Colorlight5A75B()]
