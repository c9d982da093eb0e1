"""``sigma_delta``: first-order sigma-delta modulator (rounding quantiser), unipolar or bipolar.

The input ``x`` is ``width`` bits: unsigned (``bipolar=False``, the default; ``u_t = x_t``) or
two's complement (``bipolar=True``; ``u_t = x_t + 2**(width - 1)``, so ``x = -2**(width - 1)``
maps to 0 and ``x = 2**(width - 1) - 1`` to ``2**width - 1``). Every step is one clock cycle;
the output is registered (latency 1). There is no window: ``x`` is used on every step.

The integrator ``e`` (the running quantisation error, reset to 0) and the one-bit quantiser,
whose threshold is half of the feedback ``2**width``::

    s_t       = e_t + u_t
    spike_t   = 1 if s_t >= 2**(width - 1) else 0
    e_{t+1}   = s_t - spike_t * 2**width           (stays in [-2**(width-1), 2**(width-1)))

Summing the recurrence, after steps ``0 .. t`` the number of spikes is the sum of the inputs in
units of ``2**width``, **rounded** half up::

    N_t = floor((u_0 + ... + u_t + 2**(width - 1)) / 2**width)

so the spike density is ``u / 2**width`` and the running count is never more than half a
spike from the ideal, however ``x`` varies. (The ``rate`` encoder is the same error-feedback
loop with the threshold at ``2**width``: it truncates, its count lags the ideal by up to one
spike. A first-order sigma-delta modulator and a phase accumulator are the same circuit; the
hardware here is a ``width``-bit accumulator holding ``e + 2**(width - 1)``, reset to
``2**(width - 1)``, whose carry out is the spike.)

Edges, for ``u`` constant from reset: ``u = 0`` never spikes; ``u = 2**width - 1`` spikes on
every step except step ``2**(width - 1)`` of each ``2**width`` (the missing spike falls in the
middle of the period, not at its start as with ``rate``); ``u = 2**(width - 1)`` (bipolar
``x = 0``) spikes on every other step, starting at step 0.

>>> import neurogate as ng
>>> sd = ng.component("sigma_delta", width=3)
>>> sd.model().run({"x": [3] * 8})["spike"][:, 0].tolist()   # 3 spikes per 8 steps
[0, 1, 0, 1, 0, 0, 1, 0]
>>> sd.model().run({"x": [7] * 8})["spike"][:, 0].tolist()   # full scale
[1, 1, 1, 1, 0, 1, 1, 1]
>>> bi = ng.component("sigma_delta", width=3, bipolar=True)      # u = x + 4
>>> bi.model().run({"x": [-4, 0, 0, 3]})["spike"][:, 0].tolist()
[0, 1, 0, 1]
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Module, Signal

from neurogate.core.component import Bool, Component, Gateware, Int, Model, Param, Port
from neurogate.core.hookspecs import hookimpl
from neurogate.plugins.encoders._temporal import accumulate

__all__ = ["SigmaDeltaEncoder"]


class SigmaDeltaEncoder(Component):
    """First-order sigma-delta modulator: spike density ``u / 2**width``, count rounded.

    Members
    -------
    x : in, unsigned ``width`` (signed when ``bipolar``)
        The value to encode, used on every step.
    spike : out, 1
        The modulator's output bit, registered.
    """

    name = "sigma_delta"
    kind = "encoder"

    width = Param(8, Int(1, 32), "bits of x (and of the integrator)")
    bipolar = Param(False, Bool(), "x is two's complement, density (x + 2**(width-1)) / 2**width")

    @property
    def ports(self):
        return {
            "x": Port("in", self.width, self.bipolar, "value to encode"),
            "spike": Port("out", 1, False, "modulator output"),
        }

    @property
    def latency(self):
        return 1

    def model(self, n=1):
        return SigmaDeltaModel(self, n)

    def create(self):
        return SigmaDeltaGateware(self)


class SigmaDeltaModel(Model):
    """Bit-true model of :class:`SigmaDeltaEncoder` (closed form: a cumulative sum)."""

    def reset(self):
        # The accumulator holds e + 2**(width - 1).
        self._acc = np.full(self.n, 1 << (self.component.width - 1), dtype=np.int64)

    def _run(self, inputs, steps):
        p = self.component
        x = inputs["x"]
        if p.bipolar:
            x = x.astype(np.int64) + (1 << (p.width - 1))
        spike, self._acc = accumulate(self._acc, x, p.width)
        return {"spike": spike}


class SigmaDeltaGateware(Gateware):
    """Gateware of :class:`SigmaDeltaEncoder` (ports as in its Members section)."""

    def elaborate(self, platform):
        m = Module()
        p = self.params
        u = self.x.as_unsigned()
        if p.bipolar:  # adding 2**(width - 1) modulo 2**width flips the sign bit
            u = u ^ (1 << (p.width - 1))
        acc = Signal(p.width, init=1 << (p.width - 1))
        total = acc + u  # width + 1 bits: the carry is the spike
        m.d.sync += [acc.eq(total[: p.width]), self.spike.eq(total[p.width])]
        return m


@hookimpl
def neurogate_register_components():
    return [SigmaDeltaEncoder]
