"""``delta``: delta (send-on-change) code with ``up``/``down`` spikes and a tracking reference.

The input ``x`` (unsigned ``width`` bits) is used on every step; there is no window. The
encoder keeps a reference ``r`` (reset to 0), the value a receiver reconstructs by adding
``threshold`` per ``up`` spike and subtracting it per ``down`` spike. Per step::

    if   x_t - r_t >= threshold:  up_t = 1;  r_{t+1} = r_t + threshold
    elif r_t - x_t >= threshold:  down_t = 1;  r_{t+1} = r_t - threshold
    else:                         no spike;   r_{t+1} = r_t

At most one spike per step: a jump of ``d`` is sent as ``floor(|d| / threshold)`` spikes on
successive steps (slope-limited tracking, as a delta modulator), not as one spike that loses the
size of the change. Afterwards ``|x - r| < threshold``: ``x`` may wander by up to
``threshold - 1`` around ``r`` without spikes (the dead band). ``r`` never leaves
``0 .. 2**width - 1`` (it moves towards ``x`` only while at least ``threshold`` away from it), so
``r_t = threshold * (ups - downs so far)`` exactly.

Edges, from reset: ``x = 0`` never spikes (``r`` starts at 0); full scale
``x = F = 2**width - 1`` sends ``floor(F / threshold)`` ``up`` spikes on steps ``0, 1, ...``
and then stays silent at ``r = threshold * floor(F / threshold)``. The outputs are registered
(latency 1): after step ``t``, ``up``/``down`` show the spikes of step ``t`` and ``ref`` shows
``r_{t+1}``.

>>> import neurogate as ng
>>> enc = ng.component("delta", width=4, threshold=4)
>>> out = enc.model().run({"x": [10, 10, 10, 10, 3, 3, 3, 15]})
>>> [out[k][:, 0].tolist() for k in ("up", "down", "ref")]
[[1, 1, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 1, 0, 0, 0], [4, 8, 8, 8, 4, 4, 4, 8]]
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Module, Signal

from neurogate.core.component import Component, Gateware, Int, Model, Param, Port
from neurogate.core.hookspecs import hookimpl

__all__ = ["DeltaEncoder"]


class DeltaEncoder(Component):
    """Delta code: an ``up`` or ``down`` spike when ``x`` is ``threshold`` away from ``ref``.

    Members
    -------
    x : in, unsigned ``width``
        The value to encode, used on every step.
    up : out, 1
        1 when ``x`` was at least ``threshold`` above the reference; registered.
    down : out, 1
        1 when ``x`` was at least ``threshold`` below the reference; registered.
    ref : out, unsigned ``width``
        The reference after the step (what a receiver has reconstructed); registered.
    """

    name = "delta"
    kind = "encoder"

    width = Param(8, Int(1, 32), "bits of x and of the reference")
    threshold = Param(8, Int(1), "change of x (and step of the reference) per spike")

    def validate(self):
        full = (1 << self.width) - 1
        if self.threshold > full:
            raise ValueError(
                f"delta.threshold must be an int in 1..{full} (2**width - 1), "
                f"not {self.threshold!r}"
            )

    @property
    def ports(self):
        return {
            "x": Port("in", self.width, False, "value to encode"),
            "up": Port("out", 1, False, "x rose by threshold"),
            "down": Port("out", 1, False, "x fell by threshold"),
            "ref": Port("out", self.width, False, "reference after the step"),
        }

    @property
    def latency(self):
        return 1

    def model(self, n=1):
        return DeltaModel(self, n)

    def create(self):
        return DeltaGateware(self)


class DeltaModel(Model):
    """Bit-true model of :class:`DeltaEncoder` (a loop over time, vectorised over instances)."""

    def reset(self):
        self._r = np.zeros(self.n, dtype=np.int64)

    def _run(self, inputs, steps):
        th = self.component.threshold
        x = inputs["x"].astype(np.int64)
        up = np.empty(x.shape, dtype=np.uint8)
        down = np.empty(x.shape, dtype=np.uint8)
        ref = np.empty(x.shape, dtype=np.int64)
        r = self._r
        for t in range(steps):
            d = x[t] - r
            u = d >= th
            v = d <= -th
            r = r + th * (u.astype(np.int64) - v)
            up[t], down[t], ref[t] = u, v, r
        self._r = r
        return {"up": up, "down": down, "ref": ref}


class DeltaGateware(Gateware):
    """Gateware of :class:`DeltaEncoder` (ports as in its Members section)."""

    def elaborate(self, platform):
        m = Module()
        th = self.params.threshold
        r = self.ref  # the registered reference is the output itself (reset 0)
        up, down = Signal(), Signal()
        # Unsigned comparisons with widened sums: no wrap-around.
        m.d.comb += [up.eq(self.x >= r + th), down.eq(r >= self.x + th)]
        m.d.sync += [self.up.eq(up), self.down.eq(down)]
        with m.If(up):
            m.d.sync += r.eq(r + th)
        with m.Elif(down):
            m.d.sync += r.eq(r - th)
        return m


@hookimpl
def neurogate_register_components():
    return [DeltaEncoder]
