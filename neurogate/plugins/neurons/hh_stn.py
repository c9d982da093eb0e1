"""``hh_stn``: fixed-point Hodgkin-Huxley subthalamic-nucleus (STN) neuron, seven currents.

**Equations.** The single-compartment STN cell of Terman, Rubin, Yew & Wilson, "Activity
patterns in a model for the subthalamopallidal network of the basal ganglia", J. Neurosci.
22(7):2963-2976, 2002 (also used by Rubin & Terman, J. Comput. Neurosci. 16:211-235, 2004),
with an HCN current ``I_h`` added (the Terman cell has no ``I_h``; its form and constants are
those of Huguenard & McCormick, J. Neurophysiol. 68:1373, 1992, thalamic ``I_h``, with a
conductance of our choosing). Units: mV, ms, mS/cm^2, uA/cm^2, ``C = 1 uF/cm^2``::

    v' = I_app - I_L - I_K - I_Na - I_T - I_Ca - I_AHP - I_h
    I_L   = g_L (v - E_L)                      g_L = 2.25   E_L = -60
    I_K   = g_K n**4 (v - E_K)                 g_K = 45     E_K = -80
    I_Na  = g_Na m_inf(v)**3 h (v - E_Na)      g_Na = 37    E_Na = 55
    I_T   = g_T a_inf(v)**3 b_inf(r)**2 r (v - E_Ca)     g_T = 0.5   E_Ca = 140
    I_Ca  = g_Ca s_inf(v)**2 (v - E_Ca)        g_Ca = 2
    I_AHP = g_AHP (v - E_K) ca / (ca + k_1)    g_AHP = 20   k_1 = 15
    I_h   = g_h q (v - E_h)                    g_h = 0.5    E_h = -43
    x' = phi_x (x_inf(v) - x) / tau_x(v)       x = n, h, r (phi = 0.75, 0.75, 0.2); q (phi = 1)
    ca' = eps (-I_Ca - I_T - k_Ca ca)          eps = 3.75e-5   k_Ca = 22.5
    x_inf(v) = 1 / (1 + exp(-(v - theta_x) / sigma_x))
        (theta, sigma): m (-30, 15), h (-39, -3.1), n (-32, 8), r (-67, -2), a (-63, 7.8),
        s (-39, 8), q (-75, -5.5)
    tau_x(v) = tau0 + tau1 / (1 + exp(-(v - theta_tau) / sigma_tau))
        (tau0, tau1, theta_tau, sigma_tau): n (1, 100, -80, -26), h (1, 500, -57, -3),
        r (40, 17.5, 68, -2.2)
    tau_q(v) = 1 / (exp(-14.59 - 0.086 v) + exp(-1.87 + 0.0701 v))
    b_inf(r) = 1 / (1 + exp((r - 0.4) / 0.1)) - 1 / (1 + exp(-0.4 / 0.1))

One step is forward Euler at a fixed ``dt`` (0.025 ms by default; ``dt`` up to 0.05 ms), all
derivatives taken at the old state. ``spike`` is 1 on the step ``v`` crosses -20 mV upwards
if ``v`` has been below -40 mV since the last spike (state bit ``armed``: without it, noise on
the falling flank of a spike can count it twice).
:func:`reference` is the same update in float64 (``x += dt * phi * (x_inf - x) / tau``).

**Lookup tables.** Everything that depends on ``v`` alone comes from one table on a grid of
``2**-lut_bits`` mV over ``-128 .. 64 mV`` (``192 * 2**lut_bits`` rows; ``v`` outside is
clamped), linearly interpolated: a row holds the values at its grid point and the differences
to the next, ``value = base + ((diff * frac) >> (16 - lut_bits))`` with ``frac`` the low ``16 -
lut_bits`` bits of ``v``. The columns are ``m_inf**3``, ``a_inf**3``, ``s_inf**2`` (20 fraction
bits) and, for each gate ``x`` of ``n, h, r, q``, ``x_inf`` and ``k_x = dt * phi_x / tau_x`` (28
fraction bits), so a gate steps as ``x += (k_x * (x_inf - x)) >> 28``. ``b_inf(r)**2`` comes
from a 1024-row table indexed by ``r`` (step 1/1024, value at the bin centre), and ``1 / (1 +
ca / k_1)`` from a 1024-row table indexed by ``ca`` over ``0 .. 16`` (step 1/64; ``I_AHP`` uses
``(ca / k_1) * table``, so the table only corrects a near-1 factor). Table size against
accuracy, 200 ms at 10 / 40 / 20 uA/cm^2, time of the last spike against float64 (192.45 /
187.975 / 190.2 ms): without interpolation (bin centres) ``lut_bits`` 1..4 gave errors of 6.2,
2.0, 0.75 and 0.25 ms at 10 uA/cm^2; interpolated, ``lut_bits`` 0, 1, 2 give 0.9, 0.23 and 0.05
ms (0.4, 0.05, 0 ms at 40 uA/cm^2). The default is ``lut_bits = 2``: 768 rows of 11 values and
11 differences.

**Fixed point.** Raw integers, ``>>`` an arithmetic (floor) shift, products exact:

* ``v``: signed 26 bits, 16 fraction bits (mV, -512 .. 512), saturating;
* ``n, h, r, q``: unsigned 29 bits, 28 fraction bits (0 .. 1), clamped to ``0 .. 2**28``;
* ``ca``: unsigned 36 bits, 28 fraction bits (0 .. 256), saturating;
* ``i_app``: signed 24 bits, 16 fraction bits (uA/cm^2, -128 .. 128);
* currents: 16 fraction bits; conductances ``g`` and ``k_Ca``: 16 fraction bits; ``dt``: 24
  fraction bits; ``dt * eps``: 48 fraction bits.

With ``G20(x) = x >> 8`` (a gate at 20 fraction bits) and ``cur(g, f, E) = (g * ((f * (v - E))
>> 20)) >> 16`` for a 20-fraction-bit factor ``f``, one step is::

    i_k   = cur(g_K, n4, E_K)       n2 = (G20(n)**2) >> 20, n4 = (n2**2) >> 20
    i_na  = cur(g_Na, (m3 * G20(h)) >> 20, E_Na)
    i_t   = cur(g_T, (((a3 * b2[r]) >> 20) * G20(r)) >> 20, E_Ca)
    i_ca  = cur(g_Ca, s2, E_Ca)
    i_ahp = cur(g_AHP, (((ca >> 8) * K1INV) >> 20) * ahp[ca]) >> 20, E_K)   K1INV = 2**20 / k_1
    i_h   = cur(g_h, G20(q), E_h)
    i_l   = (g_L * (v - E_L)) >> 16
    v'    = sat(v + (((i_app - i_l - i_k - i_na - i_t - i_ca - i_ahp - i_h) * DT) >> 24))
    x'    = clamp(x + ((k_x * (x_inf - x)) >> 28), 0, 2**28)          for x in n, h, r, q
    ca'   = sat(ca + ((DTEPS * (-(i_ca + i_t) - ((K_CA * ca) >> 28))) >> 36))
    spike = armed and v < -20 mV <= v';   armed' = v' < -40 mV or (armed and not spike)

Every intermediate fits int64 (the widest is ``DTEPS * (...)`` below ``2**60``). The gateware
is the same arithmetic (Amaranth widens every sum and product; sums are regrouped, which does
not change an exact integer).

**Pipeline.** The gateware update is written in ``LEVELS = 8`` levels and a last step, each at
most one multiply of registered values deep or a few adds and a clip (on the ECP5 a wide
product is several MULT18X18D and the adders of their partial products, with a long route to
and from the multiplier blocks): (0) table addresses, ``v - E`` for each reversal potential,
``n20**2``, the ``ca`` products; (1) the interpolation products, ``n4``, ``I_L`` and the factor
of ``I_h``; (2) the interpolated columns, the AHP factor, ``I_h``; (3) ``x_inf - x`` and the
factors of ``I_Na``, ``I_T``, ``I_Ca``, ``I_K``, ``I_AHP``; (4) the gate steps, ``I_Ca``,
``I_K``, ``I_AHP``; (5) the new gates, ``I_Na`` and the sum of five currents; (6) ``I_T``, the
whole current and the calcium drive; (7) the products by ``dt``; then saturation and the spike.
``stages`` (0..8, default 8) is the number of pipeline cuts the time-multiplexed core makes
after levels (:meth:`NeuronKernel.stage <neurogate.core.neuron.NeuronKernel.stage>`): the first
after level 0, across which the tables are read (a synchronous ROM read: block RAM), the others
spread evenly (:meth:`HHSTN.cuts`). The core then takes ``stages`` more cycles per timestep and
runs at a much higher clock (see benchmarks/README.md). The parallel wrapper ignores the cuts:
one combinational step per clock, the tables ROMs in LUTs. ``stages`` does not change the
model.

Reset: ``v = -65 mV``, each gate at its ``x_inf(-65 mV)`` (from the table), ``ca = 0.1``.

>>> import numpy as np
>>> from neurogate.plugins.neurons.hh_stn import HHSTN
>>> cell = HHSTN()
>>> out = cell.model(1).run({"i_app": np.full(4000, 40 << 16)})  # 100 ms at 40 uA/cm^2
>>> int(out["spike"].sum())
5
"""

from __future__ import annotations

import functools
import math

import numpy as np
from amaranth.hdl import Cat, Const, Mux, Value

from neurogate.core.component import Int, Param, Port
from neurogate.core.hookspecs import hookimpl
from neurogate.core.neuron import NeuronKernel, spread_cuts

__all__ = ["CONSTANTS", "HHSTN", "b_inf", "rates", "reference"]

#: The cell's constants (see the module docstring).
CONSTANTS = {
    "g_l": 2.25, "e_l": -60.0, "g_k": 45.0, "e_k": -80.0, "g_na": 37.0, "e_na": 55.0,
    "g_t": 0.5, "e_ca": 140.0, "g_ca": 2.0, "g_ahp": 20.0, "k_1": 15.0, "k_ca": 22.5,
    "eps": 3.75e-5, "g_h": 0.5, "e_h": -43.0, "phi_n": 0.75, "phi_h": 0.75, "phi_r": 0.2,
    "phi_q": 1.0,
}  # fmt: skip

FV = 16  # fraction bits of v and of the currents
FG = 28  # fraction bits of the gates and of ca
FT = 20  # fraction bits of the instantaneous factors
FDT = 24  # fraction bits of dt
FEPS = 48  # fraction bits of dt * eps
V_WIDTH, GATE_WIDTH, CA_WIDTH, I_WIDTH = 26, 29, 36, 24
V_LO, V_HI = -128, 64  # table range of v, mV
R_BITS = 10  # b_inf(r) table: 2**R_BITS rows
CA_BITS, CA_STEP_BITS = 10, 6  # 1 / (1 + ca / k_1) table: 2**CA_BITS rows of 2**-CA_STEP_BITS
V_SPIKE = -20 << FV
V_REARM = -40 << FV
V_INIT, CA_INIT = -65.0, 0.1
GATES = ("n", "h", "r", "q")
#: Columns of the ``v`` table.
V_COLUMNS = ("m3", "a3", "s2", "n_inf", "n_k", "h_inf", "h_k", "r_inf", "r_k", "q_inf", "q_k")
DT_MAX = 0.05
#: Levels of the gateware update (at most one variable multiply deep each); the core can cut
#: after any of the first ``LEVELS`` (``stages``).
LEVELS = 8


def _sig(v, theta, sigma):
    return 1.0 / (1.0 + np.exp(-(v - theta) / sigma))


def rates(v, dt: float) -> dict:
    """Return the float64 ``v``-dependent quantities of the model at ``v`` (mV) for step ``dt``.

    ``m3, a3, s2`` and, for each gate ``x``, ``x_inf`` and ``x_k = dt * phi_x / tau_x``.
    """
    c = CONSTANTS
    v = np.asarray(v, dtype=np.float64)
    tau = {
        "n": 1 + 100 / (1 + np.exp((v + 80) / 26)),
        "h": 1 + 500 / (1 + np.exp((v + 57) / 3)),
        "r": 40 + 17.5 / (1 + np.exp((v - 68) / 2.2)),
        "q": 1 / (np.exp(-14.59 - 0.086 * v) + np.exp(-1.87 + 0.0701 * v)),
    }
    inf = {
        "n": _sig(v, -32, 8),
        "h": _sig(v, -39, -3.1),
        "r": _sig(v, -67, -2),
        "q": _sig(v, -75, -5.5),
    }
    out = {"m3": _sig(v, -30, 15) ** 3, "a3": _sig(v, -63, 7.8) ** 3, "s2": _sig(v, -39, 8) ** 2}
    for x in GATES:
        out[f"{x}_inf"] = inf[x]
        out[f"{x}_k"] = dt * c[f"phi_{x}"] / tau[x]
    return out


def b_inf(r):
    """``b_inf(r)`` of the T current (float64)."""
    return 1 / (1 + np.exp((np.asarray(r, dtype=np.float64) - 0.4) / 0.1)) - 1 / (
        1 + math.exp(-0.4 / 0.1)
    )


def reference(i_app, dt: float = 0.025, v_spike: float = -20.0) -> dict:
    """Float64 forward-Euler run of the same equations: ``i_app`` is ``(steps, n)`` in uA/cm^2.

    Returns ``{"v", "ca", "spike"}`` arrays of shape ``(steps, n)`` (the state after each step),
    from the same reset state as :class:`HHSTN`.
    """
    c = CONSTANTS
    i_app = np.asarray(i_app, dtype=np.float64)
    steps, n = i_app.shape
    v = np.full(n, V_INIT)
    r0 = rates(v, dt)
    gate = {x: r0[f"{x}_inf"].copy() for x in GATES}
    ca = np.full(n, CA_INIT)
    armed = np.ones(n, dtype=bool)
    out = {key: np.empty((steps, n)) for key in ("v", "ca")}
    spike = np.zeros((steps, n), dtype=np.uint8)
    for t in range(steps):
        k = rates(v, dt)
        i_l = c["g_l"] * (v - c["e_l"])
        i_k = c["g_k"] * gate["n"] ** 4 * (v - c["e_k"])
        i_na = c["g_na"] * k["m3"] * gate["h"] * (v - c["e_na"])
        i_t = c["g_t"] * k["a3"] * b_inf(gate["r"]) ** 2 * gate["r"] * (v - c["e_ca"])
        i_ca = c["g_ca"] * k["s2"] * (v - c["e_ca"])
        i_ahp = c["g_ahp"] * (v - c["e_k"]) * ca / (ca + c["k_1"])
        i_h = c["g_h"] * gate["q"] * (v - c["e_h"])
        v_new = v + dt * (i_app[t] - i_l - i_k - i_na - i_t - i_ca - i_ahp - i_h)
        for x in GATES:
            gate[x] = gate[x] + k[f"{x}_k"] * (k[f"{x}_inf"] - gate[x])
        ca = ca + dt * c["eps"] * (-i_ca - i_t - c["k_ca"] * ca)
        spike[t] = armed & (v < v_spike) & (v_new >= v_spike)
        armed = (v_new < V_REARM / 2**FV) | (armed & ~spike[t].astype(bool))
        v = v_new
        out["v"][t], out["ca"][t] = v, ca
    return {**out, "spike": spike}


def _dt_rule(where: str, value):
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{where} must be a number of ms in (0, {DT_MAX}], not {value!r}")
    value = float(value)
    if not 0 < value <= DT_MAX:
        raise ValueError(
            f"{where} must be a number of ms in (0, {DT_MAX}], not {value!r} (forward Euler of "
            f"the sodium spike is unstable above {DT_MAX} ms)"
        )
    return value


@functools.cache
def _tables(dt: float, lut_bits: int):
    """Return ``(v table (rows, 11), b2 table, ahp table, constants)`` as int64 arrays."""
    rows = (V_HI - V_LO) << lut_bits
    grid = V_LO + np.arange(rows + 1) / (1 << lut_bits)
    r = rates(grid, dt)
    cols = []
    for key in V_COLUMNS:
        bits = FT if key in ("m3", "a3", "s2") else FG
        cols.append(np.round(r[key] * (1 << bits)).astype(np.int64))
    points = np.stack(cols, axis=1)
    vtab = np.concatenate([points[:-1], np.diff(points, axis=0)], axis=1)
    rc = (np.arange(1 << R_BITS) + 0.5) / (1 << R_BITS)
    b2 = np.round(b_inf(rc) ** 2 * (1 << FT)).astype(np.int64)
    cc = (np.arange(1 << CA_BITS) + 0.5) / (1 << CA_STEP_BITS)
    ahp = np.round((1 << FT) / (1 + cc / CONSTANTS["k_1"])).astype(np.int64)
    for arr in (vtab, b2, ahp):
        arr.setflags(write=False)
    c = CONSTANTS
    const = {
        f"g_{k}": round(c[f"g_{k}"] * (1 << FV)) for k in ("l", "k", "na", "t", "ca", "ahp", "h")
    }
    for k in ("l", "k", "na", "ca", "h"):
        const[f"e_{k}"] = round(c[f"e_{k}"] * (1 << FV))
    const["k_ca"] = round(c["k_ca"] * (1 << FV))
    const["k1inv"] = round((1 << FT) / c["k_1"])
    const["dt"] = round(dt * (1 << FDT))
    const["dteps"] = round(dt * c["eps"] * (1 << FEPS))
    return vtab, b2, ahp, const


@functools.cache
def _transposed(dt: float, lut_bits: int):
    """The ``v`` table as ``(22, rows)`` (contiguous columns, for :func:`numpy.take`)."""
    out = np.ascontiguousarray(_tables(dt, lut_bits)[0].T)
    out.setflags(write=False)
    return out


def _signed(x):
    """An unsigned value as a signed one of one more bit (same number)."""
    return Cat(x, Const(0, 1)).as_signed()


def _shr(x, s: int):
    """``x >> s`` (floor), as an Amaranth value ``s`` bits narrower (``>>`` keeps the width, and a
    pipeline register holds the whole width)."""
    return Value.cast(x).shift_right(s)


def _cmul(c: int, x, s: int):
    """``(c * x) >> s`` for a constant ``c``, its trailing zero bits taken out of the product."""
    zeros = min((c & -c).bit_length() - 1, s)
    return _shr((c >> zeros) * x, s - zeros)


def _clip(x, lo, hi):
    return Mux(x < lo, lo, Mux(x > hi, hi, x))


class HHSTN(NeuronKernel):
    """Fixed-point Hodgkin-Huxley STN neuron (see the module docstring for the update).

    Members
    -------
    i_app : in, signed 24
        Applied current in uA/cm^2, 16 fraction bits.
    spike : out, 1
        1 on the step ``v`` crosses -20 mV upwards; registered.
    v : out, signed 26
        Membrane potential in mV, 16 fraction bits; registered.
    n, h, r, q : out, unsigned 29
        Gates, 28 fraction bits; registered.
    ca : out, unsigned 36
        Intracellular calcium, 28 fraction bits; registered.
    """

    name = "hh_stn"

    dt = Param(0.025, _dt_rule, f"time step in ms, (0, {DT_MAX}]")
    lut_bits = Param(2, Int(0, 4), "v table resolution: 2**-lut_bits mV per row")
    stages = Param(
        LEVELS, Int(0, LEVELS), f"pipeline cuts in the time-multiplexed core, 0..{LEVELS}"
    )

    def tables(self):
        """Return ``(v table, b_inf**2 table, ahp table, integer constants)`` (see above)."""
        return _tables(self.dt, self.lut_bits)

    def state_fields(self):
        row = self._v_row(np.array([round(V_INIT * (1 << FV))]))[:, 0]
        init = {x: int(row[V_COLUMNS.index(f"{x}_inf")]) for x in GATES}
        fields = {
            "v": Port("out", V_WIDTH, True, "membrane potential (mV, Q.16)", round(V_INIT * 2**FV))
        }
        for x in GATES:
            fields[x] = Port("out", GATE_WIDTH, False, f"gate {x} (Q.28)", init[x])
        fields["ca"] = Port("out", CA_WIDTH, False, "calcium (Q.28)", round(CA_INIT * (1 << FG)))
        fields["armed"] = Port("out", 1, False, "v was below -40 mV since the last spike", 1)
        return fields

    def input_ports(self):
        return {"i_app": Port("in", I_WIDTH, True, "applied current (uA/cm^2, Q.16)")}

    def _v_row(self, v):
        """Return the interpolated ``v`` table columns ``(11, n)`` for raw ``v``."""
        vtab_t = _transposed(self.dt, self.lut_bits)
        shift = FV - self.lut_bits
        vc = np.clip(v, V_LO << FV, (V_HI << FV) - 1)
        row = np.take(vtab_t, (vc >> shift) - (V_LO << self.lut_bits), axis=1)
        cols = len(V_COLUMNS)
        slope = row[cols:]
        slope *= vc & ((1 << shift) - 1)
        slope >>= shift
        slope += row[:cols]
        return slope

    def update_np(self, state, inputs):
        _, b2tab, ahptab, c = self.tables()
        v, n, h, r, q, ca = (state[k] for k in ("v", "n", "h", "r", "q", "ca"))
        row = self._v_row(v)
        m3, a3, s2 = row[0], row[1], row[2]
        b2 = b2tab[np.minimum(r >> (FG - R_BITS), (1 << R_BITS) - 1)]
        ahp = ahptab[np.minimum(ca >> (FG - CA_STEP_BITS), (1 << CA_BITS) - 1)]

        def cur(g, f, e):
            return (c[g] * ((f * (v - c[e])) >> FT)) >> FV

        n2 = ((n >> 8) * (n >> 8)) >> FT
        i_k = cur("g_k", (n2 * n2) >> FT, "e_k")
        i_na = cur("g_na", (m3 * (h >> 8)) >> FT, "e_na")
        i_t = cur("g_t", (((a3 * b2) >> FT) * (r >> 8)) >> FT, "e_ca")
        i_ca = cur("g_ca", s2, "e_ca")
        i_ahp = cur("g_ahp", ((((ca >> 8) * c["k1inv"]) >> FT) * ahp) >> FT, "e_k")
        i_h = cur("g_h", q >> 8, "e_h")
        i_l = (c["g_l"] * (v - c["e_l"])) >> FV
        total = inputs["i_app"] - i_l - i_k - i_na - i_t - i_ca - i_ahp - i_h
        vmax = (1 << (V_WIDTH - 1)) - 1
        v_new = np.clip(v + ((total * c["dt"]) >> FDT), -vmax - 1, vmax)
        out = {"v": v_new}
        for j, x in enumerate(GATES):
            xinf, k = row[3 + 2 * j], row[4 + 2 * j]
            g = state[x]
            out[x] = np.clip(g + ((k * (xinf - g)) >> FG), 0, 1 << FG)
        dca = (c["dteps"] * (-(i_ca + i_t) - ((c["k_ca"] * ca) >> FG))) >> (FEPS + FV - FG)
        out["ca"] = np.clip(ca + dca, 0, (1 << CA_WIDTH) - 1)
        armed = state["armed"] != 0
        spike = armed & (v < V_SPIKE) & (v_new >= V_SPIKE)
        out["armed"] = ((v_new < V_REARM) | (armed & ~spike)).astype(np.int64)
        return out, spike

    @property
    def pipeline_stages(self):
        return self.stages

    def cuts(self) -> tuple[int, ...]:
        """Return the levels of the update after which the core cuts (see the module docstring)."""
        return spread_cuts(self.stages, LEVELS)

    def update_hdl(self, m, state, inputs):
        vtab, b2tab, ahptab, c = self.tables()
        cuts = self.cuts()
        level = iter(range(LEVELS))

        def cut(live, tables=None):
            return self.stage(m, live, tables, cut=next(level) in cuts)

        # Each level is at most one multiply (products of registers), or adds and a clip: a
        # value that is not needed any more is passed on all the same (synthesis removes the
        # register that nothing reads).
        # level 0: table addresses; the differences v - E; products of the state
        v, n, r, ca = (state[k] for k in ("v", "n", "r", "ca"))
        shift = FV - self.lut_bits
        vc = _clip(v, V_LO << FV, (V_HI << FV) - 1)
        vidx = _shr(vc, shift) - (V_LO << self.lut_bits)
        cols = len(V_COLUMNS)
        tables = {}
        for j, key in enumerate(V_COLUMNS):
            tables[key] = ([int(x) for x in vtab[:, j]], vidx)
            tables[f"d{key}"] = ([int(x) for x in vtab[:, cols + j]], vidx)
        tables["b2"] = ([int(x) for x in b2tab], _clip(_shr(r, FG - R_BITS), 0, (1 << R_BITS) - 1))
        top = (1 << CA_BITS) - 1
        tables["ahp"] = ([int(x) for x in ahptab], _clip(_shr(ca, FG - CA_STEP_BITS), 0, top))
        n20 = _shr(n, 8)
        x = cut(
            {
                **state,
                "i_app": inputs["i_app"],
                "frac": vc[:shift],
                **{f"dv_{e}": v - c[f"e_{e}"] for e in ("l", "h", "k", "na", "ca")},
                "n2": _shr(n20 * n20, FT),
                "ca_k": _cmul(c["k1inv"], _shr(ca, 8), FT),
                "kca": _cmul(c["k_ca"], ca, FG),
            },
            tables,
        )
        # level 1: the interpolation products; n**4, the factor of I_h, I_L
        x = cut(
            {
                **x,
                **{f"prod_{key}": x[f"d{key}"] * x["frac"] for key in V_COLUMNS},
                "n4": _shr(x["n2"] * x["n2"], FT),
                "f_h": _shr(_shr(x["q"], 8) * x["dv_h"], FT),
                "i_l": _cmul(c["g_l"], x["dv_l"], FV),
            }
        )
        # level 2: the interpolated columns; the AHP factor, I_h
        x = cut(
            {
                **x,
                **{key: x[key] + _shr(x[f"prod_{key}"], shift) for key in V_COLUMNS},
                "f_ahp": _shr(x["ca_k"] * x["ahp"], FT),
                "i_h": _cmul(c["g_h"], x["f_h"], FV),
            }
        )
        # level 3: x_inf - x for the gates; the factors of the currents times (v - E)
        x = cut(
            {
                **x,
                **{f"{g}_diff": _signed(x[f"{g}_inf"]) - x[g] for g in GATES},
                "f_na": _shr(x["m3"] * _shr(x["h"], 8), FT),
                "a3b2": _shr(x["a3"] * x["b2"], FT),
                "f_ca": _shr(x["s2"] * x["dv_ca"], FT),
                "f_k": _shr(x["n4"] * x["dv_k"], FT),
                "f_ahp": _shr(x["f_ahp"] * x["dv_k"], FT),
            }
        )
        # level 4: the gates' steps; I_Ca, I_K, I_AHP
        x = cut(
            {
                **x,
                **{f"{g}_delta": _shr(x[f"{g}_k"] * x[f"{g}_diff"], FG) for g in GATES},
                "f_na": _shr(x["f_na"] * x["dv_na"], FT),
                "f_t": _shr(x["a3b2"] * _shr(x["r"], 8), FT),
                "i_ca": _cmul(c["g_ca"], x["f_ca"], FV),
                "i_k": _cmul(c["g_k"], x["f_k"], FV),
                "i_ahp": _cmul(c["g_ahp"], x["f_ahp"], FV),
            }
        )
        # level 5: the gates done; I_Na; the sum of five currents
        x = cut(
            {
                **x,
                **{f"{g}_next": _clip(x[g] + x[f"{g}_delta"], 0, 1 << FG) for g in GATES},
                "i_na": _cmul(c["g_na"], x["f_na"], FV),
                "f_t": _shr(x["f_t"] * x["dv_ca"], FT),
                "sum": x["i_app"] - x["i_l"] - x["i_k"] - x["i_ca"] - x["i_ahp"] - x["i_h"],
            }
        )
        # level 6: I_T; the whole current, the calcium drive
        i_t = _cmul(c["g_t"], x["f_t"], FV)
        x = cut(
            {
                **x,
                "total": x["sum"] - x["i_na"] - i_t,
                "drive": -(x["i_ca"] + i_t) - x["kca"],
            }
        )
        # level 7: times dt
        x = cut(
            {
                **x,
                "dv": _cmul(c["dt"], x["total"], FDT),
                "dca": _cmul(c["dteps"], x["drive"], FEPS + FV - FG),
            }
        )
        # level 8: saturate, spike
        v = x["v"]
        vmax = (1 << (V_WIDTH - 1)) - 1
        v_new = _clip(v + x["dv"], -vmax - 1, vmax)
        out = {"v": v_new, **{g: x[f"{g}_next"] for g in GATES}}
        out["ca"] = _clip(x["ca"] + x["dca"], 0, (1 << CA_WIDTH) - 1)
        armed = x["armed"]
        spike = armed & (v < V_SPIKE) & (v_new >= V_SPIKE)
        out["armed"] = (v_new < V_REARM) | (armed & ~spike)
        return out, spike


@hookimpl
def neurogate_register_components():
    return [HHSTN]
