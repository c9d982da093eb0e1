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

**Gateware.** The update is one combinational step (one clock cycle per timestep), with every
product cut to the width its operands' ranges need. The state ranges are ``v`` in ``-2**29 ..
V_PEAK - 1`` (after a step ``v`` is below the peak or is ``c``), ``u`` in ``-2**29 .. 2**29 - 1``
and ``I`` in ``-2**23 .. 2**23 - 1``; write ``x = v / 2**16`` (mV) and ``s2 = q + 7 v + (140 <<
16) - u + I`` with ``q = ((((v * v) >> 16) * 41943) >> 20``, so that ``v + ((dv + I) >> 1) ==
s2 >> 1`` (``2 v`` is even). ``q >= 41943 * v**2 / 2**36 - 2`` (two floors) and ``41943 / 2**20
= 0.03999996``.

* **Far below rest, the step always peaks.** For ``v <= -2**26`` (``x <= -1024``), with the
  worst ``u = 2**29 - 1`` and ``I = -2**23``: ``s2 / 2**16 > 0.03999996 x**2 + 7 x + 140 - 8192
  - 128 - 2**-15``, which falls as ``x`` rises up to ``-87.5`` and is ``> 26000`` at ``x =
  -1024``, so ``w = s2 >> 1 > 13000 mV >= 30 mV``: ``v`` is capped at the peak and spikes. The
  gateware only tests ``v <= -2**26`` there; elsewhere ``|v| < 2**26``, so ``v * v`` is a 26 x
  26-bit unsigned product (of ``|v|``; ``(v*v) >> 16 < 2**36``, ``q < 2**31.36``), against 30 x 30
  bits for the whole state range. (The exact threshold is ``-549.73 mV``: 26 bits are the fewest
  for any cut.)
* **Below the peak ``v`` never saturates.** For ``|v| < 2**26``: ``s2 / 2**16 > 0.03999996 x**2
  + 7 x - 8180 - 2**-15 >= -306.26 - 8180``, so ``w >= -4243.14 mV > -4244 mV`` (``W_MIN``),
  far above the -8192 mV limit: a step that does not peak leaves ``v = w`` (30 bits) and the
  lower clamp of ``v`` is never built. ``s2`` itself is within ``-2**30 .. 2**32`` (33 bits).
* **Recovery.** ``(b * v) >> 16`` with ``|b| <= 2**16`` and ``v`` in ``W_MIN .. V_PEAK`` is
  within ``-4244 .. 4244 mV``; minus ``u``, below ``2**29.6`` in magnitude (31 bits); times
  ``a <= 2**16`` then ``>> 17``, below ``2**28.6``; plus ``u``, 31 bits before the clamp.
  The peak case uses the constant ``(b * V_PEAK) >> 16``, so the spike decision runs beside the
  ``b`` product rather than in front of it.

``a``, ``b`` and ``41943`` are constants of the design, so their products are shifts and adds:
a chain of ``2**i +- 1`` factors times the canonical signed digits of the rest, whichever split
needs the fewest adders (``41943 = 1023 * 41`` is 3 adders, against 5 for its signed digits
``2**15 + 2**13 + 2**10 - 2**5 - 2**3 - 1``; ``b = 0.2`` is ``13107 = 3 * 17 * 257``, 3 adders
against 7). ``v * v`` stays a multiplication, which Yosys maps to DSP blocks where it may (four
SB_MAC16 on the iCE40 UP5K, four MULT18X18D on the ECP5); a squarer built from adds would need
half the partial products of a LUT multiplier but no DSP could take it. Every intermediate is a
signal of exactly its proven range, marked ``keep``: Yosys then builds each sum as one carry
chain instead of merging the sums into multi-operand adders (carry-save trees in LUTs, which
took 1.7 times the LUT4s and most of ABC's time).

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

import functools

import numpy as np
from amaranth.hdl import Const, Mux, Signal

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
#: At or below ``V_FAR`` (-1024 mV) a step always reaches the peak (see "Gateware" above), so
#: the gateware squares only ``|v| < 2**FAR_BITS``.
FAR_BITS = 26
V_FAR = -(1 << FAR_BITS)
#: A lower bound of ``v`` after a step that does not reach the peak (-4244 mV; see "Gateware").
W_MIN = -4244 << FRACTION

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


def _csd(k: int) -> list[tuple[int, int]]:
    """Return the canonical signed digits of ``k``: ``[(shift, +1 or -1), ...]``, fewest nonzero."""
    digits, shift = [], 0
    while k:
        if k & 1:
            digit = 2 - (k & 3)  # +1 if k = 1 (mod 4), -1 if k = 3 (mod 4)
            digits.append((shift, digit))
            k -= digit
        k >>= 1
        shift += 1
    return digits


@functools.cache
def _plan(k: int) -> tuple[tuple[tuple[int, int], ...], int]:
    """Return ``(factors, rest)`` for odd ``k > 0``: ``k = prod(2**i + sign) * rest``.

    Each factor costs one adder, ``rest`` one fewer than its signed digits; the plan has the
    fewest adders found (``rest`` alone is plain CSD).
    """
    best, cost = ((), k), len(_csd(k)) - 1
    for i in range(2, k.bit_length() + 1):
        for sign in (-1, 1):
            f = (1 << i) + sign
            if k % f == 0 and k > f:
                factors, rest = _plan(k // f)
                c = 1 + len(factors) + len(_csd(rest)) - 1
                if c < cost:
                    best, cost = (((i, sign), *factors), rest), c
    return best


def _wire(m, name: str, value, lo: int, hi: int) -> Signal:
    """Return ``value`` (which is within ``lo .. hi``) as a kept signal of just that range."""
    sig = Signal(range(lo, hi + 1), name=f"izh_{name}", attrs={"keep": 1})
    m.d.comb += sig.eq(value)
    return sig


def _mul_const(m, name: str, x, lo: int, hi: int, k: int):
    """Return ``(x * k, lo', hi')`` built from shifts and adds, for ``x`` in ``lo .. hi``."""

    def bounds(c):
        return min(lo * c, hi * c), max(lo * c, hi * c)

    if k == 0:
        return Const(0), 0, 0
    shift = (k & -k).bit_length() - 1
    odd = k >> shift
    factors, rest = _plan(odd) if odd > 0 else ((), odd)
    y, c = x, 1
    for j, (i, sign) in enumerate(factors):
        c *= (1 << i) + sign
        y = _wire(m, f"{name}_f{j}", (y << i) + y if sign > 0 else (y << i) - y, *bounds(c))
    # rest: a balanced tree over its signed digits; a node (e, r, neg) holds e = +-(y * r)
    nodes = [(y << s, d << s, d < 0) for s, d in _csd(rest)]
    level = 0
    while len(nodes) > 1:
        level += 1
        paired = []
        for n in range(0, len(nodes) - 1, 2):
            (e1, r1, n1), (e2, r2, n2) = nodes[n], nodes[n + 1]
            r = r1 + r2
            if n1 == n2:
                e, neg = e1 + e2, n1
            else:
                e, neg = (e1 - e2, False) if n2 else (e2 - e1, False)
            lo_r, hi_r = bounds(-c * r if neg else c * r)
            paired.append((_wire(m, f"{name}_{level}_{n // 2}", e, lo_r, hi_r), r, neg))
        nodes = paired + nodes[len(nodes) - len(nodes) % 2 :]
    e, r, neg = nodes[0]
    if neg:
        e = _wire(m, f"{name}_neg", -e, *bounds(c * r))
    return e << shift, *bounds(k)


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
        # Ranges and widths as proven in the module docstring ("Gateware").
        v, u, i_in = state["v"], state["u"], inputs["i_in"]
        u_lo, u_hi = STATE.min, STATE.max
        i_lo, i_hi = -(1 << (INPUT_WIDTH - 1)), (1 << (INPUT_WIDTH - 1)) - 1
        far = v <= V_FAR  # the step peaks
        v27 = v[: FAR_BITS + 1].as_signed()  # v unless far
        v_lo, v_hi = -(1 << FAR_BITS), (1 << FAR_BITS) - 1
        mag = _wire(m, "mag", abs(v27), 0, v_hi)  # |v| unless far
        sq_hi = (v_hi * v_hi) >> FRACTION
        sq = _wire(m, "sq", (mag * mag) >> FRACTION, 0, sq_hi)
        q04, _, q04_hi = _mul_const(m, "c04", sq, 0, sq_hi, C04)
        q_hi = q04_hi >> C04_SHIFT
        q = _wire(m, "q", q04 >> C04_SHIFT, 0, q_hi)
        # 2 w = s2 = q + 7 v + 140 - u + I
        v7 = _wire(m, "v7", (v27 << 3) - v27, 7 * v_lo, 7 * v_hi)
        vi = _wire(m, "v7_i", v7 + i_in, 7 * v_lo + i_lo, 7 * v_hi + i_hi)
        c140 = 140 << FRACTION
        vic = _wire(m, "v7_i_140", vi + c140, 7 * v_lo + i_lo + c140, 7 * v_hi + i_hi + c140)
        qu = _wire(m, "q_u", q - u, -u_hi, q_hi - u_lo)
        s2 = _wire(
            m, "s2", qu + vic, 7 * v_lo + i_lo + c140 - u_hi, q_hi - u_lo + 7 * v_hi + i_hi + c140
        )
        peak = _wire(m, "peak", far | (s2 >= 2 * V_PEAK), 0, 1)
        w = s2[1 : STATE_WIDTH + 1].as_signed()  # the next v unless peak (W_MIN .. V_PEAK - 1)
        # u += (a * (((b * v) >> 16) - u)) >> 17, with v = V_PEAK on a peak
        bw, bw_lo, bw_hi = _mul_const(m, "b", w, W_MIN, V_PEAK - 1, self.b)
        p_peak = (self.b * V_PEAK) >> FRACTION
        p_lo, p_hi = min(bw_lo >> FRACTION, p_peak), max(bw_hi >> FRACTION, p_peak)
        p = _wire(m, "bv", Mux(peak, p_peak, bw >> FRACTION), p_lo, p_hi)
        x = _wire(m, "bv_u", p - u, p_lo - u_hi, p_hi - u_lo)
        ax, ax_lo, ax_hi = _mul_const(m, "a", x, p_lo - u_hi, p_hi - u_lo, self.a)
        shift = FRACTION + 1
        du = _wire(m, "du", ax >> shift, ax_lo >> shift, ax_hi >> shift)
        u1 = _wire(m, "u1", u + du, u_lo + (ax_lo >> shift), u_hi + (ax_hi >> shift))
        u1 = _wire(m, "u1_sat", STATE.fit_value(u1), u_lo, u_hi)
        u_peak = STATE.fit_value(u1 + self.d)
        return {"v": Mux(peak, self.c, w), "u": Mux(peak, u_peak, u1)}, peak


@hookimpl
def neurogate_register_components():
    return [Izhikevich]
