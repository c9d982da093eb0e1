"""``lfsr``: Fibonacci LFSR + comparator stochastic number generator.

Semantics (one clock cycle per step, ``s_0 = seed``)::

    bit_t     = 1 if s_t < x_t else 0                 (compare, then advance)
    feedback  = XOR of bits (tap - 1) of s_t          (for width 16: bits 15, 13, 12, 10)
    s_{t+1}   = ((s_t << 1) & mask) | feedback

Both outputs are registered (latency 1): after step ``t`` the ``bit`` port shows ``bit_t``
and the ``state`` port shows ``s_{t+1}``, the generator state other components may share.
With the defaults this is bit-compatible with SC-NeuroCore 3.16's ``sc_bitstream_encoder.v``.

>>> import neurogate as ng
>>> enc = ng.component("lfsr")
>>> [hex(s) for s in lfsr_states(16, enc.taps, 0xACE1, 4)]
['0xace1', '0x59c3', '0xb387', '0x670f']
>>> out = enc.model(n=1).run({"x": [0x8000] * 8})
>>> out["bit"][:, 0].tolist()
[0, 1, 0, 1, 0, 0, 1, 1]
"""

from __future__ import annotations

import math
from functools import reduce
from operator import xor

import numpy as np
from amaranth.hdl import Cat, Module, Mux, ResetSignal, Signal

from neurogate.core.component import Component, Gateware, Int, Model, Optional, Param, Port
from neurogate.core.hookspecs import hookimpl

__all__ = ["LFSR", "MAXIMAL_TAPS", "is_maximal", "lfsr_states", "lfsr_step_hdl"]

#: The default seed (masked to the width; its bit 0 is set, so it is never the lock-up state).
DEFAULT_SEED = 0xACE1

# The golden ratio's fractional part as an exact fraction (Fibonacci 46 / 47 ratio, 1e-19 off).
_GOLDEN_NUM, _GOLDEN_DEN = 1134903170, 1836311903

#: Maximal-length Fibonacci taps (1-based bit positions, MSB first) for widths 3..32.
#: Mostly Xilinx XAPP052; width 16 uses x^16 + x^14 + x^13 + x^11 + 1 (SC-NeuroCore's).
MAXIMAL_TAPS: dict[int, tuple[int, ...]] = {
    3: (3, 2), 4: (4, 3), 5: (5, 3), 6: (6, 5), 7: (7, 6), 8: (8, 6, 5, 4), 9: (9, 5),
    10: (10, 7), 11: (11, 9), 12: (12, 6, 4, 1), 13: (13, 4, 3, 1), 14: (14, 5, 3, 1),
    15: (15, 14), 16: (16, 14, 13, 11), 17: (17, 14), 18: (18, 11), 19: (19, 6, 2, 1),
    20: (20, 17), 21: (21, 19), 22: (22, 21), 23: (23, 18), 24: (24, 23, 22, 17),
    25: (25, 22), 26: (26, 6, 2, 1), 27: (27, 5, 2, 1), 28: (28, 25), 29: (29, 27),
    30: (30, 6, 4, 1), 31: (31, 28), 32: (32, 22, 2, 1),
}  # fmt: skip


# -- GF(2) helpers --------------------------------------------------------------------------
def _step(width: int, taps: tuple[int, ...], s: int) -> int:
    fb = 0
    for t in taps:
        fb ^= (s >> (t - 1)) & 1
    return ((s << 1) & ((1 << width) - 1)) | fb


def _linear_map(width, taps, k):
    """Return the images of the basis vectors under ``k`` LFSR steps (a GF(2) matrix)."""

    def apply(images, v):
        out = 0
        j = 0
        while v:
            if v & 1:
                out ^= images[j]
            v >>= 1
            j += 1
        return out

    result = [1 << j for j in range(width)]  # identity
    power = [_step(width, taps, 1 << j) for j in range(width)]  # one step
    while k:
        if k & 1:
            result = [apply(power, r) for r in result]
        power = [apply(power, p) for p in power]
        k >>= 1
    return lambda v: apply(result, v)


def lfsr_states(width: int, taps: tuple[int, ...], seed: int, count: int, start: int = 0):
    """Return ``s_start .. s_{start+count-1}`` as a ``uint64`` array, computed in parallel lanes.

    The sequence is split into lanes whose start states come from GF(2) jump-ahead, so the
    cost is ``O(count / lanes + lanes)`` NumPy operations rather than ``count`` Python steps.
    """
    if count <= 0:
        return np.zeros(0, dtype=np.uint64)
    lanes = max(1, min(4096, math.isqrt(count)))
    per_lane = -(-count // lanes)
    jump = _linear_map(width, taps, per_lane)
    state = _linear_map(width, taps, start)(seed) if start else seed
    starts = np.empty(lanes, dtype=np.uint64)
    for j in range(lanes):
        starts[j] = state
        state = jump(state)
    out = np.empty((lanes, per_lane), dtype=np.uint64)
    s = starts
    mask = np.uint64((1 << width) - 1)
    fb = np.empty_like(s)
    tmp = np.empty_like(s)
    shifts = [np.uint64(t - 1) for t in taps]
    one = np.uint64(1)
    for i in range(per_lane):
        out[:, i] = s
        np.right_shift(s, shifts[0], out=fb)
        for sh in shifts[1:]:
            np.right_shift(s, sh, out=tmp)
            np.bitwise_xor(fb, tmp, out=fb)
        np.bitwise_and(fb, one, out=fb)
        s = np.left_shift(s, one)
        np.bitwise_and(s, mask, out=s)
        np.bitwise_or(s, fb, out=s)
    return out.reshape(-1)[:count]


def _prime_factors(n: int) -> list[int]:
    factors, d = [], 2
    while d * d <= n:
        if n % d == 0:
            factors.append(d)
            while n % d == 0:
                n //= d
        d += 1
    if n > 1:
        factors.append(n)
    return factors


def is_maximal(width: int, taps: tuple[int, ...]) -> bool:
    """Return whether ``taps`` give the maximal period ``2**width - 1`` (primitive polynomial)."""
    period = (1 << width) - 1
    if _linear_map(width, taps, period)(1) != 1:
        return False
    return all(_linear_map(width, taps, period // q)(1) != 1 for q in _prime_factors(period))


def _taps_rule(where, value):
    if value is None:
        return None
    taps = tuple(value) if hasattr(value, "__iter__") and not isinstance(value, str) else None
    if taps is None or not all(
        isinstance(t, int | np.integer) and not isinstance(t, bool) for t in taps
    ):
        raise TypeError(f"{where} must be None or a sequence of bit positions, not {value!r}")
    taps = tuple(int(t) for t in taps)
    if len(set(taps)) != len(taps):
        raise ValueError(f"{where} must be distinct bit positions, not {value!r}")
    return tuple(sorted(taps, reverse=True))


def check_generator(component, width: int, seed_param="seed", taps_param="taps") -> None:
    """Fill in and check the LFSR seed and taps parameters of any component that owns one.

    ``None`` selects the defaults (:data:`DEFAULT_SEED` masked to ``width``; the maximal taps
    of :data:`MAXIMAL_TAPS`). Errors name ``component`` and the parameter, as its own would.
    Pass ``taps_param=None`` for components whose generator always uses the maximal taps.
    """
    values, name = component._values, component.name
    mask = (1 << width) - 1
    seed = values[seed_param]
    if seed is None:
        seed = values[seed_param] = DEFAULT_SEED & mask
    if not 0 <= seed <= mask:
        raise ValueError(
            f"{name}.{seed_param} must fit unsigned {width}-bit [0, {mask}], not {seed!r}"
        )
    if seed == 0:
        raise ValueError(
            f"{name}.{seed_param} must be nonzero (0 is the LFSR lock-up state), not 0"
        )
    if taps_param is None:
        return
    taps = values[taps_param]
    if taps is None:
        values[taps_param] = MAXIMAL_TAPS[width]
        return
    if not all(1 <= t <= width for t in taps) or width not in taps:
        raise ValueError(
            f"{name}.{taps_param} must be bit positions in 1..{width} including {width}, "
            f"not {taps!r}"
        )
    if not is_maximal(width, taps):
        raise ValueError(
            f"{name}.{taps_param} must give a maximal-length sequence (period {mask}) "
            f"for width {width}, not {taps!r}"
        )


def lfsr_step_hdl(state: Signal, taps: tuple[int, ...]):
    """Return the Amaranth expression of the next LFSR state (shift left, feedback into bit 0)."""
    feedback = reduce(xor, [state[t - 1] for t in taps])
    return Cat(feedback, state[:-1])


# -- the component ----------------------------------------------------------------------------
class LFSR(Component):
    """Fibonacci LFSR + comparator stochastic number generator (SNG).

    Members
    -------
    x : in, unsigned ``width``
        The value to encode; ``P(bit = 1) = x / 2**width`` over a full period (exactly
        ``x - 1`` ones in ``2**width - 1`` steps for ``x >= 1``, since 0 never occurs).
    bit : out, 1
        The bitstream, registered.
    state : out, unsigned ``width``
        The generator state after the step, for other components to share.
    """

    name = "lfsr"
    kind = "encoder"

    width = Param(16, Int(3, 32), "LFSR and comparator width in bits")
    seed = Param(
        None, Optional(Int()), "initial state s_0, nonzero (default: 0xACE1 masked to width)"
    )
    taps = Param(
        None, _taps_rule, "feedback taps as 1-based bit positions (default: maximal, from table)"
    )

    def validate(self):
        check_generator(self, self.width)

    @property
    def ports(self):
        return {
            "x": Port("in", self.width, False, "value to encode"),
            "bit": Port("out", 1, False, "bitstream, 1 when state < x"),
            "state": Port("out", self.width, False, "generator state after the step"),
        }

    @property
    def latency(self):
        return 1

    def sequence_key(self):
        """The generator's sequence: equal for equal width, taps and seed."""
        return ("lfsr", self.width, self.taps, self.seed)

    def allocate_seed(self, index):
        """Use the ``index``-th of a golden-ratio spread of states around the LFSR's cycle.

        Allocation 0 is the default seed; allocation ``i`` starts ``i * 0.618... * period``
        steps further along the same cycle (mod the period), so every pair of allocated
        streams is far apart in the sequence, not merely a few steps shifted.
        """
        if isinstance(index, bool) or not isinstance(index, int | np.integer) or index < 0:
            raise ValueError(f"index must be a non-negative int, not {index!r}")
        period = (1 << self.width) - 1
        offset = (int(index) * period * _GOLDEN_NUM // _GOLDEN_DEN) % period
        start = DEFAULT_SEED & period
        seed = _linear_map(self.width, self.taps, offset)(start) if offset else start
        return self.replace(seed=seed)

    def model(self, n=1):
        return LFSRModel(self, n)

    def properties(self, m, dut):
        """Assert the generator's documented behaviour, for every input sequence.

        * ``no_lockup``: ``state`` is never 0 (the LFSR's lock-up state);
        * ``period``: ``state`` equals ``seed`` exactly every ``2**width - 1`` steps, never in
          between (a check of depth ``2**width + 1`` covers a whole period);
        * ``compare``: ``bit`` is ``s_t < x_t`` of the step, a plain comparison (the gateware
          compares the complement register on a carry-select adder).
        """
        from amaranth.hdl import Assert

        from neurogate.sim.formal import past

        period = (1 << self.width) - 1
        phase = Signal(range(period), name="phase")  # steps since reset, modulo the period
        m.d.sync += phase.eq(Mux(phase == period - 1, 0, phase + 1))
        m.d.comb += Assert(dut.state != 0, "no_lockup")
        with m.If(~ResetSignal()):
            m.d.comb += Assert((dut.state == self.seed) == (phase == 0), "period")
        with m.If(past(m, ~ResetSignal())):
            m.d.comb += Assert(dut.bit == (past(m, dut.state) < past(m, dut.x)), "compare")

    def create(self):
        return LFSRGateware(self)


class LFSRModel(Model):
    """Bit-true model of :class:`LFSR`; ``n`` instances share parameters (and so the seed)."""

    def reset(self):
        self._t = 0

    def _run(self, inputs, steps):
        p = self.component
        states = lfsr_states(p.width, p.taps, p.seed, steps + 1, start=self._t)
        self._t = (self._t + steps) % ((1 << p.width) - 1)
        dtype = np.int64 if p.width > 31 else np.int32
        cur = states[:-1].astype(dtype)
        bit = (cur[:, None] < inputs["x"]).view(np.uint8)
        nxt = np.broadcast_to(states[1:].astype(dtype)[:, None], (steps, self.n)).copy()
        return {"bit": bit, "state": nxt}


class LFSRGateware(Gateware):
    """Gateware of :class:`LFSR` (ports as in its Members section).

    Three choices keep it small and fast on FPGAs with carry chains (iCE40, ECP5):

    * The register holds the complement ``~s``, so ``s < x`` is the carry out of
      ``x + ~s`` and maps onto the carry chain with no inverter in front of it.
    * The register has no power-on value of its own (FPGA flip-flops start at 0 and Yosys
      must add inverters to emulate a power-on 1); the domain's reset loads the seed. Amaranth
      platforms assert reset at power-up, and the simulation backends assert it first.
    * From 8 bits on, the comparison is split into two halves whose upper half is computed
      for both carries at once (carry select), halving the longest carry chain.
    """

    def elaborate(self, platform):
        m = Module()
        p = self.params
        width, mask = p.width, (1 << p.width) - 1
        ns = Signal(width, reset_less=True)  # ~s
        parity = reduce(xor, [ns[t - 1] for t in p.taps])
        not_feedback = parity if len(p.taps) % 2 else ~parity  # ~(XOR of the taps of s)
        with m.If(ResetSignal()):
            m.d.sync += ns.eq(~p.seed & mask)
        with m.Else():
            m.d.sync += ns.eq(Cat(not_feedback, ns[:-1]))
        x = self.x
        if width >= 8:
            h = width // 2
            lo_gt = (x[:h] + ns[:h])[h]  # x_lo > s_lo
            hi_gt = (x[h:] + ns[h:])[width - h]  # x_hi > s_hi
            hi_ge = (x[h:] + ns[h:] + 1)[width - h]  # x_hi >= s_hi
            less = Mux(lo_gt, hi_ge, hi_gt)
        else:
            less = (x + ns)[width]  # x > s
        bit = Signal(reset_less=True)
        m.d.sync += bit.eq(less)
        m.d.comb += [self.bit.eq(bit), self.state.eq(~ns)]
        return m


@hookimpl
def neurogate_register_components():
    return [LFSR]
