"""iCE40 UltraPlus single-port RAM (``SB_SPRAM256KA``), which Amaranth cannot infer.

Used by :class:`~neurogate.gateware.neuron_core.NeuronCore` (``memory="spram"``) and by the
synapse layers' SPRAM option. In simulation (no platform) it is an Amaranth
:class:`~amaranth.lib.memory.Memory` with the same one-port timing.
"""

from __future__ import annotations

from amaranth.hdl import C, ClockSignal, Instance, Module
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

__all__ = ["SPRAM", "SPRAM_DEPTH"]

#: Words of one SB_SPRAM256KA (16 bits each).
SPRAM_DEPTH = 16384


class SPRAM(wiring.Component):
    """One iCE40 SB_SPRAM256KA (16384 x 16, one read or write per cycle, read latency 1).

    With ``platform`` None (simulation) it is a :class:`~amaranth.lib.memory.Memory` of
    ``depth`` words with the same timing: ``data_out`` shows word ``addr`` one cycle after a
    cycle with ``wren`` low and holds its value after a write cycle.
    """

    def __init__(self, depth: int = 16384):
        self._depth = depth
        super().__init__({"addr": In(14), "data_in": In(16), "wren": In(1), "data_out": Out(16)})

    def elaborate(self, platform):
        m = Module()
        if platform is None:
            m.submodules.mem = mem = Memory(shape=16, depth=self._depth, init=[])
            rd, wr = mem.read_port(), mem.write_port()
            m.d.comb += [
                rd.addr.eq(self.addr),
                rd.en.eq(~self.wren),
                wr.addr.eq(self.addr),
                wr.data.eq(self.data_in),
                wr.en.eq(self.wren),
                self.data_out.eq(rd.data),
            ]
        else:
            m.submodules.spram = Instance(
                "SB_SPRAM256KA",
                i_ADDRESS=self.addr,
                i_DATAIN=self.data_in,
                i_MASKWREN=C(0b1111, 4),
                i_WREN=self.wren,
                i_CHIPSELECT=C(1, 1),
                i_CLOCK=ClockSignal(),
                i_STANDBY=C(0, 1),
                i_SLEEP=C(0, 1),
                i_POWEROFF=C(1, 1),
                o_DATAOUT=self.data_out,
            )
        return m
