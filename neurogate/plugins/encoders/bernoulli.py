"""``bernoulli``: LFSR-driven Bernoulli bitstream, optionally with a scrambled comparator input.

Semantics (one clock cycle per step, ``w = width``, ``s_0 = seed``; the generator is ``lfsr``'s:
shift left, feedback = XOR of bits ``tap - 1`` into bit 0)::

    r_t     = scramble(s_t)  if scramble else  s_t
    bit_t   = 1 if r_t < x_t else 0                     (compare, then advance)
    s_{t+1} = ((s_t << 1) & mask) | XOR of bits (tap - 1) of s_t

``scramble`` is a fixed permutation of the ``w`` state bits (wiring only): bit ``w-1-i`` of
``r`` (its ``i``-th most significant bit) is bit ``p_i`` of ``s``, where ``p_0 = w-1`` (the
oldest bit in the shift register), ``p_1 = 0`` (the newest), and each following ``p_i`` is the
unused bit position farthest from all of ``p_0 .. p_(i-1)`` (the lowest one on ties). For width
16: ``p = 15, 0, 7, 11, 3, 5, 9, 13, 1, 2, 4, 6, 8, 10, 12, 14``.

Why: in a shift register, bit ``j`` of ``s_t`` is bit ``j + 1`` of ``s_{t+1}``, so an
unscrambled comparator sees nearly the same number twice in a row (``s_{t+1} ~ 2 s_t``) and the
stream is strongly correlated from one step to the next (for ``x = 2**w / 4``,
``P(bit_{t+1} = 1 | bit_t = 1) = 1/2`` instead of ``1/4``). After the scramble the most
significant comparator bits come from state bits far apart, so comparisons a few steps apart
share none of them and look like independent Bernoulli(``x / 2**w``) trials.

Both choices permute the nonzero states, so as for ``lfsr`` every period of ``2**w - 1`` steps
holds exactly ``x - 1`` ones for a constant ``x >= 1`` (0 never occurs) and none for ``x = 0``.
The output is registered (latency 1); reset restores ``s = seed``. The sequence key is
``lfsr``'s: a ``bernoulli`` and an ``lfsr`` with the same width, taps and seed share one
generator, and the seed allocator treats them as such.

>>> import neurogate as ng
>>> enc = ng.component("bernoulli", width=4, seed=1)
>>> scramble_order(4)
(3, 0, 1, 2)
>>> enc.model().run({"x": [8] * 6})["bit"][:, 0].tolist()
[1, 1, 1, 0, 1, 1]
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Cat, Module, Signal

from neurogate.core.component import Bool, Component, Gateware, Int, Model, Optional, Param, Port
from neurogate.core.hookspecs import hookimpl

from .lfsr import (
    LFSR,
    _taps_rule,
    check_generator,
    lfsr_states,
    lfsr_step_hdl,
)

__all__ = ["Bernoulli", "scramble", "scramble_order"]


def scramble_order(width: int) -> tuple[int, ...]:
    """Return ``p_0 .. p_(width-1)``: the state bit that feeds each comparator bit, MSB first."""
    order = [width - 1]
    while len(order) < width:
        free = [a for a in range(width) if a not in order]
        order.append(max(free, key=lambda a: (min(abs(a - c) for c in order), -a)))
    return tuple(order)


def scramble(states, width: int) -> np.ndarray:
    """Return the scrambled comparator inputs (``uint64``) of LFSR ``states``."""
    s = np.asarray(states, dtype=np.uint64)
    out = np.zeros_like(s)
    one = np.uint64(1)
    for i, src in enumerate(scramble_order(width)):
        out |= ((s >> np.uint64(src)) & one) << np.uint64(width - 1 - i)
    return out


class Bernoulli(Component):
    """LFSR + comparator Bernoulli source with an optional scramble of the comparator input.

    Members
    -------
    x : in, unsigned ``width``
        The value to encode; ``P(bit = 1) = x / 2**width`` (exactly ``x - 1`` ones per period
        of ``2**width - 1`` steps for ``x >= 1``).
    bit : out, 1
        The bitstream, registered.
    """

    name = "bernoulli"
    kind = "encoder"

    width = Param(16, Int(3, 32), "LFSR and comparator width in bits")
    seed = Param(
        None, Optional(Int()), "initial state s_0, nonzero (default: 0xACE1 masked to width)"
    )
    taps = Param(
        None, _taps_rule, "feedback taps as 1-based bit positions (default: maximal, from table)"
    )
    scramble = Param(True, Bool(), "permute the state bits before the comparator")

    def validate(self):
        check_generator(self, self.width)

    @property
    def ports(self):
        return {
            "x": Port("in", self.width, False, "value to encode"),
            "bit": Port("out", 1, False, "bitstream, 1 when the (scrambled) state < x"),
        }

    @property
    def latency(self):
        return 1

    @property
    def period(self) -> int:
        """The sequence repeats every ``2**width - 1`` steps."""
        return (1 << self.width) - 1

    def sequence_key(self):
        """The generator's sequence, as ``lfsr`` keys it (equal width, taps and seed)."""
        return ("lfsr", self.width, self.taps, self.seed)

    def allocate_seed(self, index):
        """Use the seed of ``lfsr``'s ``index``-th allocation (a golden-ratio spread)."""
        spread = LFSR(width=self.width, taps=self.taps).allocate_seed(index)
        return self.replace(seed=spread.seed)

    def model(self, n=1):
        return BernoulliModel(self, n)

    def create(self):
        return BernoulliGateware(self)


class BernoulliModel(Model):
    """Bit-true model of :class:`Bernoulli`; all instances share the generator."""

    def reset(self):
        self._t = 0

    def _run(self, inputs, steps):
        p = self.component
        states = lfsr_states(p.width, p.taps, p.seed, steps, start=self._t)
        self._t = (self._t + steps) % p.period
        r = scramble(states, p.width) if p.scramble else states
        return {"bit": (r.astype(np.int64)[:, None] < inputs["x"]).view(np.uint8)}


class BernoulliGateware(Gateware):
    """Gateware of :class:`Bernoulli` (ports as in its Members section)."""

    def elaborate(self, platform):
        m = Module()
        p = self.params
        s = Signal(p.width, init=p.seed)
        # Cat lists bits LSB first: bit w-1-i of r is s[order[i]].
        r = Cat(*(s[src] for src in reversed(scramble_order(p.width)))) if p.scramble else s
        m.d.sync += [
            self.bit.eq(r < self.x),
            s.eq(lfsr_step_hdl(s, p.taps)),
        ]
        return m


@hookimpl
def neurogate_register_components():
    return [Bernoulli]
