"""A third-party board: the Lattice iCE40 UltraPlus breakout, UART on two header pins."""

from amaranth.build import Attrs
from amaranth_boards.ice40_up5k_b_evn import ICE40UP5KBEVNPlatform
from amaranth_boards.resources import UARTResource

import neurogate as ng


class UP5KEVN(ng.boards.Board):
    name = "test_up5k_evn"
    title = "Lattice iCE40 UltraPlus Breakout (test plugin)"
    platform = ICE40UP5KBEVNPlatform
    uart = UARTResource(0, rx="3", tx="5", conn=("j", 1), attrs=Attrs(IO_STANDARD="SB_LVCMOS"))
    programmers = (("iceprog", "{bitstream}"),)


@ng.hookimpl
def neurogate_register_boards():
    return [UP5KEVN()]
