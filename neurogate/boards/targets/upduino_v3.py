"""tinyVision UPduino v3: iCE40UP5K-SG48 on its 48 MHz internal oscillator (divided to 12 MHz).

The board's USB chip reaches only the configuration flash, so the host link's UART is on two
header pins, for an external 3.3 V USB-serial adapter.
"""

from amaranth.build import Attrs
from amaranth_boards.resources import UARTResource
from amaranth_boards.upduino_v3 import UpduinoV3Platform

from neurogate.boards.board import Board
from neurogate.core.hookspecs import hookimpl


class _Platform(UpduinoV3Platform):
    hfosc_div = 2  # SB_HFOSC: 48 MHz / 2**2 = 12 MHz


class UpduinoV3(Board):
    name = "upduino_v3"
    title = "tinyVision UPduino v3.0/3.1"
    platform = _Platform
    uart = UARTResource(0, rx="5", tx="6", conn=("j", 1), attrs=Attrs(IO_STANDARD="SB_LVCMOS"))
    programmers = (
        ("openFPGALoader", "-b", "ice40_generic", "{bitstream}"),
        ("iceprog", "{bitstream}"),
    )
    notes = "UART: a 3.3 V USB-serial adapter on header J1 pins 5 (rx) and 6 (tx)"


@hookimpl
def neurogate_register_boards():
    return [UpduinoV3()]
