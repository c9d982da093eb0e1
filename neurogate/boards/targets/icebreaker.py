"""1BitSquared iCEBreaker: iCE40UP5K-SG48, 12 MHz, UART on the FTDI's second channel."""

from amaranth_boards.icebreaker import ICEBreakerPlatform

from neurogate.boards.board import Board
from neurogate.core.hookspecs import hookimpl


class ICEBreaker(Board):
    name = "icebreaker"
    title = "1BitSquared iCEBreaker"
    platform = ICEBreakerPlatform
    programmers = (
        ("openFPGALoader", "-b", "ice40_generic", "{bitstream}"),
        ("iceprog", "{bitstream}"),
    )
    notes = "UART on the FTDI's second channel (the USB cable)"


@hookimpl
def neurogate_register_boards():
    return [ICEBreaker()]
