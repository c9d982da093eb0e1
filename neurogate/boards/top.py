"""The top level of a board build: the design with the board's clock, reset and I/O.

:func:`wrap` is the one seam between a design's gateware and a board. The platform makes the
``sync`` clock domain from the board's default clock (with the power-on reset the iCE40 block
RAMs need) for any design that uses ``sync``. A network's gateware goes behind the UART host
link (:class:`~neurogate.gateware.hostlink.HostLinkGateware`, at the board's clock) on the
board's ``uart`` pins, and the build writes the link's region map as ``hostlink.json`` next to
the bitstream for :class:`~neurogate.boards.hostlink.HostLink`. Any other component is put in a
:class:`GatewareHarness` on those pins: its input bits come from a shift register fed by the
``rx`` pin and the XOR of its output bits drives ``tx``, so that synthesis keeps every part of
it and every timed path starts and ends at a flip-flop (a measurement, not a usable image).
"""

from __future__ import annotations

from amaranth.hdl import Cat, Elaboratable, Module, Signal, Value
from amaranth.lib import io, wiring

__all__ = ["BAUD", "GatewareHarness", "HostLinkTop", "wrap"]

#: The host link's baud on every board.
BAUD = 115200


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


class HostLinkTop(Elaboratable):
    """A network's gateware behind the UART host link on the board's ``uart`` 0 pins.

    ``extra_files`` holds the link's region map as ``hostlink.json``.
    """

    def __init__(self, design, platform, baud: float = BAUD):
        from neurogate.gateware.hostlink import HostLinkGateware

        self.link = HostLinkGateware(design, clk_freq=platform.default_clk_frequency, baud=baud)
        self.extra_files = {"hostlink.json": self.link.map_json() + "\n"}

    def elaborate(self, platform):
        m = Module()
        uart = platform.request("uart", 0, dir="-")
        rx = m.submodules.rx = io.Buffer("i", uart.rx)
        tx = m.submodules.tx = io.Buffer("o", uart.tx)
        link = m.submodules.link = self.link
        m.d.comb += [link.rx.eq(rx.i), tx.o.eq(link.tx)]
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
        The network ``design`` was made from, when it is one: then ``design`` goes behind the
        host link (:class:`HostLinkTop`), otherwise into a :class:`GatewareHarness`.

    The returned elaboratable may have an ``extra_files`` attribute, a dict from file name to
    text; the build writes those files next to the bitstream (and caches them with it), e.g.
    the host link's ``hostlink.json``.
    """
    if network is not None:
        return HostLinkTop(design, platform)
    return _UARTHarnessTop(design)
