"""The top level of a board build: the design with the board's clock, reset and I/O.

:func:`wrap` is the one seam between a design's gateware and a board. The platform makes the
``sync`` clock domain from the board's default clock (with the power-on reset the iCE40 block
RAMs need) for any design that uses ``sync``. Until the UART host link
(:mod:`neurogate.gateware.hostlink`) drives the design, :func:`wrap` puts it in a
:class:`GatewareHarness` on the board's UART pins: the design's input bits come from a shift
register fed by the ``rx`` pin and the XOR of its output bits drives ``tx``. Synthesis then keeps
every part of the design, so the area and timing a build reports are those of the design (plus
one flip-flop per input bit), every timed path starts and ends at a flip-flop, and the bitstream
is a well-formed, if not yet useful, board image.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Elaboratable, Module, Signal, Value
from amaranth.lib import io, wiring

__all__ = ["GatewareHarness", "wrap"]


class GatewareHarness(Elaboratable):
    """Any gateware's input bits from a shift register, the XOR of its output bits registered.

    Every leaf of the gateware's signature counts by its flow, so an input stream's ``valid``
    and payload and an output stream's ``ready`` are inputs, and the other handshake signals
    outputs. Every timed path then runs from a flip-flop to a flip-flop.

    Members
    -------
    sin : Signal(1)
        Shifted into the input register each clock.
    sout : Signal(1)
        The XOR of every output bit, registered.
    """

    def __init__(self, dut):
        self.dut = dut
        self.sin = Signal()
        self.sout = Signal()

    def elaborate(self, platform):
        m = Module()
        dut = m.submodules.dut = self.dut
        ins, outs = [], []
        for _path, member, value in dut.signature.flatten(dut):
            (ins if member.flow == wiring.In else outs).append(Value.cast(value))
        chain = Signal(max(1, sum(len(v) for v in ins)))
        m.d.sync += chain.eq((chain << 1) | self.sin)
        pos = 0
        for v in ins:
            m.d.comb += v.eq(chain[pos : pos + len(v)])
            pos += len(v)
        m.d.sync += self.sout.eq(Cat(*outs).xor())
        return m


class _UARTHarnessTop(Elaboratable):
    def __init__(self, design):
        self.design = design

    def elaborate(self, platform):
        m = Module()
        uart = platform.request("uart", 0, dir="-")
        rx = m.submodules.rx = io.Buffer("i", uart.rx)
        tx = m.submodules.tx = io.Buffer("o", uart.tx)
        harness = m.submodules.harness = GatewareHarness(self.design)
        m.d.comb += [harness.sin.eq(rx.i), tx.o.eq(harness.sout)]
        return m


def wrap(design: wiring.Component, platform, *, network=None) -> Elaboratable:
    """Return the top-level elaboratable that puts ``design`` on ``platform``'s board.

    Parameters
    ----------
    design : amaranth.lib.wiring.Component
        The design's gateware (a :class:`~neurogate.gateware.network.NetworkGateware` for a
        network; any component in the ``sync`` domain otherwise).
    platform : amaranth.build.Platform
        The board's platform; it has a ``uart`` 0 resource (see
        :meth:`~neurogate.boards.board.Board.create_platform`).
    network : neurogate.core.network.Network, optional
        The network ``design`` was made from, when it is one.

    The returned elaboratable may have an ``extra_files`` attribute, ``{file name: text}``:
    the build writes those files next to the bitstream (and caches them with it), e.g. the host
    link's ``hostlink.json``.
    """
    return _UARTHarnessTop(design)
