"""``if_neuron``: integrate-and-fire neuron as used by ANN-to-SNN conversion.

Per step (raw ``data_width``-bit two's complement integers)::

    x = fit(v + current)
    if x >= threshold:  spike = 1;  v = x - threshold   (reset="subtract")
                                    v = 0               (reset="zero")
    else:               spike = 0;  v = x

``fit`` saturates the sum to the signed ``data_width``-bit range (``overflow="saturate"``) or
keeps its low ``data_width`` bits (``overflow="wrap"``). There is no leak. ``threshold`` is in
``1 .. 2**(data_width-1) - 1`` (a larger one could never be reached), so after a spike
``x - threshold`` is in ``0 .. max - threshold`` and always fits. With ``current = 0`` the
neuron holds its potential; with full-scale ``current = max`` and saturation it fires every step.
Reset state: ``v = 0``, ``spike = 0``. Outputs are registered (latency 1): this is the parallel
wrapper of :class:`~neurogate.core.neuron.NeuronKernel`.

>>> import neurogate as ng
>>> neuron = ng.component("if_neuron", data_width=8, threshold=10)
>>> out = neuron.model(n=1).run({"current": [4, 4, 4, 4, 12]})
>>> out["v"][:, 0].tolist(), out["spike"][:, 0].tolist()
([4, 8, 2, 6, 8], [0, 0, 1, 0, 1])
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Mux

from neurogate.core.component import Choice, Int, Param, Port
from neurogate.core.fixed import FixedFormat
from neurogate.core.hookspecs import hookimpl
from neurogate.core.neuron import NeuronKernel

__all__ = ["IFNeuron"]


class IFNeuron(NeuronKernel):
    """Integrate-and-fire neuron, reset by subtraction or to zero (see the module docstring).

    Members
    -------
    current : in, signed ``data_width``
        Input added to the potential each step.
    spike : out, 1
        1 on the step the potential reaches ``threshold``; registered.
    v : out, signed ``data_width``
        Membrane potential after the step; registered.
    """

    name = "if_neuron"

    data_width = Param(16, Int(2, 32), "bits of v and current (signed)")
    threshold = Param(256, Int(1), "spike when the integrated potential is >= this (raw)")
    reset = Param("subtract", Choice("subtract", "zero"), "after a spike: v -= threshold, or 0")
    overflow = Param("saturate", Choice("saturate", "wrap"), "policy when v + current overflows")

    def validate(self):
        top = self.v_format.max
        if self.threshold > top:
            raise ValueError(
                f"if_neuron.threshold must be an int in 1..{top} (the largest v of a "
                f"{self.data_width}-bit signed potential; a larger one is never reached), "
                f"not {self.threshold!r}"
            )

    @property
    def v_format(self) -> FixedFormat:
        """The format of ``v`` and ``current``, with this neuron's overflow policy."""
        return FixedFormat(self.data_width, 0, signed=True, overflow=self.overflow)

    def state_fields(self):
        return {"v": Port("out", self.data_width, True, "membrane potential after the step")}

    def input_ports(self):
        return {"current": Port("in", self.data_width, True, "input current")}

    def update_np(self, state, inputs):
        x = self.v_format.fit_array(state["v"] + inputs["current"])
        spike = x >= self.threshold
        after = x - self.threshold if self.reset == "subtract" else 0
        return {"v": np.where(spike, after, x)}, spike

    def update_hdl(self, m, state, inputs):
        x = self.v_format.fit_value(state["v"] + inputs["current"])
        spike = x >= self.threshold
        after = (x - self.threshold)[: self.data_width] if self.reset == "subtract" else 0
        return {"v": Mux(spike, after, x)}, spike


@hookimpl
def neurogate_register_components():
    return [IFNeuron]
