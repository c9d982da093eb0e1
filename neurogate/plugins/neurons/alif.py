"""``alif``: adaptive-threshold leaky integrate-and-fire neuron (shift leak and shift decay).

The membrane is that of ``lif_shift``; an unsigned adaptation variable ``a`` of ``a_width``
bits raises the threshold. Per step (raw integers, ``>>`` an arithmetic shift)::

    if refr > 0:  refr -= 1;  spike = 0;  v unchanged          (input ignored)
    else:
        x = fit(v - leak(v) + current)
        spike = x >= threshold + a                 (exact sum, a is the value before this step)
        v = v_reset if spike else x;  refr = refractory if spike else 0
    a = min(decay(a) + (a_jump if spike else 0), 2**a_width - 1)

    leak(v)  = v >> leak_shift  (0 when leak_shift == 0: no leak)
    decay(a) = a - (a >> a_shift)  (a itself when a_shift == 0: no decay)

So ``a`` first decays, then jumps by ``a_jump`` on a spike, saturating at its maximum; the
threshold of a step uses ``a`` as it was at the start of the step. ``fit`` is ``overflow``
(saturate or wrap) on the signed ``data_width``-bit ``v``; ``a`` always saturates. While
``threshold + a`` exceeds the largest ``v`` the neuron cannot fire, until ``a`` decays.
Parameters as ``lif_shift``, plus ``a_width``, ``a_jump`` (``0 .. 2**a_width - 1``) and
``a_shift`` (``0 .. a_width - 1``). Reset state: ``v = 0``, ``a = 0``, ``refr = 0``,
``spike = 0``. Outputs are registered (latency 1): this is the parallel wrapper of
:class:`~neurogate.core.neuron.NeuronKernel`.

>>> import neurogate as ng
>>> neuron = ng.component("alif", data_width=8, leak_shift=0, threshold=10,
...                       a_width=8, a_jump=8, a_shift=1)
>>> out = neuron.model(n=1).run({"current": [5] * 8})
>>> out["v"][:, 0].tolist(), out["a"][:, 0].tolist(), out["spike"][:, 0].tolist()
([5, 0, 5, 10, 0, 5, 10, 0], [0, 8, 4, 2, 9, 5, 3, 10], [0, 1, 0, 0, 1, 0, 0, 1])
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Mux

from neurogate.core.component import Int, Param, Port
from neurogate.core.fixed import FixedFormat
from neurogate.core.hookspecs import hookimpl
from neurogate.plugins.neurons.lif_shift import LIFShift, shift_decay

__all__ = ["ALIF"]


class ALIF(LIFShift):
    """Adaptive-threshold LIF neuron (see the module docstring).

    Members
    -------
    current : in, signed ``data_width``
        Input added to the potential each step.
    spike : out, 1
        1 on the step the potential reaches ``threshold + a``; registered.
    v : out, signed ``data_width``
        Membrane potential after the step; registered.
    a : out, unsigned ``a_width``
        Threshold adaptation after the step; registered.
    refr : out, unsigned ``bits_for(refractory)``
        Refractory steps left; present only when ``refractory > 0``.
    """

    name = "alif"

    threshold = Param(1024, Int(), "base threshold: spike when the potential is >= it + a (raw)")
    a_width = Param(12, Int(1, 32), "bits of the adaptation a (unsigned)")
    a_jump = Param(256, Int(0), "added to a on each spike (saturating)")
    a_shift = Param(5, Int(0, 31), "a decays by a >> a_shift per step; 0: no decay")

    def validate(self):
        super().validate()
        if self.a_shift > self.a_width - 1:
            raise ValueError(
                f"alif.a_shift must be an int in 0..{self.a_width - 1} (a_width - 1), "
                f"not {self.a_shift!r}"
            )
        self.check_fits("a_jump", self.a_format)

    @property
    def a_format(self) -> FixedFormat:
        """The format of ``a`` (unsigned, saturating)."""
        return FixedFormat(self.a_width, 0, signed=False)

    def state_fields(self):
        fields = super().state_fields()
        fields["a"] = Port("out", self.a_width, False, "threshold adaptation after the step")
        return fields

    def update_np(self, state, inputs):
        v, a = state["v"], state["a"]
        x = self.v_format.fit_array(shift_decay(v, self.leak_shift) + inputs["current"])
        spike = x >= self.threshold + a
        nxt = {"v": np.where(spike, self.v_reset, x)}
        if self.refractory:
            refr = state["refr"]
            busy = refr > 0
            spike = spike & ~busy
            nxt["v"] = np.where(busy, v, nxt["v"])
            nxt["refr"] = np.where(busy, refr - 1, np.where(spike, self.refractory, 0))
        jump = np.where(spike, self.a_jump, 0)
        nxt["a"] = np.minimum(shift_decay(a, self.a_shift) + jump, self.a_format.max)
        return nxt, spike

    def update_hdl(self, m, state, inputs):
        v, a = state["v"], state["a"]
        x = self.v_format.fit_value(shift_decay(v, self.leak_shift) + inputs["current"])
        spike = x >= self.threshold + a
        nxt = {"v": Mux(spike, self.v_reset, x)}
        if self.refractory:
            refr = state["refr"]
            busy = refr != 0
            spike = spike & ~busy
            nxt["v"] = Mux(busy, v, nxt["v"])
            nxt["refr"] = Mux(busy, refr - 1, Mux(spike, self.refractory, 0))
        jumped = shift_decay(a, self.a_shift) + Mux(spike, self.a_jump, 0)
        nxt["a"] = self.a_format.fit_value(jumped)
        return nxt, spike


@hookimpl
def neurogate_register_components():
    return [ALIF]
