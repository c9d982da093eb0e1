"""``lif``: fixed-point leaky integrate-and-fire neuron.

Per step (all values raw ``data_width``-bit two's complement, ``>>`` an arithmetic shift,
products exact)::

    if refr > 0:  refr -= 1;  v = v_rest;  spike = 0            (inputs ignored)
    else:
        v_next = fit(v + (((v_rest - v) * leak_k) >> fraction)
                       + ((current * gain_k) >> fraction) + noise)
        if v_next >= v_threshold:  spike = 1;  v = v_reset;  refr = refractory
        else:                      spike = 0;  v = v_next

``fit`` saturates (``overflow="saturate"``) or keeps the low ``data_width`` bits
(``overflow="wrap"``). Reset: ``v = v_rest``, ``refr = 0``, ``spike = 0``. Outputs are registered
(latency 1). With ``overflow="wrap"``, ``leak_k=None``, ``gain_k=None`` and ``noise=True`` this is
bit-compatible with SC-NeuroCore's ``sc_lif_neuron.v``.

>>> import neurogate as ng
>>> lif = ng.component("lif", v_threshold=300, leak_k=16, gain_k=256)
>>> out = lif.model(n=1).run({"current": [100] * 6})
>>> out["v"][:, 0].tolist(), out["spike"][:, 0].tolist()
([100, 193, 280, 0, 100, 193], [0, 0, 0, 1, 0, 0])
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Const, Module, Signal, signed
from amaranth.lib import wiring

from neurogate.core.component import (
    Bool,
    Choice,
    Component,
    Int,
    Model,
    Optional,
    Param,
    Port,
    bits_for,
)
from neurogate.core.fixed import FixedFormat
from neurogate.core.hookspecs import hookimpl

__all__ = ["LIF"]


class LIF(Component):
    """Fixed-point leaky integrate-and-fire neuron (see the module docstring for the update).

    Members
    -------
    current : in, signed ``data_width``
        Input current, raw Q(``fraction``).
    leak_k, gain_k : in, signed ``data_width``
        Present only when the parameter of the same name is ``None`` (runtime value).
    noise : in, signed ``data_width``
        Present only when ``noise=True``; added to the membrane update unscaled.
    spike : out, 1
        1 on the step the membrane crosses ``v_threshold``; registered.
    v : out, signed ``data_width``
        Membrane potential after the step; registered.
    """

    name = "lif"
    kind = "neuron"

    data_width = Param(16, Int(2, 32), "bits of v, current and the k parameters")
    fraction = Param(8, Int(0, 32), "fraction bits of leak_k and gain_k (Q format)")
    v_rest = Param(0, Int(), "resting potential (raw)")
    v_reset = Param(0, Int(), "potential after a spike (raw)")
    v_threshold = Param(256, Int(), "spike when the next potential is >= this (raw)")
    refractory = Param(0, Int(0, 65535), "steps clamped at v_rest after a spike")
    leak_k = Param(16, Optional(Int()), "leak factor, Q(fraction); None: runtime port")
    gain_k = Param(256, Optional(Int()), "input gain, Q(fraction); None: runtime port")
    noise = Param(False, Bool(), "add a signed noise input port")
    overflow = Param("saturate", Choice("saturate", "wrap"), "policy when v leaves its range")

    def validate(self):
        if self.fraction > self.data_width:
            raise ValueError(
                f"lif.fraction must be an int in 0..{self.data_width} (data_width), "
                f"not {self.fraction!r}"
            )
        raw = FixedFormat(self.data_width, 0, signed=True)
        for key in ("v_rest", "v_reset", "v_threshold", "leak_k", "gain_k"):
            if self._values[key] is not None:
                self.check_fits(key, raw)

    @property
    def v_format(self) -> FixedFormat:
        """Format of the membrane potential: ``data_width`` bits, ``fraction``, ``overflow``."""
        return FixedFormat(self.data_width, self.fraction, True, self.overflow)

    @property
    def ports(self):
        dw = self.data_width
        ports = {"current": Port("in", dw, True, "input current")}
        if self.leak_k is None:
            ports["leak_k"] = Port("in", dw, True, "runtime leak factor")
        if self.gain_k is None:
            ports["gain_k"] = Port("in", dw, True, "runtime input gain")
        if self.noise:
            ports["noise"] = Port("in", dw, True, "additive noise")
        ports["spike"] = Port("out", 1, False, "spike")
        ports["v"] = Port("out", dw, True, "membrane potential", init=self.v_rest)
        return ports

    @property
    def latency(self):
        return 1

    def model(self, n=1):
        return LIFModel(self, n)

    def create(self):
        return LIFGateware(self)


class LIFModel(Model):
    """Vectorised bit-true model of :class:`LIF`.

    The loop over time uses the identity ``v + (((v_rest - v) * k) >> f)
    == (v * (2**f - k) + v_rest * k) >> f`` (exact: ``v << f`` is a multiple of ``2**f``), keeps
    every array in place and picks ``int32`` whenever every intermediate value provably fits,
    ``int64`` otherwise (and Python integers in the one case that overflows even that).
    """

    def reset(self):
        p = self.component
        self._dtype = self._pick_dtype()
        self._v = np.full(self.n, p.v_rest, dtype=self._dtype)
        self._refr = np.zeros(self.n, dtype=np.int32)

    def _pick_dtype(self):
        p = self.component
        dw, f = p.data_width, p.fraction
        half = 1 << (dw - 1)
        k_max = half if p.leak_k is None else abs(p.leak_k)
        g_max = half if p.gain_k is None else abs(p.gain_k)
        coeff = (1 << f) + k_max  # |2**f - k|
        acc = half * coeff + abs(p.v_rest) * k_max  # |v * (2**f - k) + v_rest * k|
        drive = ((half * g_max) >> f) + 1 + (half if p.noise else 0)
        total = (acc >> f) + 1 + drive
        # Sums below are exact in int32/int64 when every magnitude stays under the limit; in
        # wrap mode only the low data_width bits matter, and modular arithmetic keeps them when
        # the lost high bits are above data_width + fraction.
        for dtype, bits in ((np.int32, 31), (np.int64, 63)):
            if max(acc, half * g_max, total) < (1 << bits):
                return dtype
            if p.overflow == "wrap" and dw + f <= bits + 1:
                return dtype
        return object

    def _run(self, inputs, steps):
        p = self.component
        n, dt = self.n, self._dtype
        f = p.fraction
        vfmt = p.v_format
        cur = inputs["current"].astype(dt)
        # The input drive does not depend on the state: compute it for all steps at once.
        gain = p.gain_k if p.gain_k is not None else inputs["gain_k"].astype(dt)
        drive = np.multiply(cur, gain, dtype=dt)
        np.right_shift(drive, f, out=drive)
        if p.noise:
            np.add(drive, inputs["noise"].astype(dt), out=drive)
        if p.leak_k is not None:
            coeff = (1 << f) - p.leak_k
            offset = p.v_rest * p.leak_k
        else:
            k = inputs["leak_k"].astype(dt)
            coeff = np.subtract(1 << f, k, dtype=dt)
            offset = np.multiply(k, p.v_rest, dtype=dt) if p.v_rest else 0

        out_v = np.empty((steps, n), dtype=dt)
        out_s = np.zeros((steps, n), dtype=np.bool_)
        v = self._v
        tmp = np.empty(n, dtype=dt)
        refr = self._refr
        inref = np.empty(n, dtype=np.bool_)
        th, v_reset, v_rest, period = p.v_threshold, p.v_reset, p.v_rest, p.refractory
        const_coeff = np.ndim(coeff) == 0
        const_offset = np.ndim(offset) == 0
        saturate = vfmt.overflow == "saturate"
        lo, hi = vfmt.min, vfmt.max
        wrap_shift = 0 if dt is object else np.dtype(dt).itemsize * 8 - p.data_width
        multiply, right_shift, add = np.multiply, np.right_shift, np.add
        clip, greater_equal, copyto = np.clip, np.greater_equal, np.copyto
        for t in range(steps):
            row = out_v[t]
            spk = out_s[t]
            multiply(v, coeff if const_coeff else coeff[t], out=tmp)
            if const_offset:
                if offset:
                    add(tmp, offset, out=tmp)
            else:
                add(tmp, offset[t], out=tmp)
            right_shift(tmp, f, out=tmp)
            add(tmp, drive[t], out=tmp)
            if saturate:
                clip(tmp, lo, hi, out=row)
            elif dt is object:
                vfmt.wrap_array(tmp, out=row)
            elif wrap_shift:
                np.left_shift(tmp, wrap_shift, out=row)
                right_shift(row, wrap_shift, out=row)
            else:
                row[...] = tmp
            greater_equal(row, th, out=spk)
            if period:
                np.greater(refr, 0, out=inref)
                np.greater(spk, inref, out=spk)  # spike only outside the refractory period
                copyto(row, v_rest, where=inref)
                np.subtract(refr, inref, out=refr)
                copyto(refr, period, where=spk)
            copyto(row, v_reset, where=spk)
            v = row
        if steps:
            self._v = out_v[-1].copy()
        if dt is object:
            out_v = out_v.astype(np.int64)
        return {"spike": out_s.view(np.uint8), "v": out_v}


class LIFGateware(wiring.Component):
    """Gateware of :class:`LIF` (ports as in its Members section)."""

    def __init__(self, params: LIF):
        self._params = params
        super().__init__(params.signature())

    def elaborate(self, platform):
        m = Module()
        p = self._params
        dw, f = p.data_width, p.fraction
        v = self.v  # the registered output is the state
        leak_k = Const(p.leak_k, signed(dw)) if p.leak_k is not None else self.leak_k
        gain_k = Const(p.gain_k, signed(dw)) if p.gain_k is not None else self.gain_k
        total = v + (((p.v_rest - v) * leak_k) >> f) + ((self.current * gain_k) >> f)
        if p.noise:
            total = total + self.noise
        v_next = Signal(signed(dw))
        m.d.comb += v_next.eq(p.v_format.fit_value(total))

        def integrate():
            with m.If(v_next >= p.v_threshold):
                m.d.sync += [self.spike.eq(1), v.eq(p.v_reset)]
                if p.refractory:
                    m.d.sync += refr.eq(p.refractory)
            with m.Else():
                m.d.sync += [self.spike.eq(0), v.eq(v_next)]

        if p.refractory:
            refr = Signal(bits_for(p.refractory))
            with m.If(refr != 0):
                m.d.sync += [refr.eq(refr - 1), v.eq(p.v_rest), self.spike.eq(0)]
            with m.Else():
                integrate()
        else:
            integrate()
        return m


@hookimpl
def neurogate_register_components():
    return [LIF]
