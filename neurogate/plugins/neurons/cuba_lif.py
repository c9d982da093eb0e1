"""``cuba_lif``: Loihi's current-based LIF neuron, bit-exact to Lava 0.10's ``PyLifModelBitAcc``.

Per step, with ``trunc0(p) = sign(p) * (|p| >> 12)`` (a shift of the magnitude: rounds toward
zero) and exact integer arithmetic::

    u = wrap(trunc0(u * (4096 - (du + 1))) + (a_in << 6))
    v = clip(trunc0(v * (4096 - dv)) + u + (bias_mant << bias_exp), -(2**23 - 1), 2**23 - 1)
    spike = v > (vth << 6)
    v = 0 where spike                       (u is not reset; no refractory period)

``wrap`` subtracts ``2**24`` above ``2**23`` and adds it at or below ``-2**23``, so ``u`` lies
in ``(-2**23, 2**23]``: the value ``+2**23`` is reachable and kept (Lava holds ``u`` in an
``int32``), so the ``u`` port is 25 bits signed while ``v`` is 24 bits. With ``du = 0`` the
current still decays by 1/4096 per step (Loihi's ``ds_offset = 1``); with ``dv = 0`` the voltage
does not decay. The update of ``v`` uses the new ``u``. Reset: ``u = v = 0``. Outputs are
registered (latency 1); ``spike`` is Lava's ``s_out``.

Checked line by line against Lava's ``src/lava/proc/lif/models.py`` (identical in v0.10.0 and
the later main branch): ``AbstractPyLifModelFixed.subthr_dynamics`` (``ds_offset = 1``,
``dm_offset = 0``, ``decay_shift = 12``, ``np.sign(x) * np.right_shift(np.abs(x), 12)``, the
two ``np.where`` wraps against ``max_uv_val = 2**23``, ``act_shift = 6`` applied to ``a_in``
before adding it to the decayed current, the clip to ``[-2**23 + 1, 2**23 - 1]`` after adding
``u`` and the bias), ``scale_bias`` (``bias_mant << bias_exp``), ``run_spk`` (spike, then
``v = 0`` where spiking) and ``PyLifModelBitAcc`` (``v > vth << 6``, parameter precisions). One
assumption: Lava's ``a_in`` port is declared ``int16``, but its ``recv()`` sums into an array
promoted to the sender's dtype (``int32`` from ``Dense``'s bit-accurate model), so
``a_in << 6`` is exact; an ``int16`` sender would make Lava wrap it to 16 bits instead.

Also run against the installed lava-nc 0.10.0 (``benchmarks/crosscheck_lava.py``, vectors in
``tests/test_cuba_lif_lava.py``): equal ``s_out``, ``u`` and ``v`` at every step, including a
pre-wrap ``u`` of exactly ``2**23`` (kept), ``2**23 + 1`` and ``-2**23 - 1`` (wrapped),
``-2**23`` (to ``+2**23``), ``v`` held at ``-(2**23 - 1)``, ``du``/``dv`` of 0 and 4095,
``vth = 0`` and biases ``-4096 << 7`` and ``4095 << 7``, with ``a_in`` from Lava's ``fixed_pt``
``RingBuffer`` (``int32``, like ``Dense``). Lava itself does not limit ``a_in`` to 16 bits (a
``Dense`` sum can exceed it); this port does.

The gateware multiplies by the two constants ``4095 - du`` and ``4096 - dv`` and shifts the
magnitude with one adder (``(p + 4095) >> 12`` for negative ``p``).

>>> import neurogate as ng
>>> n = ng.component("cuba_lif", du=2048, dv=1024, vth=10)
>>> out = n.model(1).run({"a_in": [5, 5, 5, 0, 0]})
>>> out["u"][:, 0].tolist(), out["v"][:, 0].tolist(), out["spike"][:, 0].tolist()
([320, 479, 559, 279, 139], [320, 0, 559, 0, 139], [0, 1, 0, 1, 0])
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Const, Mux, signed, unsigned

from neurogate.core.component import Int, Param, Port
from neurogate.core.hookspecs import hookimpl
from neurogate.core.neuron import NeuronKernel

__all__ = ["CubaLIF", "cuba_lif_step"]

#: ``2**23``: the bound of Lava's 24-bit ``u`` and ``v``.
MAX_UV = 1 << 23


def cuba_lif_step(u, v, a_in, du, dv, bias, vth_eff):
    """Return ``(u, v, spike)`` after one step, on ``int64`` arrays (see the module docstring).

    ``bias`` is ``bias_mant << bias_exp`` and ``vth_eff`` is ``vth << 6``.
    """
    pu = u * (4095 - du)
    u = np.sign(pu) * (np.abs(pu) >> 12) + (a_in << 6)
    u = np.where(u > MAX_UV, u - 2 * MAX_UV, np.where(u <= -MAX_UV, u + 2 * MAX_UV, u))
    pv = v * (4096 - dv)
    v = np.sign(pv) * (np.abs(pv) >> 12) + u + bias
    v = np.clip(v, -MAX_UV + 1, MAX_UV - 1)
    spike = v > vth_eff
    return u, np.where(spike, 0, v), spike


class CubaLIF(NeuronKernel):
    """Loihi CUBA-LIF neuron, bit-exact to Lava's ``PyLifModelBitAcc`` (see the module docstring).

    Members
    -------
    a_in : in, signed 16
        Synaptic input; enters the current as ``a_in << 6``.
    spike : out, 1
        Lava's ``s_out``: 1 when ``v > vth << 6`` (then ``v`` is reset to 0); registered.
    u : out, signed 25
        Synaptic current after the step, in ``(-2**23, 2**23]``; registered.
    v : out, signed 24
        Membrane voltage after the step (0 after a spike); registered.
    """

    name = "cuba_lif"

    du = Param(0, Int(0, 4095), "current decay: u is scaled by (4095 - du) / 4096 per step")
    dv = Param(0, Int(0, 4095), "voltage decay: v is scaled by (4096 - dv) / 4096 per step")
    bias_mant = Param(0, Int(-4096, 4095), "bias mantissa (13-bit signed)")
    bias_exp = Param(0, Int(0, 7), "bias exponent: the bias is bias_mant << bias_exp")
    vth = Param(10, Int(0, 131071), "threshold (17-bit unsigned): spike when v > vth << 6")

    @property
    def bias(self) -> int:
        """The bias added to ``v`` each step, ``bias_mant << bias_exp``."""
        return self.bias_mant << self.bias_exp

    def state_fields(self):
        return {
            "u": Port("out", 25, True, "synaptic current, in (-2**23, 2**23]"),
            "v": Port("out", 24, True, "membrane voltage"),
        }

    def input_ports(self):
        return {"a_in": Port("in", 16, True, "synaptic input (shifted left by 6)")}

    def update_np(self, state, inputs):
        u, v, spike = cuba_lif_step(
            state["u"], state["v"], inputs["a_in"], self.du, self.dv, self.bias, self.vth << 6
        )
        return {"u": u, "v": v}, spike

    def update_hdl(self, m, state, inputs):
        def trunc0_shift(p):
            # sign(p) * (|p| >> 12) == (p + 4095) >> 12 for p < 0, p >> 12 otherwise
            return Mux(p[-1], (p + 4095) >> 12, p >> 12)

        u, v = state["u"], state["v"]
        cu = Const(4095 - self.du, unsigned(12))
        cv = Const(4096 - self.dv, unsigned(13))
        s = trunc0_shift(u * cu) + (inputs["a_in"].as_signed() << 6)
        u_next = Mux(s > MAX_UV, s - 2 * MAX_UV, Mux(s <= -MAX_UV, s + 2 * MAX_UV, s))
        u_fit = u_next[:25].as_signed()  # in (-2**23, 2**23]: exact in 25 bits
        w = trunc0_shift(v * cv) + u_fit + Const(self.bias, signed(21))
        v_clip = Mux(w > MAX_UV - 1, MAX_UV - 1, Mux(w < -MAX_UV + 1, -MAX_UV + 1, w))
        v_clip = v_clip[:24].as_signed()
        spike = v_clip > (self.vth << 6)
        return {"u": u_fit, "v": Mux(spike, 0, v_clip)}, spike


@hookimpl
def neurogate_register_components():
    return [CubaLIF]
