"""``isolator``: a ``delay``-cycle delay line, the classic SC isolator.

Semantics (one clock cycle per step)::

    y_t = a_{t - delay}      for t >= delay
    y_t = 0                  for t < delay   (the delay line resets to zeros)

The gateware is ``delay`` flip-flops in a shift register and nothing else. The delay is the
component's function, so it shows in the model: ``y`` is the output of the last flip-flop,
which never depends on the current input, and the component declares latency 0 (no pipeline
register beyond the delay line itself). A delay keeps the value of a stream exactly (over any
prefix the ones out trail the ones in by at most ``delay``) and decorrelates it from streams
whose bits are independent at lag ``delay``: Bernoulli streams for any delay, LFSR streams only
for delays comparable to the LFSR width (its states shift by one bit per cycle).

>>> import neurogate as ng
>>> iso = ng.component("isolator", delay=2)
>>> iso.model().run({"a": [1, 1, 0, 1, 0, 0]})["y"][:, 0].tolist()
[0, 0, 1, 1, 0, 1]
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Cat, Module, Signal

from neurogate.core.component import Component, Gateware, Int, Model, Param, Port
from neurogate.core.hookspecs import hookimpl

__all__ = ["Isolator"]


class Isolator(Component):
    """A ``delay``-cycle delay line (``delay`` flip-flops), resetting to zeros.

    Members
    -------
    a : in, 1
        The input bitstream.
    y : out, 1
        ``a`` delayed by ``delay`` cycles; the last flip-flop of the line.
    """

    name = "isolator"
    kind = "decorrelator"

    delay = Param(1, Int(1, 4096), "cycles of delay (flip-flops in the line)")

    @property
    def ports(self):
        return {
            "a": Port("in", 1, False, "input bitstream"),
            "y": Port("out", 1, False, "input delayed by `delay` cycles"),
        }

    @property
    def latency(self):
        return 0

    def model(self, n=1):
        return IsolatorModel(self, n)

    def create(self):
        return IsolatorGateware(self)


class IsolatorModel(Model):
    """Bit-true model of :class:`Isolator`.

    ``line`` holds the last ``delay`` inputs of each instance, oldest first: an ``(delay, n)``
    ``uint8`` array, all zeros after :meth:`reset`.
    """

    def reset(self):
        self.line = np.zeros((self.component.delay, self.n), dtype=np.uint8)

    def _run(self, inputs, steps):
        a = inputs["a"].astype(np.uint8)
        both = np.concatenate([self.line, a])
        self.line = both[steps:].copy()
        return {"y": both[:steps]}


class IsolatorGateware(Gateware):
    """Gateware of :class:`Isolator` (ports as in its Members section)."""

    def elaborate(self, platform):
        m = Module()
        line = Signal(self.params.delay)  # bit i holds a_{t-1-i}
        m.d.sync += line.eq(Cat(self.a, line[:-1]))
        m.d.comb += self.y.eq(line[-1])
        return m


@hookimpl
def neurogate_register_components():
    return [Isolator]
