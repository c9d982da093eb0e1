"""``burst``: burst code, a burst of spikes at the start of each window, its length coding ``x``.

Time is divided into windows of ``window`` steps, the first starting at step 0 after reset. The
input ``x`` (unsigned ``width`` bits, full scale ``F = 2**width - 1``) is sampled on the first
step of each window and ignored on the others. The burst length is ``x * max_burst / F``
rounded to the nearest integer (there are no ties: ``F`` is odd)::

    n(x) = floor((2 * x * max_burst + F) / (2 * F))

and the window's spikes fall on phases (0-based steps within the window)
``0, isi, 2 * isi, ..., (n - 1) * isi``; every other step of the window is silent. The
longest burst must fit: ``window >= (max_burst - 1) * isi + 1``.

Edges: ``x = 0`` is silent; ``x = F`` gives exactly ``max_burst`` spikes. Reset: phase 0 (a
window starts at step 0). The output is registered (latency 1): row ``t`` of the model is the
spike of step ``t``. (The gateware compares ``2 * x * max_burst - F`` with ``2 * F * j`` at the
``j``-th slot instead of dividing.)

>>> import neurogate as ng
>>> enc = ng.component("burst", width=4, window=8, max_burst=3, isi=2)   # n = round(x / 5)
>>> x = [15] * 8 + [7] * 8 + [2] * 8
>>> enc.model().run({"x": x})["spike"][:, 0].reshape(3, 8).tolist()
[[1, 0, 1, 0, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0]]
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Module, Mux, Signal, signed

from neurogate.core.component import Component, Gateware, Int, Model, Param, Port, bits_for
from neurogate.core.hookspecs import hookimpl
from neurogate.plugins.encoders._temporal import WindowClock, held, window_phase_hdl

__all__ = ["BurstEncoder"]


class BurstEncoder(Component):
    """Burst code: ``round(x * max_burst / F)`` spikes, ``isi`` steps apart, per window.

    Members
    -------
    x : in, unsigned ``width``
        The value to encode, sampled on the first step of each window.
    spike : out, 1
        The spike train, registered.
    """

    name = "burst"
    kind = "encoder"

    width = Param(8, Int(1, 32), "bits of x")
    window = Param(16, Int(1, 65536), "steps per window (one burst per window)")
    max_burst = Param(4, Int(1, 65536), "spikes in the burst for full-scale x")
    isi = Param(2, Int(1, 65536), "steps from one spike of a burst to the next")

    def validate(self):
        need = (self.max_burst - 1) * self.isi + 1
        if self.window < need:
            raise ValueError(
                f"burst.window must be >= (max_burst - 1) * isi + 1 = {need}, not {self.window!r}"
            )

    def burst_length(self, x):
        """Return ``n(x)``, the number of spikes coding ``x`` (an int or int array)."""
        full = (1 << self.width) - 1
        return (2 * np.asarray(x, dtype=np.int64) * self.max_burst + full) // (2 * full)

    @property
    def ports(self):
        return {
            "x": Port("in", self.width, False, "value to encode"),
            "spike": Port("out", 1, False, "spike train"),
        }

    @property
    def latency(self):
        return 1

    def model(self, n=1):
        return BurstModel(self, n)

    def create(self):
        return BurstGateware(self)


class BurstModel(Model):
    """Bit-true model of :class:`BurstEncoder` (closed form over the window phases)."""

    def reset(self):
        self._clock = WindowClock(self.component.window)
        self._len = np.zeros(self.n, dtype=np.int64)

    def _run(self, inputs, steps):
        p = self.component
        k, starts, which = self._clock.advance(steps)
        length = held(self._len, p.burst_length(inputs["x"][starts]), which)
        if steps:
            self._len = length[-1].copy()
        slot, index = np.divmod(k, p.isi)
        spike = (index == 0)[:, None] & (slot[:, None] < length)
        return {"spike": spike.view(np.uint8)}


class BurstGateware(Gateware):
    """Gateware of :class:`BurstEncoder` (ports as in its Members section).

    Slot ``j`` of a window (phase ``j * isi``) spikes while ``2 * x * max_burst - F - 2 * F * j
    >= 0``: a remainder ``r`` is loaded with ``2 * x * max_burst - F`` and loses ``2 * F`` per
    spike, so no division is needed and ``r`` stays in ``[-2 * F, 2 * F * max_burst - F]``. On
    the first step (slot 0) the decision is the constant comparison
    ``x >= ceil(F / (2 * max_burst))``.
    """

    def elaborate(self, platform):
        m = Module()
        p = self.params
        full = (1 << p.width) - 1
        _, first = window_phase_hdl(m, p.window)
        r_shape = signed(bits_for(2 * full * p.max_burst) + 1)
        r, start = Signal(r_shape), Signal(r_shape)
        # Unsigned operands: the difference wraps, and the signed signal reads it back exactly.
        m.d.comb += start.eq(2 * p.max_burst * self.x - full)
        leads = self.x >= -(-full // (2 * p.max_burst))
        if p.isi == 1:
            slot = 1
        else:
            c = Signal(range(p.isi))  # phase modulo isi, on the steps after the first
            slot = c == 0
            with m.If(first):
                m.d.sync += c.eq(1)
            with m.Else():
                m.d.sync += c.eq(Mux(c == p.isi - 1, 0, c + 1))
        fire = Signal()
        m.d.comb += fire.eq(slot & (r >= 0))
        m.d.sync += self.spike.eq(Mux(first, leads, fire))
        with m.If(first):
            m.d.sync += r.eq(Mux(leads, start - 2 * full, start))
        with m.Elif(fire):
            m.d.sync += r.eq(r - 2 * full)
        return m


@hookimpl
def neurogate_register_components():
    return [BurstEncoder]
