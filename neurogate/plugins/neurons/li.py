"""``li``: fixed-point leaky integrator with an optional threshold and no reset.

Per step (raw ``data_width``-bit two's complement integers, ``>>`` an arithmetic shift,
products exact)::

    v = fit(v + (((v_rest - v) * leak_k) >> fraction) + ((current * gain_k) >> fraction))
    spike = v >= threshold            (never, when threshold is None)

``fit`` saturates (``overflow="saturate"``) or keeps the low ``data_width`` bits
(``overflow="wrap"``). The potential is **not** reset by a spike: the neuron is the read-out
of a network (its ``v`` is the output) or a comparator on a filtered signal. Reset state:
``v = v_rest``, ``spike = 0``. Outputs are registered (latency 1): this is the parallel wrapper
of :class:`~neurogate.core.neuron.NeuronKernel`.

Three settings of ``leak_k`` cover the non-spiking NIR neurons (:mod:`neurogate.core.nir`):

* ``0 < leak_k < 2**fraction``: a leaky integrator (NIR ``LI``), ``leak_k / 2**fraction``
  being ``dt / tau``;
* ``leak_k = 0``: a perfect integrator (NIR ``Integrator``);
* ``leak_k = 2**fraction`` (with ``v_rest = 0``): no memory at all, ``v = (current * gain_k)
  >> fraction`` each step, so ``spike`` is a plain comparator (NIR ``Threshold``).

``leak_k`` and ``gain_k`` must fit the signed ``data_width``-bit format, as ``v_rest`` and
``threshold`` do.

>>> import neurogate as ng
>>> li = ng.component("li", data_width=12, fraction=4, leak_k=4, gain_k=16, threshold=40)
>>> out = li.model(n=1).run({"current": [32, 32, 32, 32, 0, 0]})
>>> out["v"][:, 0].tolist(), out["spike"][:, 0].tolist()
([32, 56, 74, 87, 65, 48], [0, 1, 1, 1, 1, 1])
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Const, Signal, signed

from neurogate.core.component import Choice, Int, Optional, Param, Port
from neurogate.core.fixed import FixedFormat
from neurogate.core.hookspecs import hookimpl
from neurogate.core.neuron import NeuronKernel

__all__ = ["LI"]


class LI(NeuronKernel):
    """Leaky integrator with an optional threshold, no reset (see the module docstring).

    Members
    -------
    current : in, signed ``data_width``
        Input current, raw; scaled by ``gain_k / 2**fraction``.
    spike : out, 1
        1 on every step the potential is ``>= threshold`` (0 when ``threshold`` is None);
        registered.
    v : out, signed ``data_width``
        Potential after the step; registered.
    """

    name = "li"

    data_width = Param(16, Int(2, 32), "bits of v, current and the k parameters")
    fraction = Param(8, Int(0, 30), "fraction bits of leak_k and gain_k (Q format)")
    v_rest = Param(0, Int(), "potential the leak pulls towards, and the reset state (raw)")
    leak_k = Param(16, Int(), "leak factor dt/tau, Q(fraction): 0 none, 2**fraction total")
    gain_k = Param(256, Int(), "input gain, Q(fraction)")
    threshold = Param(None, Optional(Int()), "spike when v >= this (raw); None: never")
    overflow = Param("saturate", Choice("saturate", "wrap"), "policy when v leaves its range")

    def validate(self):
        raw = FixedFormat(self.data_width, 0, signed=True)
        for key in ("v_rest", "leak_k", "gain_k", "threshold"):
            if self._values[key] is not None:
                self.check_fits(key, raw)

    @property
    def v_format(self) -> FixedFormat:
        """The potential's format (``data_width`` bits, integer, ``overflow``)."""
        return FixedFormat(self.data_width, 0, signed=True, overflow=self.overflow)

    def state_fields(self):
        return {"v": Port("out", self.data_width, True, "potential after the step", self.v_rest)}

    def input_ports(self):
        return {"current": Port("in", self.data_width, True, "input current")}

    def update_np(self, state, inputs):
        # Products of two 32-bit values need 64 bits plus a sign: Python ints beyond 30 bits.
        exact = self.data_width > 30
        dtype = object if exact else np.int64
        v = np.asarray(state["v"]).astype(dtype)
        cur = np.asarray(inputs["current"]).astype(dtype)
        f = self.fraction
        x = v + (((self.v_rest - v) * self.leak_k) >> f) + ((cur * self.gain_k) >> f)
        x = self.v_format.fit_array(x).astype(np.int64)
        if self.threshold is None:
            return {"v": x}, np.zeros(x.shape, dtype=bool)
        return {"v": x}, x >= self.threshold

    def update_hdl(self, m, state, inputs):
        dw, f = self.data_width, self.fraction
        v = state["v"]
        leak = (Const(self.v_rest, signed(dw)) - v) * Const(self.leak_k, signed(dw))
        drive = inputs["current"] * Const(self.gain_k, signed(dw))
        total = Signal(signed(2 * dw + 3), name="total")
        m.d.comb += total.eq(v + (leak >> f) + (drive >> f))
        x = self.v_format.fit_value(total)
        if self.threshold is None:
            return {"v": x}, Const(0, 1)
        return {"v": x}, x >= self.threshold


@hookimpl
def neurogate_register_components():
    return [LI]
