"""``regen``: regeneration decorrelator: count a window of the input, then re-encode the count.

Time is cut into windows of ``W = 2**width`` cycles (window ``j`` is steps ``j*W .. j*W + W-1``,
phase ``p = t mod W``). During window ``j`` the component counts the input's ones,
``C_j = a_{jW} + ... + a_{jW+W-1}`` (``0 <= C_j <= W``), and meanwhile re-encodes the previous
window's count with its own ``width``-bit LFSR comparator::

    r_0 = 0,   r_p = s_{p-1} for p = 1 .. W-1   (s: the lfsr encoder's states, s_0 = seed)
    y_t = 1 if r_p < C_{j-1} else 0            (t = j*W + p;  C_{-1} = 0)

The LFSR steps on phases ``1 .. W-1`` only and holds on phase 0, where the comparator sees 0
instead: its period is ``W - 1``, so every window's ``r_0 .. r_{W-1}`` is a permutation of
``0 .. W-1`` and the value is re-encoded exactly, with a latency of one window::

    ones(y over window j + 1) == C_j            (and the first window's output is all zeros)

At the edges: an all-zero window gives an all-zero next window, an all-ones window an all-ones
next window. The output is registered (latency 1: row ``t`` above is sampled one cycle after
the input of step ``t``). The output depends on the input only through the window counts: the
order of the input's bits, and so its correlation with other streams, is discarded, and the
output's bit order is that of the comparator's LFSR, the same in every window (streams that
share that LFSR, or that repeat in step with the window, stay correlated with it).

>>> import neurogate as ng
>>> rg = ng.component("regen", width=3, seed=1)
>>> rg.comparands().tolist()  # r_0 .. r_7
[0, 1, 2, 5, 3, 7, 6, 4]
>>> a = [1, 0, 1, 0, 1, 1, 1, 0] + [1] * 8 + [0] * 8
>>> y = rg.model().run({"a": a})["y"][:, 0].tolist()
>>> y[:8], y[8:16], y[16:]
([0, 0, 0, 0, 0, 0, 0, 0], [1, 1, 1, 0, 1, 0, 0, 1], [1, 1, 1, 1, 1, 1, 1, 1])
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Module, Mux, Signal

from neurogate.core.component import Component, Gateware, Int, Model, Optional, Param, Port
from neurogate.core.hookspecs import hookimpl
from neurogate.plugins.encoders.lfsr import MAXIMAL_TAPS, lfsr_states, lfsr_step_hdl

from ._lfsr_source import check_seed, lfsr_key, spread_seed

__all__ = ["Regen"]


class Regen(Component):
    """Count the ones of each ``2**width``-cycle window; re-encode the count during the next.

    Members
    -------
    a : in, 1
        The input bitstream.
    y : out, 1
        The previous window's count, re-encoded by an LFSR comparator; registered.
    """

    name = "regen"
    kind = "decorrelator"

    width = Param(8, Int(3, 16), "counter and LFSR width; the window is 2**width cycles")
    seed = Param(None, Optional(Int()), "LFSR state s_0, nonzero (default: 0xACE1 masked to width)")

    def validate(self):
        check_seed(self, "width")

    @property
    def window(self) -> int:
        """The window length in cycles, ``2**width``."""
        return 1 << self.width

    @property
    def ports(self):
        return {
            "a": Port("in", 1, False, "input bitstream"),
            "y": Port("out", 1, False, "previous window's count, re-encoded"),
        }

    @property
    def latency(self):
        return 1

    def sequence_key(self):
        """The comparator's LFSR: the ``lfsr`` encoder's key for the same width and seed."""
        return lfsr_key(self.width, self.seed)

    def allocate_seed(self, index):
        """Use the ``lfsr`` encoder's ``index``-th seed allocation for ``width``."""
        return self.replace(seed=spread_seed(self.width, index))

    def comparands(self) -> np.ndarray:
        """Return ``r_0 .. r_{W-1}``, the comparator's numbers in every window (``int64``)."""
        states = lfsr_states(self.width, MAXIMAL_TAPS[self.width], self.seed, self.window - 1)
        return np.concatenate([[0], states.astype(np.int64)])

    def model(self, n=1):
        return RegenModel(self, n)

    def create(self):
        return RegenGateware(self)


class RegenModel(Model):
    """Bit-true model of :class:`Regen`.

    ``count`` is the count being re-encoded (``C_{j-1}``) and ``acc`` the ones counted so far
    in the current window, both ``(n,)`` ``int64`` arrays, zeros after :meth:`reset`.
    """

    def reset(self):
        self.count = np.zeros(self.n, dtype=np.int64)
        self.acc = np.zeros(self.n, dtype=np.int64)
        self._t = 0
        self._r = self.component.comparands()

    def _run(self, inputs, steps):
        w = self.component.window
        if steps == 0:
            return {"y": np.zeros((0, self.n), dtype=np.uint8)}
        t0, end = self._t, self._t + steps  # positions relative to the current window's start
        # Ones of each window this run touches (the first one continues the accumulator).
        starts = np.arange(-t0 % w, steps, w)
        if not len(starts) or starts[0] != 0:
            starts = np.concatenate([[0], starts])
        sums = np.add.reduceat(inputs["a"], starts, axis=0, dtype=np.int64)
        sums[0] += self.acc
        using = np.concatenate([self.count[None], sums[:-1]])  # C_{j-1} for each window
        # Compare window by window (comparands x windows x instances), then cut out this run.
        y = self._r[None, :, None] < using[:, None, :]
        y = y.reshape(-1, self.n)[t0:end].view(np.uint8)
        if end % w == 0:
            self.count, self.acc = sums[-1], np.zeros(self.n, dtype=np.int64)
        else:
            self.count, self.acc = using[-1], sums[-1]
        self._t = end % w
        return {"y": y}


class RegenGateware(Gateware):
    """Gateware of :class:`Regen` (ports as in its Members section)."""

    def elaborate(self, platform):
        m = Module()
        p = self.params
        phase = Signal(p.width)
        acc = Signal(p.width + 1)  # ones so far in this window
        count = Signal(p.width + 1)  # the previous window's ones, being re-encoded
        s = Signal(p.width, init=p.seed)
        first = phase == 0
        m.d.sync += [
            phase.eq(phase + 1),
            self.y.eq(Mux(first, 0, s) < count),
        ]
        with m.If(~first):
            m.d.sync += s.eq(lfsr_step_hdl(s, MAXIMAL_TAPS[p.width]))
        with m.If(phase == p.window - 1):
            m.d.sync += [count.eq(acc + self.a), acc.eq(0)]
        with m.Else():
            m.d.sync += acc.eq(acc + self.a)
        return m


@hookimpl
def neurogate_register_components():
    return [Regen]
