"""TinyFPGA BX: iCE40LP8K-CM81, 16 MHz; UART on two pins for an external USB-serial adapter."""

from amaranth.build import Attrs
from amaranth_boards.resources import UARTResource
from amaranth_boards.tinyfpga_bx import TinyFPGABXPlatform

from neurogate.boards.board import Board
from neurogate.core.hookspecs import hookimpl


class TinyFPGABX(Board):
    name = "tinyfpga_bx"
    title = "TinyFPGA BX"
    platform = TinyFPGABXPlatform
    uart = UARTResource(0, rx="1", tx="2", conn=("gpio", 0), attrs=Attrs(IO_STANDARD="SB_LVCMOS"))
    programmers = (("tinyprog", "-p", "{bitstream}"),)
    notes = "UART: a 3.3 V USB-serial adapter on pins 1 (rx) and 2 (tx) (USB is the loader's)"


@hookimpl
def neurogate_register_boards():
    return [TinyFPGABX()]
