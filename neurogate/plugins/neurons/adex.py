"""``adex``: adaptive exponential integrate-and-fire neuron (Brette & Gerstner 2005), fixed point.

The model (R. Brette and W. Gerstner, J. Neurophysiol. 94:3637, 2005), in pF, nS, mV, ms, pA::

    C dV/dt  = -g_L (V - E_L) + g_L delta_T exp((V - V_T) / delta_T) - w + I
    tau_w dw/dt = a (V - E_L) - w
    if V >= V_peak:  V = V_reset,  w = w + b

**Step.** Forward Euler at a fixed ``dt`` (ms), both derivatives from the state at the start of
the step, then the threshold test on the new ``V``::

    V1 = V + dt/C * (g_L (E_L - V) + E(V) - w + I)
    w1 = w + dt/tau_w * (a (V - E_L) - w)
    spike = V1 >= V_peak;  if spike: V1 = V_reset, w1 = w1 + b

**Fixed point.** ``V`` is signed 32 bits in mV with 16 fraction bits (``-32768 .. 32768 mV``);
``w`` signed 32 bits in pA with 8 fraction bits (``+-8.4 uA``); the input ``i_in`` signed 24
bits in pA with 8 fraction bits (``+-32768 pA``). Both saturate. The constants are computed at
construction from the physical parameters: the four products ``k_L = dt g_L / C`` (on ``E_L -
V``), ``k_C = dt / C`` (on the current sum), ``k_a = dt a / tau_w`` (on ``V - E_L``) and ``k_w =
dt / tau_w`` (on ``w``) are each an integer ``m`` of at most 17 bits (plus sign) and a right
shift ``s`` (:class:`Coef`: ``c * x`` is ``(m * x + 2**(s-1)) >> s``, rounded half up, so the
relative error of a constant is below ``2**-16``); ``E_L``, ``V_T``, ``V_reset``, ``V_peak``
and ``b`` are rounded to their formats. :meth:`AdEx.quantisation` lists every constant with
its value, its fixed-point image and the error. With ``>>`` an arithmetic shift::

    J  = E(V) - w + I                                         (pA, 8 fraction bits)
    V1 = sat(V + k_L * (E_L - V) + k_C * J)
    w1 = sat(w + k_a * (V - E_L) - k_w * w)
    spike = V1 >= V_peak
    V' = V_reset if spike else V1;   w' = sat(w1 + b) if spike else w1

**The exponential.** ``E(V) = g_L delta_T exp((V - V_T) / delta_T)`` (pA, 8 fraction bits) is a
table of ``N`` points ``T[j] = E(V_lo + j h)`` (rounded), linearly interpolated: for ``x = V -
V_lo`` and ``j = x >> log2(h)``, ``E = T[j] + ((T[j+1] - T[j]) * (x mod h) + h/2) >> log2(h)``.
The step ``h`` is the largest power of two (in raw units) not above ``delta_T / 8``, so the
interpolation error is below ``(h / delta_T)**2 / 8 <= 0.2%`` of ``E`` (plus half an LSB of
rounding). ``V_lo`` is where ``E`` is half an LSB, rounded down to a raw step of ``V`` (``E =
0`` below it). The table stops at the first point where ``E`` reaches ``E_cap = 4 (V_peak -
V_T) / k_C`` (the current that moves ``V`` by ``4 (V_peak - V_T)`` in one step) and ``E =
E_cap`` beyond: there the float model also jumps past ``V_peak`` within the step unless ``w -
I`` exceeds ``3 (V_peak - V_T) / k_C`` (84 nA with the defaults). For the defaults ``h =
2**14`` raw (0.25 mV = delta_T / 8) and ``N = 144`` points of 25 bits; any parameters give
fewer than ``16 ln(2**32) = 355`` points, as ``E`` spans at most 32 bits (from half an LSB to
the 31-bit current format) between ``V_lo`` and the cap. The same table (one ROM word ``(T[j],
T[j+1] - T[j])`` per point, combinationally read) and the same integer interpolation are in the
model and the gateware. :attr:`AdEx.exp_table` holds it; :meth:`AdEx.quantisation` reports its
largest relative error against ``exp`` over the range of ``V`` where ``E`` is at least 10 pA.

**Gateware.** One combinational step per clock in the parallel wrapper. The four constant
products (``k_L``, ``k_C``, ``k_a``, ``k_w``) are built from shifts and adds of the constant's
signed digits (``izhikevich``'s constant multiplier: every partial sum a kept signal of its
proven range), not multipliers: with Yosys' DSP mapping they took 18 SB_MAC16 where the UP5K
has 8. The table interpolation ``(T[j+1] - T[j]) * (x mod h)`` is the one real multiplier.
The update is written in ``LEVELS = 3`` levels: (0) the table address and ``k_L``, ``k_a``,
``k_w`` on the state; (1) the interpolation, ``J`` and ``w1``; (2) ``k_C * J``; then ``V1``,
the spike and the resets. ``stages`` (0..3, default 3) is the number of pipeline cuts the
time-multiplexed core makes between them (:meth:`NeuronKernel.stage
<neurogate.core.neuron.NeuronKernel.stage>`; the table is read across the first, from block
RAM): the core takes ``stages`` more cycles per timestep at a higher clock. The parallel
wrapper ignores the cuts, and ``stages`` does not change the model.

**Bad input.** A parameter that is not a finite real in its range, ``V_reset`` or ``V_T`` not
below ``V_peak``, or a value whose fixed-point image overflows its format raise ``ValueError``
naming the parameter. ``dt`` must be below ``2 C / g_L`` and ``2 tau_w``: the stability limits
of forward Euler on the leak and on the adaptation (the error names both limits); the fidelity
checks in the tests use ``dt = 0.1 ms`` (``C / g_L`` is 9.4 ms with the defaults).

Reset: ``V = E_L``, ``w = 0``. Outputs are registered (latency 1).

>>> import neurogate as ng
>>> neuron = ng.component("adex")
>>> out = neuron.model(1).run({"i_in": [1000 << 8] * 5000})  # 500 ms at 1 nA
>>> int(out["spike"].sum())
17
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from amaranth.hdl import Cat, Const, Mux, Value

from neurogate.core.component import Int, Param, Port
from neurogate.core.fixed import FixedFormat
from neurogate.core.hookspecs import hookimpl
from neurogate.core.neuron import NeuronKernel, spread_cuts
from neurogate.plugins.neurons.izhikevich import _mul_const

__all__ = ["AdEx", "Coef", "Quantised", "Real", "adex_float"]

#: Fraction bits of ``V`` (mV).
V_FRAC = 16
#: Fraction bits of ``w`` and ``i_in`` (pA).
I_FRAC = 8
V_FMT = FixedFormat(32, V_FRAC, signed=True)
W_FMT = FixedFormat(32, I_FRAC, signed=True)
I_FMT = FixedFormat(24, I_FRAC, signed=True)
#: Bits of a constant's mantissa (without the sign).
COEF_BITS = 17
#: Largest mantissa of a constant that cannot be scaled down any further (shift 0).
COEF_MAX = (1 << 24) - 1
#: Candidate pipeline cuts of the gateware update (``stages``), see the module docstring.
LEVELS = 3


class Real:
    """Rule: a finite real number (int or float), optionally bounded; ``> min`` if ``open``."""

    def __init__(self, min: float | None = None, max: float | None = None, open: bool = False):
        self.min, self.max, self.open = min, max, open

    def describe(self) -> str:
        if self.min is not None and self.max is not None:
            return f"a real in {self.min}..{self.max}"
        if self.min is not None:
            return f"a real {'>' if self.open else '>='} {self.min}"
        return "a real"

    def __call__(self, where: str, value):
        if isinstance(value, bool | np.bool_) or not isinstance(
            value, int | float | np.integer | np.floating
        ):
            raise TypeError(f"{where} must be a real number, not {value!r}")
        value = float(value)
        bad = not math.isfinite(value)
        if self.min is not None:
            bad |= value <= self.min if self.open else value < self.min
        if self.max is not None:
            bad |= value > self.max
        if bad:
            raise ValueError(f"{where} must be {self.describe()}, not {value!r}")
        return value


@dataclass(frozen=True)
class Quantised:
    """One constant of a fixed-point neuron: its real value and its fixed-point image."""

    value: float
    fixed: float
    detail: str

    @property
    def error(self) -> float:
        """``fixed - value``."""
        return self.fixed - self.value

    @property
    def rel_error(self) -> float:
        """``|error| / |value|`` (0 for an exact zero)."""
        return abs(self.error) / abs(self.value) if self.value else abs(self.error)


@dataclass(frozen=True)
class Coef:
    """A real constant ``c`` applied to raw integers: ``y = (m * x + 2**(s-1)) >> s``.

    ``x`` has ``in_frac`` fraction bits and ``y`` ``out_frac``; ``m`` has at most ``bits``
    bits (:data:`COEF_BITS` unless :meth:`make` is told otherwise; more only when ``s`` is 0),
    so ``m / 2**s`` is ``c`` within a relative ``2**-(bits - 1)``.
    """

    value: float
    m: int
    s: int
    scale: int  # out_frac - in_frac

    @classmethod
    def make(
        cls, where: str, value: float, in_frac: int, out_frac: int, bits: int = COEF_BITS
    ) -> Coef:
        """The image of ``value`` with a mantissa of ``bits`` bits (see the class)."""
        scale = out_frac - in_frac
        if value == 0:
            return cls(0.0, 0, 0, scale)
        s = bits - 1 - math.floor(math.log2(abs(value))) - scale
        s = max(s, 0)
        m = round(value * 2.0 ** (scale + s))
        if abs(m) >= 1 << bits and s > 0:  # rounding carried into one more bit
            s -= 1
            m = round(value * 2.0 ** (scale + s))
        if abs(m) > COEF_MAX:
            raise ValueError(
                f"{where} = {value!r} is too large for its fixed-point image "
                f"(a multiplier of at most {COEF_MAX.bit_length()} bits)"
            )
        return cls(value, m, s, scale)

    @property
    def fixed(self) -> float:
        """The real value of the image."""
        return self.m / 2.0 ** (self.s + self.scale)

    def quantised(self) -> Quantised:
        return Quantised(self.value, self.fixed, f"{self.m} / 2**{self.s + self.scale}")

    def apply(self, x):
        """``c * x`` on NumPy int64 arrays or Amaranth values (the same integer function)."""
        if self.m == 0:
            return 0 * x
        y = x * self.m
        if self.s == 0:
            return y
        y = y + (1 << (self.s - 1))
        if isinstance(y, Value):  # as narrow as the shift makes it (``>>`` keeps the width)
            return y.shift_right(self.s)
        return y >> self.s


class AdEx(NeuronKernel):
    """Fixed-point AdEx neuron (see the module docstring for the step, formats and table).

    Members
    -------
    i_in : in, signed 24
        Input current in pA, 8 fraction bits.
    spike : out, 1
        1 on the step ``V`` reaches ``V_peak`` (then ``V = V_reset``, ``w += b``); registered.
    v : out, signed 32
        Membrane potential in mV, 16 fraction bits; registered.
    w : out, signed 32
        Adaptation current in pA, 8 fraction bits; registered.
    """

    name = "adex"

    C = Param(281.0, Real(0, open=True), "membrane capacitance (pF)")
    g_L = Param(30.0, Real(0, open=True), "leak conductance (nS)")
    E_L = Param(-70.6, Real(), "leak reversal potential (mV)")
    V_T = Param(-50.4, Real(), "threshold slope factor's centre V_T (mV)")
    delta_T = Param(2.0, Real(0, open=True), "slope factor (mV)")
    tau_w = Param(144.0, Real(0, open=True), "adaptation time constant (ms)")
    a = Param(4.0, Real(), "subthreshold adaptation (nS)")
    b = Param(80.5, Real(), "spike-triggered adaptation (pA)")
    V_reset = Param(-70.6, Real(), "reset potential (mV)")
    V_peak = Param(-40.4, Real(), "spike detection potential (mV)")
    dt = Param(0.1, Real(0, open=True), "time step (ms)")
    stages = Param(
        LEVELS, Int(0, LEVELS), f"pipeline cuts in the time-multiplexed core, 0..{LEVELS}"
    )

    def validate(self):
        for key in ("V_T", "V_reset"):
            if getattr(self, key) >= self.V_peak:
                raise ValueError(
                    f"adex.{key} ({getattr(self, key)!r} mV) must be below adex.V_peak "
                    f"({self.V_peak!r} mV)"
                )
        limit = min(2 * self.C / self.g_L, 2 * self.tau_w)
        if self.dt >= limit:
            raise ValueError(
                f"adex.dt = {self.dt!r} ms is too coarse: forward Euler is stable only for dt "
                f"below 2*C/g_L = {2 * self.C / self.g_L:.6g} ms and 2*tau_w = "
                f"{2 * self.tau_w:.6g} ms"
            )
        for key in ("E_L", "V_T", "V_reset", "V_peak"):
            _raw(f"adex.{key}", getattr(self, key), V_FMT, "mV")
        _raw("adex.b", self.b, W_FMT, "pA")
        consts = {
            "k_L": Coef.make("adex: dt*g_L/C", self.dt * self.g_L / self.C, V_FRAC, V_FRAC),
            "k_C": Coef.make("adex: dt/C", self.dt / self.C, I_FRAC, V_FRAC),
            "k_a": Coef.make("adex: dt*a/tau_w (a)", self.dt * self.a / self.tau_w, V_FRAC, I_FRAC),
            "k_w": Coef.make("adex: dt/tau_w", self.dt / self.tau_w, I_FRAC, I_FRAC),
        }
        object.__setattr__(self, "_coefs", consts)
        object.__setattr__(self, "_table", self._build_table())

    # -- constants ----------------------------------------------------------------------------
    def _build_table(self):
        dT = self.delta_T
        scale = 1 << I_FRAC
        amp = self.g_L * dT * scale  # E in raw units at V = V_T
        k_c = self.dt / self.C  # mV per pA
        e_cap = 4 * (self.V_peak - self.V_T) / k_c  # pA
        cap = round(e_cap * scale)
        step_log = math.floor(math.log2(dT * (1 << V_FRAC) / 8))
        if step_log < 0:
            raise ValueError(
                f"adex.delta_T = {dT!r} mV is below the resolution of V for its table "
                f"(at least 8 steps of 2**-{V_FRAC} mV)"
            )
        h = 1 << step_log
        if cap > W_FMT.max:
            raise ValueError(
                f"adex: the exponential's cap 4*(V_peak - V_T)*C/dt = {e_cap:.6g} pA "
                f"does not fit the current format ({W_FMT.max / scale:.6g} pA)"
            )
        # V_lo: E(V_lo) = 1/2 LSB; only an amplitude above 1/2 LSB has a table
        x_lo = math.log(0.5 / amp) if amp > 0.5 else 0.0
        v_lo = math.floor((self.V_T + x_lo * dT) * (1 << V_FRAC))
        points = []
        while True:
            v = (v_lo + len(points) * h) / (1 << V_FRAC)
            e = min(amp * math.exp(min((v - self.V_T) / dT, 700.0)), cap)
            points.append(round(e))
            if points[-1] >= cap:
                points[-1] = cap
                break
        V_FMT.check("adex: the exponential table's lowest V", v_lo)
        return v_lo, step_log, points

    @property
    def exp_table(self) -> tuple[int, int, list[int]]:
        """``(V_lo raw, log2 h, [T[0], ..., T[N-1]])``; ``T[N-1]`` is the cap."""
        v_lo, step_log, points = self._table
        return v_lo, step_log, list(points)

    def quantisation(self) -> dict[str, Quantised]:
        """Every constant: its value, its fixed-point image and the error (see the docstring).

        ``"exp_table"`` compares ``E`` with ``g_L delta_T exp(...)`` over the ``V`` where the
        exact value is at least 10 pA, up to the last point below the cap, at the point of the
        largest relative error.
        """
        out = {key: coef.quantised() for key, coef in self._coefs.items()}
        for key in ("E_L", "V_T", "V_reset", "V_peak"):
            raw = V_FMT.from_float(getattr(self, key))
            out[key] = Quantised(getattr(self, key), raw / (1 << V_FRAC), f"{raw} / 2**{V_FRAC}")
        raw = W_FMT.from_float(self.b)
        out["b"] = Quantised(self.b, raw / (1 << I_FRAC), f"{raw} / 2**{I_FRAC}")
        v_lo, step_log, points = self._table
        # the last interval ends at the cap, below exp: it is left out (see the docstring)
        vs = np.arange(v_lo, v_lo + (len(points) - 2 << step_log), max(1, (1 << step_log) // 16))
        exact = self.g_L * self.delta_T * np.exp((vs / (1 << V_FRAC) - self.V_T) / self.delta_T)
        got = self._exp_np(vs) / (1 << I_FRAC)
        ok = exact >= 10.0
        rel = np.where(ok, np.abs(got - exact) / np.where(ok, exact, 1), 0)
        i = int(np.argmax(rel))
        out["exp_table"] = Quantised(
            float(exact[i]),
            float(got[i]),
            f"{len(points)} points, h = 2**{step_log - V_FRAC} mV, at V = "
            f"{vs[i] / (1 << V_FRAC):.4f} mV",
        )
        return out

    # -- the kernel ---------------------------------------------------------------------------
    def state_fields(self):
        v_init = V_FMT.from_float(self.E_L)
        return {
            "v": Port("out", 32, True, "membrane potential (mV, Q.16)", v_init),
            "w": Port("out", 32, True, "adaptation current (pA, Q.8)", 0),
        }

    def input_ports(self):
        return {"i_in": Port("in", 24, True, "input current (pA, Q.8)")}

    def _exp_np(self, v):
        v_lo, step_log, points = self._table
        table = np.asarray(points, dtype=np.int64)
        top = len(points) - 1
        x = v - v_lo
        j = np.clip(x >> step_log, 0, top)
        frac = x & ((1 << step_log) - 1)
        slope = table[np.minimum(j + 1, top)] - table[j]
        half = 1 << (step_log - 1) if step_log else 0
        e = table[j] + ((slope * frac + half) >> step_log)
        return np.where(x < 0, 0, np.where(j >= top, table[top], e))

    def update_np(self, state, inputs):
        k = self._coefs
        v, w = state["v"], state["w"]
        e_l = V_FMT.from_float(self.E_L)
        j = self._exp_np(v) - w + inputs["i_in"]
        v1 = V_FMT.fit_array(v + k["k_L"].apply(e_l - v) + k["k_C"].apply(j))
        w1 = W_FMT.fit_array(w + k["k_a"].apply(v - e_l) - k["k_w"].apply(w))
        spike = v1 >= V_FMT.from_float(self.V_peak)
        v2 = np.where(spike, V_FMT.from_float(self.V_reset), v1)
        w2 = np.where(spike, W_FMT.fit_array(w1 + W_FMT.from_float(self.b)), w1)
        return {"v": v2, "w": w2}, spike

    @property
    def pipeline_stages(self):
        return self.stages

    def cuts(self) -> tuple[int, ...]:
        """Return the levels of the update after which the core cuts (see the module docstring)."""
        return spread_cuts(self.stages, LEVELS)

    def update_hdl(self, m, state, inputs):
        k = self._coefs
        cuts = self.cuts()
        level = iter(range(LEVELS))

        def cut(live, tables=None):
            return self.stage(m, live, tables, cut=next(level) in cuts)

        v, w = state["v"], state["w"]
        e_l = V_FMT.from_float(self.E_L)
        v_lo, step_log, points = self._table
        top = len(points) - 1
        cap = points[-1]
        # level 0: the table address; the three products of the state
        x = v - v_lo
        j = x >> step_log
        index = Mux(j >= top, top, j[: max(top.bit_length(), 1)])
        slopes = [points[min(i + 1, top)] - points[i] for i in range(len(points))]
        live = cut(
            {
                "v": v,
                "w": w,
                "i_in": inputs["i_in"],
                "frac": x[:step_log] if step_log else Const(0, 1),
                "low": x < 0,
                "high": j >= top,
                "leak": _const_mul(m, "k_L", e_l - v, e_l - V_FMT.max, e_l - V_FMT.min, k["k_L"]),
                "adapt": _const_mul(m, "k_a", v - e_l, V_FMT.min - e_l, V_FMT.max - e_l, k["k_a"]),
                "decay": _const_mul(m, "k_w", w, W_FMT.min, W_FMT.max, k["k_w"]),
            },
            {"exp_t": (points, index), "exp_d": (slopes, index)},
        )
        # level 1: the interpolated exponential, the current sum, the new w
        half = 1 << (step_log - 1) if step_log else 0
        frac = Cat(live["frac"], Const(0, 1)).as_signed()
        e = live["exp_t"] + ((live["exp_d"] * frac + half) >> step_log)
        e = Mux(live["low"], 0, Mux(live["high"], cap, e))
        w = live["w"]
        live = cut(
            {
                "v": live["v"],
                "leak": live["leak"],
                "j": e - w + live["i_in"],
                "w1": W_FMT.fit_value(w + live["adapt"] - live["decay"]),
            }
        )
        # level 2: the drive k_C * J
        j_lo, j_hi = -W_FMT.max + I_FMT.min, cap - W_FMT.min + I_FMT.max
        drive = _const_mul(m, "k_C", live["j"], j_lo, j_hi, k["k_C"])
        live = cut({"v": live["v"], "leak": live["leak"], "drive": drive, "w1": live["w1"]})
        # level 3: the new v, the spike and the reset
        v1 = V_FMT.fit_value(live["v"] + live["leak"] + live["drive"])
        spike = v1 >= V_FMT.from_float(self.V_peak)
        v2 = Mux(spike, V_FMT.from_float(self.V_reset), v1)
        w1 = live["w1"]
        w2 = Mux(spike, W_FMT.fit_value(w1 + W_FMT.from_float(self.b)), w1)
        return {"v": v2, "w": w2}, spike


def _const_mul(m, name: str, x, lo: int, hi: int, coef: Coef):
    """``coef.apply(x)`` in gateware, for ``x`` within ``lo .. hi``: the product by the
    constant mantissa is built from shifts and adds (as ``izhikevich`` does), not a multiplier,
    so that it needs no DSP block; the result is the same integer.
    """
    if coef.m == 0:
        return Const(0)
    product, _, _ = _mul_const(m, f"adex_{name}", x, lo, hi, coef.m)
    if coef.s == 0:
        return product
    return (product + (1 << (coef.s - 1))).shift_right(coef.s)


def _raw(where: str, value: float, fmt: FixedFormat, unit: str) -> int:
    raw = round(value * (1 << fmt.fraction))
    if not fmt.contains(raw):
        lo, hi = fmt.min / (1 << fmt.fraction), fmt.max / (1 << fmt.fraction)
        raise ValueError(
            f"{where} = {value!r} {unit} overflows its fixed-point format ({lo:.6g}..{hi:.6g})"
        )
    return raw


def adex_float(neuron: AdEx, current, v0=None, w0=0.0):
    """Float64 reference of the same equations and step: ``(V, w, spike)`` over ``current``.

    ``current`` is ``(T, n)`` (or ``(T,)``) in pA; ``V`` in mV and ``w`` in pA after each step.
    The exponential is ``numpy.exp`` (not the table) and the constants are not rounded.
    """
    p = neuron
    cur = np.asarray(current, dtype=np.float64)
    one = cur.ndim == 1
    cur = cur.reshape(cur.shape[0], -1)
    steps, n = cur.shape
    v = np.full(n, p.E_L if v0 is None else v0, dtype=np.float64)
    w = np.full(n, w0, dtype=np.float64)
    vs, ws = np.empty((steps, n)), np.empty((steps, n))
    spikes = np.zeros((steps, n), dtype=bool)
    for t in range(steps):
        arg = np.minimum((v - p.V_T) / p.delta_T, 700.0)
        dv = (-p.g_L * (v - p.E_L) + p.g_L * p.delta_T * np.exp(arg) - w + cur[t]) / p.C
        dw = (p.a * (v - p.E_L) - w) / p.tau_w
        v, w = v + p.dt * dv, w + p.dt * dw
        spk = v >= p.V_peak
        v = np.where(spk, p.V_reset, v)
        w = np.where(spk, w + p.b, w)
        vs[t], ws[t], spikes[t] = v, w, spk
    if one:
        return vs[:, 0], ws[:, 0], spikes[:, 0]
    return vs, ws, spikes


@hookimpl
def neurogate_register_components():
    return [AdEx]
