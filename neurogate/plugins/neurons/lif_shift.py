"""``lif_shift``: leaky integrate-and-fire neuron whose leak is an arithmetic shift.

Per step (raw ``data_width``-bit two's complement integers, ``>>`` an arithmetic shift, i.e.
floor division by a power of two)::

    if refr > 0:  refr -= 1;  spike = 0;  v unchanged          (input ignored)
    else:
        x = fit(v - leak(v) + current)
        if x >= threshold:  spike = 1;  v = v_reset;  refr = refractory
        else:               spike = 0;  v = x

    leak(v) = v >> leak_shift   if leak_shift > 0
              0                 if leak_shift == 0   (no leak: an IF neuron reset to v_reset)

``fit`` saturates to the signed ``data_width``-bit range (``overflow="saturate"``) or keeps the
low ``data_width`` bits (``overflow="wrap"``). ``v - (v >> k)`` always lies between 0 and ``v``,
so only adding ``current`` can overflow. A negative ``v`` decays towards 0 too (``-1`` leaks to
``0`` in one step, since ``-1 >> k == -1``). ``threshold`` must lie in
``-2**(data_width-1) + 1 .. 2**(data_width-1) - 1``: at the top of the range it is reached only
by a saturated (or exactly full-scale) potential, above it never, and at the bottom it would be
exceeded every step. The ``refr`` state field exists only when ``refractory > 0``; during the
refractory steps ``v`` stays at ``v_reset``. Reset state: ``v = 0``, ``refr = 0``, ``spike = 0``.
Outputs are registered (latency 1): this is the parallel wrapper of
:class:`~neurogate.core.neuron.NeuronKernel`.

>>> import neurogate as ng
>>> neuron = ng.component("lif_shift", data_width=8, leak_shift=2, threshold=20)
>>> out = neuron.model(n=1).run({"current": [8, 8, 8, 8, 0, 0]})
>>> out["v"][:, 0].tolist(), out["spike"][:, 0].tolist()
([8, 14, 19, 0, 0, 0], [0, 0, 0, 1, 0, 0])
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Mux

from neurogate.core.component import Choice, Int, Param, Port, bits_for
from neurogate.core.fixed import FixedFormat
from neurogate.core.hookspecs import hookimpl
from neurogate.core.neuron import NeuronKernel

__all__ = ["LIFShift"]


def shift_decay(value, shift: int):
    """Return ``value - (value >> shift)`` (``value`` itself for ``shift == 0``).

    Works on NumPy integer arrays and on Amaranth values alike; the result lies between 0 and
    ``value``, so it fits the width of ``value``.
    """
    if shift == 0:
        return value
    return value - (value >> shift)


class LIFShift(NeuronKernel):
    """Leaky integrate-and-fire neuron with a shift leak (see the module docstring).

    Members
    -------
    current : in, signed ``data_width``
        Input added to the potential each step.
    spike : out, 1
        1 on the step the potential reaches ``threshold``; registered.
    v : out, signed ``data_width``
        Membrane potential after the step; registered.
    refr : out, unsigned ``bits_for(refractory)``
        Refractory steps left; present only when ``refractory > 0``.
    """

    name = "lif_shift"

    data_width = Param(16, Int(2, 32), "bits of v and current (signed)")
    leak_shift = Param(4, Int(0, 31), "leak v >> leak_shift per step; 0: no leak")
    threshold = Param(1024, Int(), "spike when the updated potential is >= this (raw)")
    v_reset = Param(0, Int(), "potential after a spike (raw)")
    refractory = Param(0, Int(0, 65535), "steps after a spike with the input ignored")
    overflow = Param("saturate", Choice("saturate", "wrap"), "policy when v leaves its range")

    def validate(self):
        fmt = self.v_format
        if self.leak_shift > self.data_width - 1:
            raise ValueError(
                f"{self.name}.leak_shift must be an int in 0..{self.data_width - 1} "
                f"(data_width - 1), not {self.leak_shift!r}"
            )
        self.check_threshold()
        self.check_fits("v_reset", fmt)

    def check_threshold(self):
        """Raise unless ``threshold`` can be reached and is not always exceeded."""
        fmt = self.v_format
        if not fmt.min < self.threshold <= fmt.max:
            raise ValueError(
                f"{self.name}.threshold must be an int in {fmt.min + 1}..{fmt.max} "
                f"(above the smallest v of a {self.data_width}-bit signed potential, which "
                f"would always spike, and at most the largest, or it is never reached), "
                f"not {self.threshold!r}"
            )

    @property
    def v_format(self) -> FixedFormat:
        """The format of ``v`` and ``current``, with this neuron's overflow policy."""
        return FixedFormat(self.data_width, 0, signed=True, overflow=self.overflow)

    def state_fields(self):
        fields = {"v": Port("out", self.data_width, True, "membrane potential after the step")}
        if self.refractory:
            fields["refr"] = Port("out", bits_for(self.refractory), False, "refractory steps left")
        return fields

    def input_ports(self):
        return {"current": Port("in", self.data_width, True, "input current")}

    def update_np(self, state, inputs):
        v = state["v"]
        x = self.v_format.fit_array(shift_decay(v, self.leak_shift) + inputs["current"])
        spike = x >= self.threshold
        nxt = {"v": np.where(spike, self.v_reset, x)}
        if self.refractory:
            refr = state["refr"]
            busy = refr > 0
            spike = spike & ~busy
            nxt["v"] = np.where(busy, v, nxt["v"])
            nxt["refr"] = np.where(busy, refr - 1, np.where(spike, self.refractory, 0))
        return nxt, spike

    def update_hdl(self, m, state, inputs):
        v = state["v"]
        total = shift_decay(v, self.leak_shift) + inputs["current"]
        x = self.v_format.fit_value(total)
        # Saturating: min < threshold <= max (validate), so the clip never changes the
        # comparison; compare the exact sum, in parallel with the clip rather than after it.
        spike = (total if self.overflow == "saturate" else x) >= self.threshold
        nxt = {"v": Mux(spike, self.v_reset, x)}
        if self.refractory:
            refr = state["refr"]
            busy = refr != 0
            spike = spike & ~busy
            nxt["v"] = Mux(busy, v, nxt["v"])
            nxt["refr"] = Mux(busy, refr - 1, Mux(spike, self.refractory, 0))
        return nxt, spike


@hookimpl
def neurogate_register_components():
    return [LIFShift]
