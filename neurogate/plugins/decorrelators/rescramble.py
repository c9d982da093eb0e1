"""``rescramble``: re-encode a stream through an independent generator, keeping its value.

XOR-ing a stream with random bits decorrelates it but destroys its value (``p`` becomes
``p + q - 2pq``). ``rescramble`` instead tracks how many ones it owes: a balance counter ``c``
(``0 .. 2**width``) goes up with every input one and down with every output one, and the output
is a fresh Bernoulli draw with probability ``c / 2**width`` from its own LFSR::

    u_t = s_{width * t}                        (the lfsr encoder's states, s_0 = seed:
                                                the LFSR steps ``width`` times per cycle)
    r_t = u_t >> (lfsr_width - width)          (the top ``width`` bits, 0 .. 2**width - 1)
    y_t = 1 if r_t < c_t else 0
    c_{t+1} = c_t + a_t - y_t                  (c_0 = 2**(width - 1))

``c`` never leaves ``0 .. 2**width``: at 0 the output is 0, at ``2**width`` it is 1. Since
``c_t - c_0`` is exactly the input ones minus the output ones so far, over every prefix ::

    |ones(y_0 .. y_{t-1}) - ones(a_0 .. a_{t-1})| <= 2**(width - 1)

At the edges: an all-ones input settles at ``c = 2**width`` and all-ones output; an all-zero
input gives at most ``2**(width - 1)`` ones (the initial balance) and then zeros. The balance
follows the input's recent ones density, so ``y`` has the input's value while its bits come
from the independent ``r``. A larger ``width`` averages over a longer history, so less of the
input's short-range structure leaks through, at the price of a looser bound (against a 16-bit
LFSR stream, ``width=7`` leaves an SCC within about +-0.05, ``width=5`` about 0.08). The output
is registered (latency 1), and ``y_t`` depends on inputs before step ``t`` only.

>>> import neurogate as ng
>>> rs = ng.component("rescramble", width=2, lfsr_width=4, seed=0b1000)
>>> model = rs.model()
>>> model.run({"a": [1, 1, 1, 1, 0, 0, 0, 0]})["y"][:, 0].tolist()
[0, 1, 1, 1, 1, 0, 0, 0]
>>> model.balance.tolist()  # c_8 = c_0 + 4 ones in - 4 ones out
[2]
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Module, Signal

from neurogate.core.component import Component, Gateware, Int, Model, Optional, Param, Port
from neurogate.core.hookspecs import hookimpl

from ._lfsr_source import check_seed, leap_hdl, leaped_states, lfsr_key, spread_seed

__all__ = ["Rescramble"]


class Rescramble(Component):
    """Value-preserving re-encoder: a ones-balance counter compared with independent random bits.

    Members
    -------
    a : in, 1
        The input bitstream.
    y : out, 1
        1 when the random number is below the balance; registered.
    """

    name = "rescramble"
    kind = "decorrelator"

    width = Param(5, Int(1, 16), "random-number bits; the balance counts 0..2**width")
    lfsr_width = Param(16, Int(3, 32), "width of the LFSR (maximal taps)")
    seed = Param(
        None, Optional(Int()), "LFSR state s_0, nonzero (default: 0xACE1 masked to lfsr_width)"
    )

    def validate(self):
        check_seed(self, "lfsr_width")
        if self.lfsr_width < self.width:
            raise ValueError(
                f"rescramble.lfsr_width must be >= width = {self.width}, not {self.lfsr_width!r}"
            )

    @property
    def initial_balance(self) -> int:
        """The balance after reset, ``c_0 = 2**(width - 1)``."""
        return 1 << (self.width - 1)

    @property
    def ports(self):
        return {
            "a": Port("in", 1, False, "input bitstream"),
            "y": Port("out", 1, False, "re-encoded bitstream"),
        }

    @property
    def latency(self):
        return 1

    def sequence_key(self):
        """The LFSR: the ``lfsr`` encoder's key for the same width and seed."""
        return lfsr_key(self.lfsr_width, self.seed)

    def allocate_seed(self, index):
        """Use the ``lfsr`` encoder's ``index``-th seed allocation for ``lfsr_width``."""
        return self.replace(seed=spread_seed(self.lfsr_width, index))

    def randoms(self, count: int, start: int = 0) -> np.ndarray:
        """Return ``r_start .. r_{start+count-1}`` as an ``int64`` array."""
        u = leaped_states(self.lfsr_width, self.seed, self.width, count, start)
        return (u >> np.uint64(self.lfsr_width - self.width)).astype(np.int64)

    def model(self, n=1):
        return RescrambleModel(self, n)

    def create(self):
        return RescrambleGateware(self)


class RescrambleModel(Model):
    """Bit-true model of :class:`Rescramble`.

    ``balance`` is the counter ``c`` of each instance, an ``(n,)`` ``int64`` array,
    ``2**(width - 1)`` after :meth:`reset`.
    """

    def reset(self):
        self.balance = np.full(self.n, self.component.initial_balance, dtype=np.int64)
        self._t = 0

    #: Up to this many instances, step each one with Python integers (faster than NumPy calls
    #: on tiny arrays); above it, step all instances at once with NumPy.
    SCALAR_MAX_N = 4

    def _run(self, inputs, steps):
        p = self.component
        r = p.randoms(steps, self._t)
        self._t = (self._t + steps) % ((1 << p.lfsr_width) - 1)
        a = inputs["a"]
        if self.n <= self.SCALAR_MAX_N:
            return {"y": self._run_scalar(a, r.tolist())}
        y = np.empty((steps, self.n), dtype=np.uint8)
        a = a.astype(np.int64)
        c = self.balance.copy()
        for t in range(steps):  # the balance is a nonlinear recurrence over time
            out = c > r[t]
            y[t] = out
            c += a[t]
            c -= out
        self.balance = c
        return {"y": y}

    def _run_scalar(self, a, r):
        y = np.empty((len(r), self.n), dtype=np.uint8)
        for i in range(self.n):
            c, column = int(self.balance[i]), []
            for rt, at in zip(r, a[:, i].tolist(), strict=True):
                out = c > rt
                column.append(out)
                c += at - out
            y[:, i] = column
            self.balance[i] = c
        return y


class RescrambleGateware(Gateware):
    """Gateware of :class:`Rescramble` (ports as in its Members section)."""

    def elaborate(self, platform):
        m = Module()
        p = self.params
        u = Signal(p.lfsr_width, init=p.seed)
        c = Signal(p.width + 1, init=p.initial_balance)
        out = Signal()
        m.d.comb += out.eq(u[p.lfsr_width - p.width :] < c)
        m.d.sync += [
            u.eq(leap_hdl(u, p.lfsr_width, p.width)),
            self.y.eq(out),
            c.eq(c + self.a - out),
        ]
        return m


@hookimpl
def neurogate_register_components():
    return [Rescramble]
