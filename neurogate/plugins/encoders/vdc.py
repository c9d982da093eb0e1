"""``vdc``: Van der Corput (base 2) stochastic number generator: a bit-reversed counter.

Semantics (one clock cycle per step, ``w = width``, ``c_0 = start``)::

    r_t     = bitreverse_w(c_t)           (bit i of c_t becomes bit w-1-i of r_t)
    bit_t   = 1 if r_t < x_t else 0       (compare, then advance)
    c_{t+1} = (c_t + 1) mod 2**w

``r_t / 2**w`` is the base-2 radical inverse of ``c_t``, the Van der Corput sequence
0, 1/2, 1/4, 3/4, 1/8, ... The output is registered (latency 1); reset restarts the counter at
``start``. ``x = 0`` gives all zeros; the largest ``x = 2**w - 1`` gives ones except once per
period (where ``r_t = 2**w - 1``).

Low discrepancy: the period is ``2**w`` steps and ``r`` takes every ``w``-bit value once per
period, so any ``2**w`` consecutive steps hold exactly ``x`` ones for a constant ``x``. More
finely, over any ``2**k`` steps that start where ``c`` is a multiple of ``2**k``, the top ``k``
bits of ``r`` take every value once, so the number of ones is ``x >> (w - k)`` or one more.

>>> import neurogate as ng
>>> enc = ng.component("vdc", width=3)
>>> [int(r) for r in bit_reverse(range(8), 3)]
[0, 4, 2, 6, 1, 5, 3, 7]
>>> enc.model().run({"x": [3] * 8})["bit"][:, 0].tolist()
[1, 0, 1, 0, 1, 0, 0, 0]
"""

from __future__ import annotations

import math

import numpy as np
from amaranth.hdl import Cat, Module, Signal

from neurogate.core.component import Component, Gateware, Int, Model, Param, Port
from neurogate.core.hookspecs import hookimpl

__all__ = ["VanDerCorput", "bit_reverse", "spread_offset"]

# The golden ratio's fractional part as an exact fraction (Fibonacci 46 / 47 ratio, 1e-19 off).
_GOLDEN_NUM, _GOLDEN_DEN = 1134903170, 1836311903


def bit_reverse(values, width: int) -> np.ndarray:
    """Return ``values`` (non-negative ints below ``2**width``) with their ``width`` bits reversed.

    The result is a ``uint64`` array of the same shape.
    """
    v = np.asarray(values, dtype=np.uint64)
    out = np.zeros_like(v)
    one = np.uint64(1)
    for i in range(width):
        out |= ((v >> np.uint64(i)) & one) << np.uint64(width - 1 - i)
    return out


def spread_offset(index: int, period: int) -> int:
    """Return the ``index``-th of a golden-ratio spread of offsets in ``0 .. period - 1``.

    The offset is ``index * g mod period`` with ``g`` the integer nearest to ``0.618 * period``
    that is coprime to ``period``, so indices ``0 .. period - 1`` give distinct offsets and
    successive ones are far apart.
    """
    if period <= 1:
        return 0
    g = max(1, (period * _GOLDEN_NUM + _GOLDEN_DEN // 2) // _GOLDEN_DEN)
    step = 0
    while True:  # terminates: 1 and period - 1 are coprime to period
        for cand in (g + step, g - step):
            if 1 <= cand < period and math.gcd(cand, period) == 1:
                return index * cand % period
        step += 1


def _check_index(name: str, index, count: int) -> int:
    """Validate an allocation index against the number of distinct allocations."""
    if isinstance(index, bool) or not isinstance(index, int | np.integer) or index < 0:
        raise ValueError(f"index must be a non-negative int, not {index!r}")
    if index >= count:
        raise ValueError(
            f"index must be an int in 0..{count - 1} ({name} has {count} distinct "
            f"allocations), not {index!r}"
        )
    return int(index)


class VanDerCorput(Component):
    """Van der Corput (base 2) SNG: a bit-reversed ``width``-bit counter and a comparator.

    Members
    -------
    x : in, unsigned ``width``
        The value to encode; exactly ``x`` ones in every ``2**width`` consecutive steps when
        ``x`` is held.
    bit : out, 1
        The bitstream, registered: 1 when the bit-reversed counter is below ``x``.
    """

    name = "vdc"
    kind = "encoder"

    width = Param(16, Int(1, 32), "counter and comparator width in bits (period 2**width)")
    start = Param(0, Int(0), "initial counter value c_0 (the sequence offset), below 2**width")

    def validate(self):
        if self.start >= 1 << self.width:
            raise ValueError(
                f"vdc.start must be an int in 0..{(1 << self.width) - 1} for width "
                f"{self.width}, not {self.start!r}"
            )

    @property
    def ports(self):
        return {
            "x": Port("in", self.width, False, "value to encode"),
            "bit": Port("out", 1, False, "bitstream, 1 when bitreverse(counter) < x"),
        }

    @property
    def latency(self):
        return 1

    @property
    def period(self) -> int:
        """The sequence repeats every ``2**width`` steps."""
        return 1 << self.width

    def sequence_key(self):
        """The sequence: equal for equal width and start.

        The key has the form of :class:`~neurogate.plugins.encoders.halton.Halton`'s (base 2,
        ``digits = width``), which generates the same sequence.
        """
        return ("radical-inverse", 2, self.width, self.width, self.start)

    def allocate_seed(self, index):
        """Start the counter at the ``index``-th of a golden-ratio spread of offsets.

        Allocation 0 starts at 0. There are ``2**width`` distinct allocations; all are shifts
        of one sequence, so prefer ``sobol`` dimensions or ``halton`` bases where streams meet
        in a gate.
        """
        index = _check_index(f"vdc width {self.width}", index, self.period)
        return self.replace(start=spread_offset(index, self.period))

    def model(self, n=1):
        return VanDerCorputModel(self, n)

    def create(self):
        return VanDerCorputGateware(self)


class VanDerCorputModel(Model):
    """Bit-true model of :class:`VanDerCorput`; all instances share the counter sequence."""

    def reset(self):
        self._t = 0

    def _run(self, inputs, steps):
        p = self.component
        c = (np.arange(steps, dtype=np.uint64) + np.uint64(p.start + self._t)) & np.uint64(
            p.period - 1
        )
        self._t = (self._t + steps) % p.period
        r = bit_reverse(c, p.width).astype(np.int64)
        return {"bit": (r[:, None] < inputs["x"]).view(np.uint8)}


class VanDerCorputGateware(Gateware):
    """Gateware of :class:`VanDerCorput` (ports as in its Members section)."""

    def elaborate(self, platform):
        m = Module()
        p = self.params
        c = Signal(p.width, init=p.start)
        reversed_c = Cat(*(c[p.width - 1 - i] for i in range(p.width)))
        m.d.sync += [
            self.bit.eq(reversed_c < self.x),
            c.eq(c + 1),
        ]
        return m


@hookimpl
def neurogate_register_components():
    return [VanDerCorput]
