"""``izhikevich``: fixed-point Izhikevich (2003) neuron.

The model (Izhikevich, "Simple model of spiking neurons", IEEE TNN 14(6), 2003), in mV and ms::

    v' = 0.04 v**2 + 5 v + 140 - u + I
    u' = a (b v - u)
    if v >= 30 mV:  v = c,  u = u + d

One step is ``dt = 0.5 ms`` (1 s is 2000 steps): one forward-Euler step for ``v``, with ``v``
capped at the 30 mV peak (as in Izhikevich's 2007 book code; without the cap the overshoot
feeds the ``u`` update and makes the spike times chaotic), then one for ``u`` using the new
``v``, then the threshold test. (The 2003 paper's code takes 1 ms steps of two 0.5 ms ``v``
half steps and no cap: its overshoot to ~1600 mV drives ``u``, and rounding to 2**-16 moved the
IB rate over 1 s by 7% from float64 in our check.)

**Fixed point.** ``v``, ``u``, ``c`` and ``d`` are raw integers in mV with ``F = 16`` fraction
bits (``raw = round(x * 2**16)``); ``v`` and ``u`` are signed 30 bits (``-8192 .. 8192 mV``),
saturating. ``a`` and ``b`` are raw with 16 fraction bits too (``a = 0.02`` is ``1311``). The
input ``I`` is signed 24 bits with 16 fraction bits (``-128 .. 128``). With ``>>`` an
arithmetic (floor) shift, products exact and ``sat`` the 30-bit clamp, one step is::

    dv = ((((v * v) >> 16) * 41943) >> 20) + 5 v + (140 << 16) - u      # 0.04 ~ 41943 / 2**20
    v = sat(min(v + ((dv + I) >> 1), 30 << 16))                          # dt / 1 ms = 1/2
    u = sat(u + ((a * (((b * v) >> 16) - u)) >> 17))
    spike = v == (30 << 16)
    if spike:  v = c;  u = sat(u + d)

Reset: ``v = -65 mV`` and ``u = (b * v) >> 16`` (the paper's initial ``u = b v``). Outputs are
registered (latency 1). :func:`izhikevich_params` gives the raw ``a, b, c, d`` of the paper's
classes (``"RS"``, ``"IB"``, ``"CH"``, ``"FS"``, ``"LTS"``, ``"TC"``, ``"RZ"``) and
:meth:`Izhikevich.from_floats` builds a component from real values.

>>> import neurogate as ng
>>> from neurogate.plugins.neurons.izhikevich import Izhikevich
>>> rs = Izhikevich.from_floats(a=0.02, b=0.2, c=-65, d=8)
>>> spikes = rs.model(1).run({"i_in": [10 << 16] * 2000})["spike"][:, 0]  # 1 s at I = 10
>>> int(spikes.sum())
22
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Mux

from neurogate.core.component import Int, Param, Port
from neurogate.core.fixed import FixedFormat
from neurogate.core.hookspecs import hookimpl
from neurogate.core.neuron import NeuronKernel

__all__ = ["PRESETS", "Izhikevich", "izhikevich_params"]

#: Fraction bits of ``v``, ``u``, ``I``, ``a``, ``b``, ``c`` and ``d``.
FRACTION = 16
#: Bits of the ``v`` and ``u`` state (signed): ``-8192 .. 8192 mV``.
STATE_WIDTH = 30
#: Bits of the input ``I`` (signed): ``-128 .. 128``.
INPUT_WIDTH = 24
#: ``0.04`` as ``C04 / 2**C04_SHIFT``.
C04, C04_SHIFT = 41943, 20
#: The spike peak and cap of ``v`` (30 mV), raw.
V_PEAK = 30 << FRACTION
#: The initial ``v`` (-65 mV), raw.
V_INIT = -65 << FRACTION
STATE = FixedFormat(STATE_WIDTH, FRACTION, signed=True, overflow="saturate")

#: ``(a, b, c, d)`` of the paper's classes, as real numbers.
PRESETS = {
    "RS": (0.02, 0.2, -65.0, 8.0),  # regular spiking
    "IB": (0.02, 0.2, -55.0, 4.0),  # intrinsically bursting
    "CH": (0.02, 0.2, -50.0, 2.0),  # chattering
    "FS": (0.1, 0.2, -65.0, 2.0),  # fast spiking
    "LTS": (0.02, 0.25, -65.0, 2.0),  # low-threshold spiking
    "TC": (0.02, 0.25, -65.0, 0.05),  # thalamo-cortical
    "RZ": (0.1, 0.26, -65.0, 2.0),  # resonator
}


def _raw(x: float) -> int:
    return round(x * (1 << FRACTION))


def izhikevich_params(name: str) -> dict[str, int]:
    """Return the raw ``{"a", "b", "c", "d"}`` of a class in :data:`PRESETS` (e.g. ``"RS"``)."""
    if name not in PRESETS:
        raise ValueError(f"izhikevich preset must be one of {sorted(PRESETS)!r}, not {name!r}")
    return dict(zip("abcd", (_raw(x) for x in PRESETS[name]), strict=True))


class Izhikevich(NeuronKernel):
    """Fixed-point Izhikevich neuron (see the module docstring for the update and formats).

    Members
    -------
    i_in : in, signed 24
        Input current ``I``, 16 fraction bits.
    spike : out, 1
        1 on the step ``v`` reaches 30 mV (then ``v = c``, ``u += d``); registered.
    v : out, signed 30
        Membrane potential in mV, 16 fraction bits; registered.
    u : out, signed 30
        Recovery variable, 16 fraction bits; registered.
    """

    name = "izhikevich"

    a = Param(1311, Int(0, 1 << FRACTION), "recovery rate a, 16 fraction bits (0..1)")
    b = Param(13107, Int(-(1 << FRACTION), 1 << FRACTION), "sensitivity b, 16 fraction bits")
    c = Param(
        -65 << FRACTION,
        Int(-(100 << FRACTION), V_PEAK - 1),
        "reset potential c in mV, 16 fraction bits (below the 30 mV peak)",
    )
    d = Param(
        8 << FRACTION,
        Int(-(100 << FRACTION), 100 << FRACTION),
        "jump d of u after a spike, 16 fraction bits",
    )

    @classmethod
    def from_floats(cls, a: float, b: float, c: float, d: float) -> Izhikevich:
        """Build the component from real ``a, b, c, d`` (rounded to 16 fraction bits)."""
        return cls(a=_raw(a), b=_raw(b), c=_raw(c), d=_raw(d))

    @classmethod
    def preset(cls, name: str) -> Izhikevich:
        """Build the component for a class of :data:`PRESETS` (e.g. ``"CH"``)."""
        return cls(**izhikevich_params(name))

    def state_fields(self):
        u_init = (self.b * V_INIT) >> FRACTION
        return {
            "v": Port("out", STATE_WIDTH, True, "membrane potential (mV, Q.16)", V_INIT),
            "u": Port("out", STATE_WIDTH, True, "recovery variable (Q.16)", u_init),
        }

    def input_ports(self):
        return {"i_in": Port("in", INPUT_WIDTH, True, "input current I (Q.16)")}

    def update_np(self, state, inputs):
        v, u = state["v"], state["u"]
        dv = ((((v * v) >> FRACTION) * C04) >> C04_SHIFT) + 5 * v + (140 << FRACTION) - u
        v = STATE.fit_array(np.minimum(v + ((dv + inputs["i_in"]) >> 1), V_PEAK))
        u = STATE.fit_array(u + ((self.a * (((self.b * v) >> FRACTION) - u)) >> (FRACTION + 1)))
        spike = v == V_PEAK
        v = np.where(spike, self.c, v)
        u = np.where(spike, STATE.fit_array(u + self.d), u)
        return {"v": v, "u": u}, spike

    def update_hdl(self, m, state, inputs):
        v, u = state["v"], state["u"]
        dv = ((((v * v) >> FRACTION) * C04) >> C04_SHIFT) + (v << 2) + v + (140 << FRACTION) - u
        w = v + ((dv + inputs["i_in"]) >> 1)
        v = STATE.fit_value(Mux(w > V_PEAK, V_PEAK, w))
        u = STATE.fit_value(u + ((self.a * (((self.b * v) >> FRACTION) - u)) >> (FRACTION + 1)))
        spike = v == V_PEAK
        return {"v": Mux(spike, self.c, v), "u": Mux(spike, STATE.fit_value(u + self.d), u)}, spike


@hookimpl
def neurogate_register_components():
    return [Izhikevich]
