"""``halton``: Halton (radical-inverse) stochastic number generator in any small prime base.

Semantics (one clock cycle per step, base ``b``, ``D = digits``, period ``P = b**D``,
``w = width``, ``c_0 = start``)::

    c_t     = sum_j d_j b**j               a D-digit counter in base b (digits d_0 .. d_(D-1))
    R_t     = sum_j d_j b**(D-1-j)         the digits reversed: R_t / P is the radical inverse
    r_t     = floor(R_t * 2**w / P)        scaled to w bits, exactly (integer division)
    bit_t   = 1 if r_t < x_t else 0        (compare, then advance; equivalently R_t 2**w < x_t P)
    c_{t+1} = (c_t + 1) mod P              (d_0 counts, carries ripple up, all wrap at P - 1)

``R_t / P`` runs through the base-``b`` Van der Corput sequence, the ``base``-th coordinate of
the Halton sequence: for base 3, 0, 1/3, 2/3, 1/9, 4/9, 7/9, 2/9, ... By default ``digits`` is
the largest ``D`` with ``b**D <= 2**w`` (at least 1), so the period is at most the comparator's
range; base 2 with ``digits = width`` is exactly ``vdc``.

The output is registered (latency 1); reset restores ``c = start``. ``x = 0`` gives all zeros.

Exact count: ``R`` takes every value in ``0 .. P-1`` once per period, and ``r < x`` exactly when
``R < ceil(x P / 2**w)``, so any ``P`` consecutive steps hold exactly ``ceil(x * P / 2**w)``
ones for a constant ``x`` (the mean is within ``1/P`` above ``x / 2**w``). Over any ``b**k``
steps starting where ``c`` is a multiple of ``b**k`` the top ``k`` digits of ``R`` take every
value once, so the count of ones is within 1 of ``x * b**k / 2**w``.

The gateware keeps the digit counter and, instead of multiplying, tracks
``R * 2**w = r * P + rem`` incrementally: each step adds one of ``D + 1`` precomputed constants
chosen by the lowest digit that does not carry (see :class:`HaltonGateware`).

>>> import neurogate as ng
>>> enc = ng.component("halton", base=3, digits=2, width=8)
>>> [int(r) for r in radical_inverse(range(9), 3, 2, 8)]
[0, 85, 170, 28, 113, 199, 56, 142, 227]
>>> enc.model().run({"x": [128] * 9})["bit"][:, 0].tolist()
[1, 1, 0, 1, 1, 0, 1, 0, 0]
"""

from __future__ import annotations

from functools import reduce

import numpy as np
from amaranth.hdl import Cat, Const, Module, Mux, Signal

from neurogate.core.component import Choice, Component, Gateware, Int, Model, Optional, Param, Port
from neurogate.core.hookspecs import hookimpl

from .vdc import spread_offset

__all__ = ["BASES", "Halton", "radical_inverse"]

#: The supported bases (primes), in the order :meth:`Halton.allocate_seed` uses them.
BASES = (2, 3, 5, 7, 11, 13)

#: The period ``base**digits`` is at most this (so ``R * 2**width`` fits 64 bits).
MAX_PERIOD = 1 << 32


def _max_digits(base: int, limit: int) -> int:
    """Return the largest ``D`` with ``base**D <= limit``."""
    d = 0
    while base ** (d + 1) <= limit:
        d += 1
    return d


def radical_inverse(counts, base: int, digits: int, width: int) -> np.ndarray:
    """Return ``r = floor(R * 2**width / base**digits)`` (``uint64``) for counter values ``c``.

    ``R`` is ``c``'s ``digits`` base-``base`` digits reversed; ``c`` is taken modulo
    ``base**digits``.
    """
    period = base**digits
    c = np.asarray(counts, dtype=np.uint64) % np.uint64(period)
    b = np.uint64(base)
    rev = np.zeros_like(c)
    for _ in range(digits):
        rev = rev * b + c % b
        c //= b
    return (rev << np.uint64(width)) // np.uint64(period)


class Halton(Component):
    """Halton SNG: a base-``base`` digit counter, its radical inverse, and a comparator.

    Members
    -------
    x : in, unsigned ``width``
        The value to encode; exactly ``ceil(x * base**digits / 2**width)`` ones in every
        ``base**digits`` consecutive steps when ``x`` is held.
    bit : out, 1
        The bitstream, registered: 1 when the scaled radical inverse is below ``x``.
    """

    name = "halton"
    kind = "encoder"

    width = Param(16, Int(1, 32), "comparator width in bits (x is unsigned width)")
    base = Param(2, Choice(*BASES), "the prime base of the digit counter")
    digits = Param(None, Optional(Int(1)), "base-b digits (period base**digits; default fits)")
    start = Param(0, Int(0), "initial counter value c_0 (the sequence offset), below the period")

    def validate(self):
        b, w = self.base, self.width
        top = _max_digits(b, MAX_PERIOD)
        if self.digits is None:
            self._values["digits"] = max(1, _max_digits(b, 1 << w))
        elif self.digits > top:
            raise ValueError(
                f"halton.digits must be an int in 1..{top} for base {b} (period at most 2**32), "
                f"not {self.digits!r}"
            )
        if self.start >= self.period:
            raise ValueError(
                f"halton.start must be an int in 0..{self.period - 1} for period "
                f"{b}**{self.digits}, not {self.start!r}"
            )

    @property
    def ports(self):
        return {
            "x": Port("in", self.width, False, "value to encode"),
            "bit": Port("out", 1, False, "bitstream, 1 when the scaled radical inverse < x"),
        }

    @property
    def latency(self):
        return 1

    @property
    def period(self) -> int:
        """The sequence repeats every ``base**digits`` steps."""
        return self.base**self.digits

    def sequence_key(self):
        """The sequence: equal for equal base, width, digits and start.

        The key has the form of :class:`~neurogate.plugins.encoders.vdc.VanDerCorput`'s, which
        generates the same sequence as base 2 with ``digits = width``.
        """
        return ("radical-inverse", self.base, self.width, self.digits, self.start)

    def allocate_seed(self, index):
        """Use base ``BASES[index % 6]``, started at a golden-ratio offset for ``index >= 6``.

        Allocations 0..5 are the bases 2, 3, 5, 7, 11, 13 from counter value 0 (the first six
        Halton coordinates). Round ``k = index // 6`` starts at the ``k``-th golden-ratio offset
        in the period. When the base changes, ``digits`` goes back to its default for the new
        base.
        """
        if isinstance(index, bool) or not isinstance(index, int | np.integer) or index < 0:
            raise ValueError(f"index must be a non-negative int, not {index!r}")
        index = int(index)
        base, offset_round = BASES[index % len(BASES)], index // len(BASES)
        changes = {"base": base, "start": 0}
        if base != self.base:
            changes["digits"] = None
        period = self.replace(**changes).period
        if offset_round >= period:
            raise ValueError(
                f"index must be an int with index // {len(BASES)} below the period {period} of "
                f"halton base {base}, not {index!r}"
            )
        return self.replace(**{**changes, "start": spread_offset(offset_round, period)})

    def model(self, n=1):
        return HaltonModel(self, n)

    def create(self):
        return HaltonGateware(self)


class HaltonModel(Model):
    """Bit-true model of :class:`Halton`; all instances share the counter sequence."""

    def reset(self):
        self._t = 0

    def _run(self, inputs, steps):
        p = self.component
        c = np.arange(steps, dtype=np.uint64) + np.uint64(p.start + self._t)
        self._t = (self._t + steps) % p.period
        r = radical_inverse(c, p.base, p.digits, p.width).astype(np.int64)
        return {"bit": (r[:, None] < inputs["x"]).view(np.uint8)}


class HaltonGateware(Gateware):
    """Gateware of :class:`Halton` (ports as in its Members section).

    Registers: the digits ``d_j``, ``r`` (``width`` bits) and ``rem`` with
    ``R * 2**width = r * P + rem``, ``0 <= rem < P``. When digit ``j`` is the lowest that is not
    ``b - 1``, the counter step changes ``R`` by ``delta_j = b**(D-1-j) + b**(D-j) - P``
    (``delta_D = 1 - P`` when every digit wraps); ``delta_j * 2**width = q_j * P + e_j`` are
    constants, so ``rem += e_j`` (minus ``P`` on overflow, carrying 1) and
    ``r += q_j + carry``, modulo ``2**width``. ``rem`` is left out when it is always 0 (base 2,
    ``digits <= width``).

    For speed: ``j`` is kept one-hot in a register, computed a step ahead (after a step with
    ``j > 0`` it is 0; after ``j = 0`` it stays 0 unless ``d_0`` reaches ``b - 1``, when it
    becomes the lowest non-top digit above 0); the runs of top digits are found with a carry
    chain (``(F + 1) & ~F`` of the flags ``F``); and both outcomes of the ``rem`` overflow are
    added in parallel and chosen by the sign of ``rem + e_j - P``.
    """

    def elaborate(self, platform):
        m = Module()
        p = self.params
        b, n_dig, w, period = p.base, p.digits, p.width, p.period
        mask = (1 << w) - 1

        # Reset state from start.
        digits0, c = [], p.start
        for _ in range(n_dig):
            digits0.append(c % b)
            c //= b
        rev0 = reduce(lambda acc, d: acc * b + d, digits0, 0)
        r0, rem0 = divmod(rev0 << w, period)
        j0 = next((j for j, d in enumerate(digits0) if d != b - 1), n_dig)

        # Per carry position j = 0 .. D (D: every digit wraps), the change of (r, rem).
        deltas = [b ** (n_dig - 1 - j) + b ** (n_dig - j) - period for j in range(n_dig)]
        deltas.append(1 - period)
        q_e = [divmod(delta << w, period) for delta in deltas]
        q = [qj & mask for qj, _ in q_e]
        e = [ej for _, ej in q_e]

        digit = [Signal(range(b), init=d, name=f"digit{j}") for j, d in enumerate(digits0)]
        r = Signal(w, init=r0)
        top = Cat(*(d == b - 1 for d in digit))  # bit j: digit j is b - 1

        # The mixed-radix counter: digit j steps when every digit below it is b - 1, which is
        # bit j of (top + 1) ^ top (a carry chain).
        top_inc = Signal(n_dig + 1)
        m.d.comb += top_inc.eq(top + 1)
        steps = top_inc ^ top
        for j in range(n_dig):
            with m.If(steps[j]):
                m.d.sync += digit[j].eq(Mux(top[j], 0, digit[j] + 1))

        # One-hot j, a step ahead. low_above bit k: digit k + 1 is the lowest non-top above 0
        # (bit D - 1: digits 1 .. D-1 are all top).
        onehot = Signal(n_dig + 1, init=1 << j0)
        if n_dig == 1:
            low_above = Const(1, 1)
        else:
            above = top[1:]
            above_inc = Signal(n_dig)
            m.d.comb += above_inc.eq(above + 1)
            low_above = above_inc & ~Cat(above, Const(0, 1))
        d0_reaches_top = onehot[0] & (digit[0] == b - 2)
        m.d.sync += onehot.eq(Mux(d0_reaches_top, Cat(Const(0, 1), low_above), 1))

        def select(consts, width):
            terms = [Mux(onehot[j], Const(v, width), 0) for j, v in enumerate(consts) if v]
            return reduce(lambda acc, t: acc | t, terms, Const(0, width))

        if rem0 == 0 and not any(e):
            m.d.sync += r.eq(r + select(q, w))
        else:
            rem = Signal(range(period), init=rem0)
            wide = period.bit_length() + 1  # rem + e - P in [-P, P), two's complement
            kept = Signal(range(2 * period))
            wrapped = Signal(wide)
            r_kept, r_carried = Signal(w), Signal(w)
            m.d.comb += [
                kept.eq(rem + select(e, period.bit_length())),
                wrapped.eq(rem + select([(ej - period) % (1 << wide) for ej in e], wide)),
                r_kept.eq(r + select(q, w)),
                r_carried.eq(r + select([(qj + 1) & mask for qj in q], w)),
            ]
            overflow = ~wrapped[-1]  # rem + e_j >= P
            m.d.sync += [
                rem.eq(Mux(overflow, wrapped, kept)),
                r.eq(Mux(overflow, r_carried, r_kept)),
            ]
        m.d.sync += self.bit.eq(r < self.x)
        return m


@hookimpl
def neurogate_register_components():
    return [Halton]
