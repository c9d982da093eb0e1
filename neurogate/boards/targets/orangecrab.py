"""Good Stuff Department OrangeCrab r0.2: ECP5 LFE5U-25F/85F in csfBGA285, 48 MHz.

Its USB port is wired to the FPGA (the DFU bootloader), not to a USB-serial chip, so the host
link's UART is on the Feather header pins 0 (rx) and 1 (tx), for an external adapter.
"""

from amaranth.build import Attrs
from amaranth_boards.orangecrab_r0_2 import (
    OrangeCrabR0_2_25FPlatform,
    OrangeCrabR0_2_85FPlatform,
)
from amaranth_boards.resources import UARTResource

from neurogate.boards.board import Board
from neurogate.core.hookspecs import hookimpl


class _OrangeCrab(Board):
    uart = UARTResource(0, rx="0", tx="1", conn=("io", 0), attrs=Attrs(IO_TYPE="LVCMOS33"))
    programmers = (
        ("dfu-util", "-a", "0", "-D", "{bitstream}"),
        ("openFPGALoader", "-b", "orangeCrab", "{bitstream}"),
    )
    notes = "UART: a 3.3 V USB-serial adapter on Feather pins 0 (rx) and 1 (tx)"


class OrangeCrab25F(_OrangeCrab):
    name = "orangecrab_25f"
    title = "OrangeCrab r0.2 (25F)"
    platform = OrangeCrabR0_2_25FPlatform


class OrangeCrab85F(_OrangeCrab):
    name = "orangecrab_85f"
    title = "OrangeCrab r0.2 (85F)"
    platform = OrangeCrabR0_2_85FPlatform


@hookimpl
def neurogate_register_boards():
    return [OrangeCrab25F(), OrangeCrab85F()]
