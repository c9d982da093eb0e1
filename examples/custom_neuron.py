"""``iaf``: an integrate-and-fire neuron, written as a neurogate plugin.

This module is the worked example of ``docs/writing-a-component.rst``: one component (frozen,
validated parameters), its vectorised NumPy model, its Amaranth gateware and the one hookimpl
that registers it. It is a complete plugin: point a ``neurogate.plugins`` entry point at it.

Per step (raw ``width``-bit two's complement, exact sum, then ``fit``)::

    v_next = fit(v + current)                  (saturate at the range of ``width`` bits)
    if v_next >= threshold:  spike = 1;  v = 0  (reset="zero")
                                         v = v_next - threshold  (reset="subtract")
    else:                    spike = 0;  v = v_next

Reset state: ``v = 0``, ``spike = 0``. Both outputs are registered (latency 1).

Run it as a script to check the model against the gateware::

    python examples/custom_neuron.py
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Module, Signal

import neurogate as ng
from neurogate.core.component import Choice, Int, Param

__all__ = ["IntegrateAndFire"]


class IntegrateAndFire(ng.Component):
    """Integrate-and-fire neuron without leak, with a zero or subtractive reset.

    Members
    -------
    current : in, signed ``width``
        Input current, added to the membrane potential every step.
    spike : out, 1
        1 on the step the membrane potential reaches ``threshold``; registered.
    v : out, signed ``width``
        Membrane potential after the step; registered.
    """

    name = "iaf"
    kind = "neuron"

    width = Param(12, Int(2, 32), "bits of v and current")
    threshold = Param(100, Int(min=1), "spike when v + current >= this (raw)")
    reset = Param("zero", Choice("zero", "subtract"), "v after a spike: 0 or v - threshold")

    def validate(self):
        # Single-parameter rules ran already; this one involves two parameters.
        self.check_fits("threshold", self.v_format)

    @property
    def v_format(self) -> ng.FixedFormat:
        """The format of the membrane potential (``width`` bits, signed, saturating)."""
        return ng.FixedFormat(self.width, 0, signed=True, overflow="saturate")

    @property
    def ports(self):
        return {
            "current": ng.Port("in", self.width, True, "input current"),
            "spike": ng.Port("out", 1, False, "spike"),
            "v": ng.Port("out", self.width, True, "membrane potential"),
        }

    @property
    def latency(self):
        return 1

    def model(self, n=1):
        return IntegrateAndFireModel(self, n)

    def create(self):
        return IntegrateAndFireGateware(self)


class IntegrateAndFireModel(ng.Model):
    """Bit-true NumPy model of :class:`IntegrateAndFire`, vectorised over the instances."""

    def reset(self):
        self._v = np.zeros(self.n, dtype=np.int64)

    def _run(self, inputs, steps):
        p = self.component
        fmt = p.v_format
        current = inputs["current"]
        v = self._v
        out_v = np.empty((steps, self.n), dtype=np.int64)
        out_spike = np.empty((steps, self.n), dtype=np.uint8)
        for t in range(steps):  # time is sequential; the n instances are one array
            v = fmt.fit_array(v + current[t])
            spike = v >= p.threshold
            after = 0 if p.reset == "zero" else v - p.threshold
            v = np.where(spike, after, v)
            out_v[t], out_spike[t] = v, spike
        self._v = v
        return {"spike": out_spike, "v": out_v}


class IntegrateAndFireGateware(ng.Gateware):
    """Gateware of :class:`IntegrateAndFire` (ports as in its Members section)."""

    def elaborate(self, platform):
        m = Module()
        p = self.params
        v_next = Signal(p.v_format.shape)
        m.d.comb += v_next.eq(p.v_format.fit_value(self.v + self.current))
        with m.If(v_next >= p.threshold):
            after = 0 if p.reset == "zero" else v_next - p.threshold
            m.d.sync += [self.spike.eq(1), self.v.eq(after)]
        with m.Else():
            m.d.sync += [self.spike.eq(0), self.v.eq(v_next)]
        return m


@ng.hookimpl
def neurogate_register_components():
    return [IntegrateAndFire]


if __name__ == "__main__":
    for reset in ("zero", "subtract"):
        neuron = IntegrateAndFire(width=8, threshold=90, reset=reset)
        result = ng.sim.compare(neuron, steps=300, n=8, seed=1)
        print(f"{neuron!r}: {' == '.join(result.backends)}, {result.steps} steps x 8")
