"""``latency``: time-to-first-spike code, one spike per window, earlier for larger values.

Time is divided into windows of ``window`` steps, the first starting at step 0 after reset. The
input ``x`` (unsigned ``width`` bits, full scale ``F = 2**width - 1``) is sampled on the first
step of each window and ignored on the others. Within the window, at most one spike occurs, on
the step with phase (0-based index within the window)::

    k*(x) = floor((F - x) * window / 2**width)

``F - x`` is ``x`` with its bits inverted, so this is a uniform quantiser: each of the
``window`` phases codes an equal share (``2**width / window`` values, when ``window`` divides
``2**width``) of the input range, largest values first. (Mapping ``F`` and ``0`` exactly onto
the first and last steps, ``floor((F - x) * (window - 1) / F)``, would give those two steps
half a share each; the form here also needs no divider: for a power-of-two ``window`` it is
just the top ``log2(window)`` bits of ``~x``.)

Edges: ``x = F`` spikes on the window's first step (phase 0, the same step it is sampled on);
``x = 0`` maps to phase ``floor(F * window / 2**width)``, which is ``window - 1`` whenever
``window <= 2**width``, and spikes there only if ``zero_spikes=True`` (by default a zero input
is silent, so "no spike" means zero). When ``window > 2**width`` the phases after
``k*(0)`` are never used. Reset: phase 0 (a window starts at step 0). The output is registered
(latency 1): row ``t`` of the model is the spike of step ``t``.

>>> import neurogate as ng
>>> enc = ng.component("latency", width=4, window=4)          # phase = (15 - x) * 4 // 16
>>> x = [15] * 4 + [9] * 4 + [0] * 4 + [4, 15, 15, 15]        # sampled at steps 0, 4, 8, 12
>>> enc.model().run({"x": x})["spike"][:, 0].tolist()
[1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]
>>> enc.replace(zero_spikes=True).model().run({"x": [0] * 4})["spike"][:, 0].tolist()
[0, 0, 0, 1]
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Module, Mux, Signal

from neurogate.core.component import Bool, Component, Gateware, Int, Model, Param, Port, bits_for
from neurogate.core.hookspecs import hookimpl
from neurogate.plugins.encoders._temporal import WindowClock, held, window_phase_hdl

__all__ = ["LatencyEncoder"]


class LatencyEncoder(Component):
    """Time-to-first-spike code: one spike per window at phase ``(F - x) * window >> width``.

    Members
    -------
    x : in, unsigned ``width``
        The value to encode, sampled on the first step of each window.
    spike : out, 1
        The spike train, registered.
    """

    name = "latency"
    kind = "encoder"

    width = Param(8, Int(1, 32), "bits of x")
    window = Param(16, Int(1, 65536), "steps per window (one spike at most per window)")
    zero_spikes = Param(False, Bool(), "x = 0 spikes at phase k*(0) instead of staying silent")

    @property
    def ports(self):
        return {
            "x": Port("in", self.width, False, "value to encode"),
            "spike": Port("out", 1, False, "spike train"),
        }

    @property
    def latency(self):
        return 1

    def phase_of(self, x):
        """Return the phase ``k*(x)`` of the spike that codes ``x`` (an int or int array)."""
        full = (1 << self.width) - 1
        return ((full - np.asarray(x, dtype=np.int64)) * self.window) >> self.width

    def model(self, n=1):
        return LatencyModel(self, n)

    def create(self):
        return LatencyGateware(self)


class LatencyModel(Model):
    """Bit-true model of :class:`LatencyEncoder` (closed form over the window phases)."""

    def reset(self):
        self._clock = WindowClock(self.component.window)
        self._target = np.full(self.n, -1, dtype=np.int64)  # phase to spike at; -1: none

    def _run(self, inputs, steps):
        p = self.component
        k, starts, which = self._clock.advance(steps)
        xs = inputs["x"][starts]
        target = p.phase_of(xs)
        if not p.zero_spikes:
            target[xs == 0] = -1
        per_step = held(self._target, target, which)
        if steps:
            self._target = per_step[-1].copy()
        return {"spike": (per_step == k[:, None]).view(np.uint8)}


class LatencyGateware(Gateware):
    """Gateware of :class:`LatencyEncoder` (ports as in its Members section).

    On a window's first step the spike is a constant comparison (``k*(x) = 0`` exactly when
    ``x >= F - F // window``), so the multiplication only feeds the held target phase.
    """

    def elaborate(self, platform):
        m = Module()
        p = self.params
        full = (1 << p.width) - 1
        k, first = window_phase_hdl(m, p.window)
        nonzero = 1 if p.zero_spikes else self.x != 0
        leads = (self.x >= full - full // p.window) & nonzero
        target = Signal(bits_for(p.window - 1))
        fires = Signal()
        with m.If(first):
            m.d.sync += [target.eq(((~self.x) * p.window) >> p.width), fires.eq(nonzero)]
        m.d.sync += self.spike.eq(Mux(first, leads, fires & (k == target)))
        return m


@hookimpl
def neurogate_register_components():
    return [LatencyEncoder]
