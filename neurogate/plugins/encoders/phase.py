"""``phase``: phase (bit-plane) code, one phase per significant bit, MSB first (Kim et al. 2018).

Time is divided into windows of ``phases`` steps, the first starting at step 0 after reset.
The input ``x`` (unsigned ``width`` bits) is sampled on the first step of each window and
ignored on the others. On phase ``k`` of the window (``k = 0 .. phases - 1``) the output is
bit ``width - 1 - k`` of the sampled value::

    spike at phase k  =  (x >> (width - 1 - k)) & 1

so phase ``k`` carries the weight ``2**(width - 1 - k)`` and a decoder recovers
``sum(spike_k << (width - 1 - k))``: ``x`` with its ``width - phases`` low bits cleared
(``phases = width``, the default, is lossless). This is the phase coding of Kim, Kim, Kim & Yoo,
"Deep neural networks with weighted spikes" (Neurocomputing 311, 2018), with the value's
weights on successive steps. Edges: ``x = 0`` is silent; ``x = 2**width - 1`` spikes on every
step of the window. Reset: phase 0 (a window starts at step 0). The output is registered
(latency 1): row ``t`` of the model is the spike of step ``t``.

>>> import neurogate as ng
>>> enc = ng.component("phase", width=4)                # window of 4 phases, weights 8 4 2 1
>>> x = [0b1011] * 4 + [0b0110] * 4 + [0, 1, 1, 1]
>>> enc.model().run({"x": x})["spike"][:, 0].tolist()
[1, 0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0]
>>> top2 = ng.component("phase", width=4, phases=2)      # windows of 2: bits 3 and 2 only
>>> top2.model().run({"x": [0b1011] * 4})["spike"][:, 0].tolist()
[1, 0, 1, 0]
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Cat, Const, Module, Signal

from neurogate.core.component import Component, Gateware, Int, Model, Optional, Param, Port
from neurogate.core.hookspecs import hookimpl
from neurogate.plugins.encoders._temporal import WindowClock, held, window_phase_hdl

__all__ = ["PhaseEncoder"]


class PhaseEncoder(Component):
    """Phase (bit-plane) code: phase ``k`` of each window carries bit ``width - 1 - k`` of ``x``.

    Members
    -------
    x : in, unsigned ``width``
        The value to encode, sampled on the first step of each window.
    spike : out, 1
        The spike train, registered.
    """

    name = "phase"
    kind = "encoder"

    width = Param(8, Int(1, 32), "bits of x")
    phases = Param(
        None, Optional(Int(1, 32)), "steps per window = top bits of x sent (default width)"
    )

    def validate(self):
        if self.phases is None:
            self._values["phases"] = self.width
        elif self.phases > self.width:
            raise ValueError(
                f"phase.phases must be None or an int in 1..{self.width} (width), "
                f"not {self.phases!r}"
            )

    @property
    def window(self) -> int:
        """Steps per window (equal to :attr:`phases`)."""
        return self.phases

    @property
    def ports(self):
        return {
            "x": Port("in", self.width, False, "value to encode"),
            "spike": Port("out", 1, False, "spike train, MSB first"),
        }

    @property
    def latency(self):
        return 1

    def model(self, n=1):
        return PhaseModel(self, n)

    def create(self):
        return PhaseGateware(self)


class PhaseModel(Model):
    """Bit-true model of :class:`PhaseEncoder` (closed form over the window phases)."""

    def reset(self):
        self._clock = WindowClock(self.component.window)
        self._x = np.zeros(self.n, dtype=np.int64)

    def _run(self, inputs, steps):
        p = self.component
        k, starts, which = self._clock.advance(steps)
        xs = held(self._x, inputs["x"][starts], which)
        if steps:
            self._x = xs[-1].copy()
        return {"spike": ((xs >> (p.width - 1 - k)[:, None]) & 1).astype(np.uint8)}


class PhaseGateware(Gateware):
    """Gateware of :class:`PhaseEncoder`: a shift register loaded on each window's first step."""

    def elaborate(self, platform):
        m = Module()
        p = self.params
        _, first = window_phase_hdl(m, p.window)
        rest = Signal(p.width)  # the bits still to send, MSB at the top
        with m.If(first):
            m.d.sync += [
                self.spike.eq(self.x[-1]),
                rest.eq(Cat(Const(0, 1), self.x[:-1])),
            ]
        with m.Else():
            m.d.sync += [
                self.spike.eq(rest[-1]),
                rest.eq(Cat(Const(0, 1), rest[:-1])),
            ]
        return m


@hookimpl
def neurogate_register_components():
    return [PhaseEncoder]
