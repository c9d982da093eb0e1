"""UART RX/TX (neurogate.gateware.uart): bit-true against a line model, baud mismatch, glitches."""

from __future__ import annotations

import gc
import re

import numpy as np
import pytest
from amaranth.sim import Simulator

from neurogate.gateware.uart import UARTRx, UARTTx, divisor
from neurogate.sim.backends import Top, reset


def line_waveform(data: bytes, bit_cycles: float, gaps, lead: int = 5) -> list[int]:
    """Return the line level per clock cycle for ``data`` sent 8N1 at ``bit_cycles`` per bit.

    ``gaps[k]`` idle bit times precede byte ``k``. A bit starts at the first cycle at or after its
    ideal (fractional) start time, so a sender slower or faster than the receiver is exact.
    """
    edges = []  # (start time, level) of every bit
    t = float(lead)
    for byte, gap in zip(data, gaps, strict=True):
        t += gap * bit_cycles
        bits = [0, *((byte >> i) & 1 for i in range(8)), 1]
        for b in bits:
            edges.append((t, b))
            t += bit_cycles
    total = int(np.ceil(t)) + 4 * int(np.ceil(bit_cycles))
    wave = np.ones(total, dtype=int)
    for (start, level), (end, _) in zip(edges, [*edges[1:], (t, 1)], strict=True):
        wave[int(np.ceil(start)) : int(np.ceil(end))] = level
    return wave.tolist()


def run_rx(cpb: int, wave: list[int], p_ready: float = 1.0, seed: int = 0):
    """Play ``wave`` into a :class:`UARTRx`; return (bytes received, frame_error, overrun)."""
    dut = UARTRx(cpb)
    top = Top(dut)
    rng = np.random.default_rng(seed)
    got = []
    flags = {}

    async def bench(ctx):
        await reset(ctx, top.domain)
        for level in wave:
            ctx.set(dut.rx, level)
            ready = int(rng.random() < p_ready)
            ctx.set(dut.data.ready, ready)
            if ready and ctx.get(dut.data.valid):
                got.append(ctx.get(dut.data.payload))
            await ctx.tick()
        flags["frame_error"] = ctx.get(dut.frame_error)
        flags["overrun"] = ctx.get(dut.overrun)

    sim = Simulator(top)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return bytes(got), flags["frame_error"], flags["overrun"]


def run_tx(cpb: int, data: bytes, cycles: int) -> list[int]:
    """Offer ``data`` to a :class:`UARTTx` as fast as it takes it; return ``tx`` per cycle."""
    dut = UARTTx(cpb)
    top = Top(dut)
    wave = []

    async def bench(ctx):
        await reset(ctx, top.domain)
        queue = list(data)
        for _ in range(cycles):
            if queue:
                ctx.set(dut.data.payload, queue[0])
                ctx.set(dut.data.valid, 1)
            else:
                ctx.set(dut.data.valid, 0)
            wave.append(ctx.get(dut.tx))
            if queue and ctx.get(dut.data.ready):
                queue.pop(0)
            await ctx.tick()

    sim = Simulator(top)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return wave


def decode_line(wave: list[int], cpb: int) -> bytes:
    """Decode an 8N1 waveform sampled once per cycle (reference receiver, exact cpb)."""
    out, i = [], 0
    while i < len(wave):
        if wave[i] == 0:
            bits = [wave[i + cpb // 2 + k * cpb] for k in range(10)]
            assert bits[0] == 0, f"bad start bit at cycle {i}: {bits}"
            assert bits[9] == 1, f"bad stop bit at cycle {i}: {bits}"
            out.append(sum(b << k for k, b in enumerate(bits[1:9])))
            i += 10 * cpb - cpb // 2
        else:
            i += 1
    return bytes(out)


def exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


# the refused constructors leave elaboratables that are never used: that is the point
@pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")
def test_divisor_messages():
    assert divisor(12e6, 115200) == 104
    assert divisor(48e6, 3e6) == 16
    msg = "baud must give at least 4 clock cycles per bit, not 4000000.0 at 12000000.0 Hz"
    with pytest.raises(ValueError, match=exact(msg)):
        divisor(12e6, 4e6)
    msg = (
        "baud must be within 1% of clk_freq / an integer, not 220000.0 at 1000000.0 Hz "
        "(200000 baud with 5 cycles per bit, 9.1% off)"
    )
    with pytest.raises(ValueError, match=exact(msg)):
        divisor(1e6, 220e3)
    with pytest.raises(ValueError, match=exact("clk_freq must be a positive number, not 0")):
        divisor(0, 9600)
    with pytest.raises(ValueError, match=exact("cycles_per_bit must be at least 4, not 3")):
        UARTRx(3)
    with pytest.raises(TypeError, match=exact("cycles_per_bit must be an int, not 4.0")):
        UARTTx(4.0)
    gc.collect()  # their warnings now, under this test's filter


def test_tx_known_waveform():
    # 0x55 = 0b01010101, LSB first: start 0, then 1 0 1 0 1 0 1 0, stop 1; 4 cycles per bit
    wave = run_tx(4, b"\x55", 48)
    bits = [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]
    start = wave.index(0)
    assert wave[:start] == [1] * start
    assert wave[start : start + 40] == [b for b in bits for _ in range(4)]
    assert wave[start + 40 :] == [1] * (48 - start - 40)


@pytest.mark.parametrize("cpb", [4, 5, 8, 13])
def test_tx_back_to_back(cpb, rng):
    data = bytes(rng.integers(0, 256, 12).tolist())
    wave = run_tx(cpb, data, cycles=(len(data) + 2) * 10 * cpb)
    assert decode_line(wave, cpb) == data
    # back to back: the 12 frames take exactly 12 * 10 bit times
    first = wave.index(0)
    assert all(v == 1 for v in wave[first + len(data) * 10 * cpb :])


@pytest.mark.parametrize(
    ("cpb", "mismatch"),
    [(4, 0.0), (4, 0.02), (4, -0.02), (5, 0.02), (8, -0.02), (8, 0.02), (16, 0.0), (13, -0.02)],
)
def test_rx_bytes_with_baud_mismatch(cpb, mismatch, rng):
    data = bytes([0x00, 0xFF, 0x55, 0xAA, 0x01, 0x80, *rng.integers(0, 256, 10).tolist()])
    gaps = [0] * 6 + rng.integers(0, 3, 10).tolist()  # back to back, then random idle
    wave = line_waveform(data, cpb * (1 + mismatch), gaps)
    got, frame_error, overrun = run_rx(cpb, wave)
    assert got == data
    assert (frame_error, overrun) == (0, 0)


@pytest.mark.parametrize("cpb", [4, 8])
def test_rx_false_start_rejected(cpb):
    # glitches shorter than half a bit are not start bits; a real byte follows
    wave = [1] * 10 + [0] + [1] * 10 + [0] * (cpb // 2 - 1) + [1] * 3 * cpb
    wave += line_waveform(b"\xa5", cpb, [0], lead=0)
    got, frame_error, _ = run_rx(cpb, wave)
    assert got == b"\xa5"
    assert frame_error == 0


def test_rx_frame_error_and_break():
    cpb = 4
    # a byte whose stop bit is 0, then a long break, then a good byte
    bad = [0] * cpb + [1] * 8 * cpb + [0] * cpb  # start, 0xFF, stop=0
    wave = [1] * 8 + bad + [0] * 30 + [1] * 8 + line_waveform(b"\x3c", cpb, [0], lead=0)
    got, frame_error, overrun = run_rx(cpb, wave)
    assert got == b"\x3c"
    assert (frame_error, overrun) == (1, 0)


def test_rx_overrun_when_not_read():
    cpb = 4
    wave = line_waveform(b"\x11\x22\x33", cpb, [0, 0, 0])
    got, _, overrun = run_rx(cpb, wave, p_ready=0.0)
    assert got == b""
    assert overrun == 1


def test_rx_random_ready(rng_seed, rng):
    cpb = 6
    data = bytes(rng.integers(0, 256, 20).tolist())
    wave = line_waveform(data, cpb * 1.01, rng.integers(0, 2, 20).tolist())
    # ready often enough (a byte lasts 60 cycles) that nothing overruns
    got, frame_error, overrun = run_rx(cpb, wave, p_ready=0.3, seed=rng_seed)
    assert (got, frame_error, overrun) == (data, 0, 0)


class _Loop(Top):
    def __init__(self, cpb):
        self.tx, self.rx = UARTTx(cpb), UARTRx(cpb)
        super().__init__(self.tx)

    def elaborate(self, platform):
        m = super().elaborate(platform)
        m.submodules.rx = self.rx
        m.d.comb += self.rx.rx.eq(self.tx.tx)
        return m


def test_loopback_all_bytes():
    cpb = 4
    top = _Loop(cpb)
    data = bytes(range(256))
    got = []

    async def bench(ctx):
        await reset(ctx, top.domain)
        ctx.set(top.rx.data.ready, 1)
        queue = list(data)
        for _ in range((len(data) + 2) * 10 * cpb):
            ctx.set(top.tx.data.valid, bool(queue))
            if queue:
                ctx.set(top.tx.data.payload, queue[0])
                if ctx.get(top.tx.data.ready):
                    queue.pop(0)
            if ctx.get(top.rx.data.valid):
                got.append(ctx.get(top.rx.data.payload))
            await ctx.tick()

    sim = Simulator(top)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert bytes(got) == data
