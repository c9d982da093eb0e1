"""A UART (8N1): :class:`UARTRx` and :class:`UARTTx`, parameterised by clock and baud.

A byte on the line is a start bit (0), eight data bits, least significant first, and a stop
bit (1); the idle line is 1. Both sides time their bits with an integer number of clock cycles
per bit, :func:`divisor` ``= round(clk_freq / baud)`` (at least 4), which must be within 1 % of
the requested baud.

Receiver. ``rx`` passes a two-flip-flop synchroniser (it may come from a pin). A falling edge
on the idle line starts a byte; half a bit later the line is sampled again and, if it is back at
1, the edge was a glitch and is ignored (**false-start rejection**). Otherwise the data bits
and the stop bit are sampled in the middle of their bit time, ``divisor`` cycles apart
(**mid-bit sampling**), so a sender whose baud differs by a few percent (2 % at ``divisor=4``)
still reads correctly. A byte with a stop bit of 1 is offered on the ``data`` stream; a
stop bit of 0 (a framing error or a break) drops the byte, raises the sticky ``frame_error``
flag and waits for the line to go idle. A byte that completes while the previous one is still
offered (``valid`` high, ``ready`` low) is dropped and raises the sticky ``overrun`` flag.

Transmitter. A byte taken from the ``data`` stream (``ready`` is high when the transmitter is
idle) is sent as start, data and stop bits on ``tx``, ``divisor`` cycles each.

>>> divisor(12e6, 115200), divisor(1e6, 250e3)
(104, 4)
>>> divisor(12e6, 4e6)
Traceback (most recent call last):
...
ValueError: baud must give at least 4 clock cycles per bit, not 4000000.0 at 12000000.0 Hz
"""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

__all__ = ["UARTRx", "UARTTx", "divisor"]

#: Largest relative difference between the requested baud and the one a divisor gives.
BAUD_TOLERANCE = 0.01


def divisor(clk_freq: float, baud: float) -> int:
    """Return the clock cycles per bit for ``baud`` at ``clk_freq`` (``ValueError`` if off)."""
    for what, value in (("clk_freq", clk_freq), ("baud", baud)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ValueError(f"{what} must be a positive number, not {value!r}")
    cycles = round(clk_freq / baud)
    if cycles < 4:
        raise ValueError(
            f"baud must give at least 4 clock cycles per bit, not {baud!r} at {clk_freq!r} Hz"
        )
    error = abs(clk_freq / cycles - baud) / baud
    if error > BAUD_TOLERANCE:
        raise ValueError(
            f"baud must be within 1% of clk_freq / an integer, not {baud!r} at {clk_freq!r} Hz "
            f"({clk_freq / cycles:.0f} baud with {cycles} cycles per bit, {error:.1%} off)"
        )
    return cycles


class UARTRx(wiring.Component):
    """UART receiver, 8N1, ``cycles_per_bit`` clock cycles per bit (see the module docstring).

    Members
    -------
    rx : in, 1
        The serial line (idle high), synchronised inside.
    data : out, stream of 8 bits
        Received bytes.
    frame_error : out, 1
        Sticky: a byte had a stop bit of 0 (dropped).
    overrun : out, 1
        Sticky: a byte arrived while the previous one was still offered (dropped).
    """

    rx: In(1, init=1)
    data: Out(stream.Signature(8))
    frame_error: Out(1)
    overrun: Out(1)

    def __init__(self, cycles_per_bit: int):
        if isinstance(cycles_per_bit, bool) or not isinstance(cycles_per_bit, int):
            raise TypeError(f"cycles_per_bit must be an int, not {cycles_per_bit!r}")
        if cycles_per_bit < 4:
            raise ValueError(f"cycles_per_bit must be at least 4, not {cycles_per_bit!r}")
        self._cpb = cycles_per_bit
        super().__init__()

    @property
    def cycles_per_bit(self) -> int:
        """Clock cycles per bit."""
        return self._cpb

    def elaborate(self, platform):
        m = Module()
        cpb = self._cpb
        line = Signal(init=1)
        m.submodules.sync = FFSynchronizer(self.rx, line, init=1)
        timer = Signal(range(cpb))
        bit = Signal(range(10))
        shift = Signal(8)
        with m.If(self.data.ready):
            m.d.sync += self.data.valid.eq(0)
        with m.If(timer != 0):
            m.d.sync += timer.eq(timer - 1)
        with m.FSM():
            with m.State("IDLE"), m.If(~line):
                # half a bit (counting this cycle) to the middle of the start bit
                m.d.sync += timer.eq(cpb // 2 - 1)
                m.next = "START"
            with m.State("START"), m.If(timer == 0):
                with m.If(line):
                    m.next = "IDLE"  # a glitch, not a start bit
                with m.Else():
                    m.d.sync += [timer.eq(cpb - 1), bit.eq(0)]
                    m.next = "BITS"
            with m.State("BITS"), m.If(timer == 0):
                m.d.sync += [timer.eq(cpb - 1), shift.eq(Cat(shift[1:], line))]
                m.d.sync += bit.eq(bit + 1)
                with m.If(bit == 7):
                    m.next = "STOP"
            with m.State("STOP"), m.If(timer == 0):
                with m.If(~line):
                    m.d.sync += self.frame_error.eq(1)
                    m.next = "BREAK"
                with m.Else():
                    with m.If(self.data.valid & ~self.data.ready):
                        m.d.sync += self.overrun.eq(1)
                    with m.Else():
                        m.d.sync += [self.data.payload.eq(shift), self.data.valid.eq(1)]
                    m.next = "IDLE"
            with m.State("BREAK"), m.If(line):
                m.next = "IDLE"
        return m


class UARTTx(wiring.Component):
    """UART transmitter, 8N1, ``cycles_per_bit`` clock cycles per bit.

    Members
    -------
    data : in, stream of 8 bits
        Bytes to send (``ready`` while idle).
    tx : out, 1
        The serial line (idle high).
    """

    data: In(stream.Signature(8))
    tx: Out(1, init=1)

    def __init__(self, cycles_per_bit: int):
        if isinstance(cycles_per_bit, bool) or not isinstance(cycles_per_bit, int):
            raise TypeError(f"cycles_per_bit must be an int, not {cycles_per_bit!r}")
        if cycles_per_bit < 4:
            raise ValueError(f"cycles_per_bit must be at least 4, not {cycles_per_bit!r}")
        self._cpb = cycles_per_bit
        super().__init__()

    @property
    def cycles_per_bit(self) -> int:
        """Clock cycles per bit."""
        return self._cpb

    def elaborate(self, platform):
        m = Module()
        cpb = self._cpb
        timer = Signal(range(cpb))
        bits = Signal(10, init=0x3FF)  # the frame still to send, next bit first
        left = Signal(range(11))
        # ready when idle or in the last cycle of a stop bit: frames follow without a gap
        last = (left == 0) | ((left == 1) & (timer == 0))
        m.d.comb += [self.tx.eq(bits[0]), self.data.ready.eq(last)]
        with m.If(last & self.data.valid):
            m.d.sync += [bits.eq(1 << 9 | self.data.payload << 1), left.eq(10), timer.eq(cpb - 1)]
        with m.Elif((left != 0) & (timer == 0)):
            m.d.sync += [bits.eq(1 << 9 | bits >> 1), left.eq(left - 1), timer.eq(cpb - 1)]
        with m.Elif(left != 0):
            m.d.sync += timer.eq(timer - 1)
        return m
