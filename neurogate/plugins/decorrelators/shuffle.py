"""``shuffle``: shuffle-buffer decorrelator that keeps the number of ones exactly.

A buffer of ``depth = 2**d`` bits (Lee, Alaghi, Ceze, "Correlation manipulating circuits for
stochastic computing", DATE 2018). Each cycle a pseudo-random slot is read out and the input
bit takes its place (read before write)::

    u_t   = s_{d * t}                        (the lfsr encoder's states, s_0 = seed:
                                              the LFSR steps d times per cycle)
    i_t   = u_t >> (lfsr_width - d)          (the top d bits: the slot of cycle t)
    y_t   = buf_t[i_t]
    buf_{t+1} = buf_t with slot i_t replaced by a_t

The buffer resets to zeros (``buf_0 = 0``). The output is registered (latency 1), and a bit
written at step ``t`` can come out at step ``t + 1`` at the earliest. Nothing is created or
lost: over any ``T`` steps ::

    ones(y_0 .. y_{T-1}) + ones(buf_T) == ones(a_0 .. a_{T-1}) + ones(buf_0)

so the ones out trail the ones in by at most ``depth``. The stream's bits are reordered by an
independent source, which breaks its correlation with streams from the same generator. A bit
stays in the buffer for ``depth`` cycles on average, so a deeper buffer also breaks correlation
at longer range (an LFSR stream's bits are related over about its width in cycles; against a
16-bit LFSR stream, ``depth=64`` leaves an SCC within about +-0.05, ``depth=16`` about 0.1) but
holds back more ones (about ``p * depth`` of a stream of value ``p``).

>>> import neurogate as ng
>>> sh = ng.component("shuffle", depth=4, lfsr_width=4, seed=0b1000)
>>> model = sh.model()
>>> model.run({"a": [1, 1, 1, 1, 0, 0, 0, 0]})["y"][:, 0].tolist()
[0, 0, 1, 0, 1, 0, 0, 0]
>>> model.buffer.tolist()  # slots 0..3 of the one instance: 2 + 2 == 4 + 0 ones
[[1, 1, 0, 0]]
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Module, Signal

from neurogate.core.component import Component, Gateware, Int, Model, Optional, Param, Port
from neurogate.core.hookspecs import hookimpl

from ._lfsr_source import check_seed, leap_hdl, leaped_states, lfsr_key, spread_seed

__all__ = ["Shuffle"]


class _PowerOfTwo:
    """Rule: a power of two in ``2..1024``."""

    def describe(self) -> str:
        return "a power of two in 2..1024"

    def __call__(self, where, value):
        value = Int()(where, value)
        if not 2 <= value <= 1024 or value & (value - 1):
            raise ValueError(f"{where} must be {self.describe()}, not {value!r}")
        return value


class Shuffle(Component):
    """Shuffle buffer of ``depth`` bits with slots chosen by an internal LFSR.

    Members
    -------
    a : in, 1
        The input bitstream, written into the slot read this cycle.
    y : out, 1
        The bit read from the buffer; registered.
    """

    name = "shuffle"
    kind = "decorrelator"

    depth = Param(16, _PowerOfTwo(), "buffer bits, a power of two")
    lfsr_width = Param(16, Int(3, 32), "width of the slot-choosing LFSR (maximal taps)")
    seed = Param(
        None, Optional(Int()), "LFSR state s_0, nonzero (default: 0xACE1 masked to lfsr_width)"
    )

    def validate(self):
        check_seed(self, "lfsr_width")
        if self.lfsr_width < self.index_bits:
            raise ValueError(
                f"shuffle.lfsr_width must be >= log2(depth) = {self.index_bits}, "
                f"not {self.lfsr_width!r}"
            )

    @property
    def index_bits(self) -> int:
        """Bits of a slot index, ``log2(depth)``; the LFSR steps this many times per cycle."""
        return self.depth.bit_length() - 1

    @property
    def ports(self):
        return {
            "a": Port("in", 1, False, "input bitstream"),
            "y": Port("out", 1, False, "bit read from a pseudo-random slot"),
        }

    @property
    def latency(self):
        return 1

    def sequence_key(self):
        """The slot-choosing LFSR: the ``lfsr`` encoder's key for the same width and seed."""
        return lfsr_key(self.lfsr_width, self.seed)

    def allocate_seed(self, index):
        """Use the ``lfsr`` encoder's ``index``-th seed allocation for ``lfsr_width``."""
        return self.replace(seed=spread_seed(self.lfsr_width, index))

    def slots(self, count: int, start: int = 0) -> np.ndarray:
        """Return the slots ``i_start .. i_{start+count-1}`` as an ``int64`` array."""
        d = self.index_bits
        u = leaped_states(self.lfsr_width, self.seed, d, count, start)
        return (u >> np.uint64(self.lfsr_width - d)).astype(np.int64)

    def model(self, n=1):
        return ShuffleModel(self, n)

    def create(self):
        return ShuffleGateware(self)


class ShuffleModel(Model):
    """Bit-true model of :class:`Shuffle`.

    ``buffer`` is the buffer of each instance, an ``(n, depth)`` ``uint8`` array (slot ``i`` in
    column ``i``), all zeros after :meth:`reset`.
    """

    def reset(self):
        self.buffer = np.zeros((self.n, self.component.depth), dtype=np.uint8)
        self._t = 0

    def _run(self, inputs, steps):
        p = self.component
        slot = p.slots(steps, self._t)
        self._t = (self._t + steps) % ((1 << p.lfsr_width) - 1)
        a = inputs["a"].astype(np.uint8)
        # y_t is the bit written at the last earlier step that chose the same slot, or the
        # buffer's content when no step of this run did: sort the steps by slot (stably), and
        # each step's predecessor in that order is its writer when the slots match.
        order = np.argsort(slot, kind="stable")
        ordered = slot[order]
        same = np.zeros(steps, dtype=bool)
        same[1:] = ordered[1:] == ordered[:-1]
        prev = np.full(steps, -1, dtype=np.int64)
        prev[order[same]] = order[np.flatnonzero(same) - 1]
        written = prev >= 0
        y = np.empty((steps, self.n), dtype=np.uint8)
        y[written] = a[prev[written]]
        y[~written] = self.buffer[:, slot[~written]].T
        # The last write to each slot stays in the buffer.
        last = np.ones(steps, dtype=bool)
        last[:-1] = ordered[1:] != ordered[:-1]
        self.buffer[:, ordered[last]] = a[order[last]].T
        return {"y": y}


class ShuffleGateware(Gateware):
    """Gateware of :class:`Shuffle` (ports as in its Members section)."""

    def elaborate(self, platform):
        m = Module()
        p = self.params
        d = p.index_bits
        u = Signal(p.lfsr_width, init=p.seed)
        buf = Signal(p.depth)
        slot = u[p.lfsr_width - d :]
        m.d.sync += [
            u.eq(leap_hdl(u, p.lfsr_width, d)),
            self.y.eq(buf.bit_select(slot, 1)),
            buf.bit_select(slot, 1).eq(self.a),
        ]
        return m


@hookimpl
def neurogate_register_components():
    return [Shuffle]
