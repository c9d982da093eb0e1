"""``glif``: the Allen Institute's GLIF models 1-5 (Teeter et al. 2018) as NEST's ``glif_psc``.

``model`` picks the mechanisms as in NEST (``spike_dependent_threshold`` "R",
``after_spike_currents`` "ASC", ``adapting_threshold`` "A"): 1 LIF, 2 LIF_R, 3 LIF_ASC,
4 LIF_R_ASC, 5 LIF_R_ASC_A. The mechanisms may also be given as NEST's three booleans (then
``model`` is left out); any other combination is NEST's error. Parameters have NEST's names,
units (mV, pA, nS, pF, ms, 1/ms) and defaults.

**Step** (NEST 3's ``glif_psc::update``, in its order, with ``U`` the membrane potential
relative to ``E_L`` and ``J = I + ASC_sum``)::

    if refr == 0:
        th_s = th_s * exp(-th_spike_decay dt)                                         (R)
        ASC_sum = sum_k c_k ASC_k;  ASC_k = ASC_k * exp(-k_k dt)                     (ASC)
            with c_k = (1 - exp(-k_k dt)) / (k_k dt): the exact mean over the step
        U' = U P33 + J P30,  P33 = exp(-dt g / C_m),  P30 = (1 - P33) / g
        th_v = NEST's exact voltage-threshold update from U, J and th_v             (A)
        if U' > th_s + th_v + th_inf:                                        (spike)
            refr = round(t_ref / dt)
            ASC_k = asc_amps_k + ASC_k * asc_r_k exp(-k_k t_ref)                     (ASC)
            U' = V_reset (1, 3)  or  voltage_reset_fraction U + voltage_reset_add  (R)
            th_s = th_s exp(-th_spike_decay t_ref) + th_spike_add                    (R)
    else:
        refr -= 1   (U, th_s, th_v and the ASC held)

``U`` on the right is the value at the start of the step (NEST's ``v_old``). The threshold
voltage update is NEST's ``th_v' = phi (U - beta) P_v + D (th_v - phi (U - beta) - (a/b)
beta) + (a/b) beta`` with ``beta = J / g``, ``phi = a / (b - g / C_m)``, ``P_v = exp(-g dt /
C_m)``, ``D = exp(-b dt)`` (``a = th_voltage_index``, ``b = th_voltage_decay``), rearranged
into ``D th_v + c_U U + c_J J`` (``c_U = phi (P_v - D)``, ``c_J = ((a/b)(1 - D) - c_U) /
g``), which is the same linear map.

**What is kept.** NEST's ``glif_psc`` filters incoming spikes through alpha-shaped synaptic
currents (``tau_syn``); here the neuron has one input current ``i_in`` (NEST's ``I``, e.g. a
step-current generator, used in the step it is presented) and synaptic filtering belongs to
the synapse component in front of it. ``asc_init`` is the reset value of the after-spike
currents. There are exactly two after-spike currents (NEST allows any number).

**Fixed point.** ``U``, ``th_s`` and ``th_v`` are signed 32 bits in mV with 20 fraction bits
(``+-2048 mV``); ``ASC_k`` signed 36 bits in pA with 20 fraction bits (``+-32768 pA``);
``i_in`` signed 24 bits in pA with 8 fraction bits (``+-32768 pA``; ``J`` is ``(i_in << 12) +
ASC_sum`` with 20 fraction bits). All saturate. Every multiplier above is a
:class:`~neurogate.plugins.neurons.adex.Coef` with a mantissa of at most 20 bits and a shift,
``(m x + 2**(s-1)) >> s`` (rounded half up); a factor ``p`` above one half is applied as ``x -
(1 - p) x``, so that its error is relative to ``1 - p`` (the leak per step), within
``2**-19``. Potentials and currents (``th_inf = V_th - E_L``, ``V_reset - E_L``,
``voltage_reset_add``, ``th_spike_add``, ``asc_amps``, ``asc_init``) are rounded to their
formats. :meth:`GLIF.quantisation` lists every constant, its image and the error. ``refr``
counts ``round(t_ref / dt)`` steps (NEST's rounding of a time to the grid). The 20 fraction
bits of the after-spike currents matter: with 12, rounding the slowly decaying current each
step moved spike times near rheobase by more than 1 ms against NEST (models 3-5 at 275 pA);
with 20, every spike of the NEST traces in ``tests/data/glif_nest_traces.npz`` (models 1-5,
500 ms of 275, 400, 500 pA and a noisy current) falls on NEST's step.

**Errors** (``ValueError``; NEST's ``BadProperty`` texts after the parameter's name): e.g.
``glif.C_m: Capacitance must be strictly positive.``, ``glif.V_reset: Reset potential must be
smaller than threshold.``, ``glif.voltage_reset_fraction: Voltage fraction coefficient
following spike must be within [0.0, 1.0].``, and for three booleans that are not one of the
five models ``glif: Incorrect model mechanism combination setting.See documentation for
setting of model mechanism parameters:spike_dependent_threshold, after_spike_currents,
adapting_threshold.`` (NEST's text, without its spaces). ``dt`` has no stability limit (every
update is the exact solution over the step, NEST's "stable coefficients"), but it must be
below ``2 t_ref`` so that the refractory period is at least one step; a constant whose
fixed-point image overflows its format is an error naming the parameter.

Reset: ``U = 0`` (``V_m = E_L``), ``th_s = th_v = 0``, ``ASC_k = asc_init_k``, ``refr = 0``.
Outputs are registered (latency 1).

**Pipeline.** Model and gateware share one update function, written in ``LEVELS = 4`` levels
and a last step: (0) the products of the state (``P33 U``, the ASC decays and means, the
threshold decays, ``c_U U``, the reset fraction); (1) ``J``, the ASC and ``th_s`` jumps; (2)
``P30 J`` and ``c_J J``; (3) the new potential before the spike and the threshold's parts, each
saturated; then the spike, its resets and the refractory hold. ``stages`` (0..4, default 4) is
the number of pipeline cuts the time-multiplexed core makes between the levels
(:meth:`NeuronKernel.stage <neurogate.core.neuron.NeuronKernel.stage>`): it takes ``stages``
more cycles per timestep at a higher clock. The parallel wrapper ignores the cuts; ``stages``
does not change the model.

>>> import neurogate as ng
>>> neuron = ng.component("glif", model=3)
>>> out = neuron.model(1).run({"i_in": [300 << 8] * 5000})  # 500 ms at 300 pA
>>> int(out["spike"].sum())
11
"""

from __future__ import annotations

import math

import numpy as np
from amaranth.hdl import Mux

from neurogate.core.component import Bool, Int, Optional, Param, Port, bits_for
from neurogate.core.fixed import FixedFormat
from neurogate.core.hookspecs import hookimpl
from neurogate.core.neuron import NeuronKernel, spread_cuts
from neurogate.plugins.neurons.adex import Coef, Quantised, Real

__all__ = ["GLIF", "MECHANISMS", "glif_float"]

#: Fraction bits of ``U``, ``th_s``, ``th_v`` (mV).
V_FRAC = 20
#: Fraction bits of the after-spike currents and of ``J`` (pA).
A_FRAC = 20
#: Fraction bits of the input (pA).
I_FRAC = 8
#: Bits of a constant's mantissa (without the sign).
COEF_BITS = 20
V_FMT = FixedFormat(32, V_FRAC, signed=True)
A_FMT = FixedFormat(36, A_FRAC, signed=True)
#: Candidate pipeline cuts of the gateware update (``stages``), see the module docstring.
LEVELS = 4

#: ``model: (spike_dependent_threshold, after_spike_currents, adapting_threshold)``.
MECHANISMS = {
    1: (False, False, False),
    2: (True, False, False),
    3: (False, True, False),
    4: (True, True, False),
    5: (True, True, True),
}
_FLAGS = ("spike_dependent_threshold", "after_spike_currents", "adapting_threshold")
_NEST_COMBINATION = (
    "Incorrect model mechanism combination setting."
    "See documentation for setting of model mechanism parameters:"
    "spike_dependent_threshold, after_spike_currents, adapting_threshold."
)


class _Pair:
    """Rule: a pair (tuple or list) of reals."""

    def describe(self) -> str:
        return "a sequence of reals"

    def __call__(self, where: str, value):
        if isinstance(value, str) or not hasattr(value, "__len__"):
            raise TypeError(f"{where} must be {self.describe()}, not {value!r}")
        return tuple(Real()(f"{where}[{i}]", x) for i, x in enumerate(value))


class _Decay:
    """``p * x`` for a constant ``0 <= p``: as ``x - (1 - p) x`` when ``p > 1/2``."""

    def __init__(self, where: str, p: float, frac: int):
        self.p = p
        self.near_one = p > 0.5
        self.coef = Coef.make(where, 1 - p if self.near_one else p, frac, frac, COEF_BITS)

    def apply(self, x):
        return x - self.coef.apply(x) if self.near_one else self.coef.apply(x)

    def quantised(self) -> Quantised:
        q = self.coef.quantised()
        if self.near_one:
            return Quantised(self.p, 1 - q.fixed, f"1 - {q.detail}")
        return q


class GLIF(NeuronKernel):
    """NEST ``glif_psc`` models 1-5 in fixed point (see the module docstring).

    Members
    -------
    i_in : in, signed 24
        Input current ``I`` in pA, 8 fraction bits.
    spike : out, 1
        1 on the step ``U`` exceeds the threshold; registered.
    v : out, signed 32
        ``U = V_m - E_L`` in mV, 20 fraction bits; registered.
    th_s : out, signed 32
        Spike component of the threshold (mV, Q.20); models 2, 4, 5.
    th_v : out, signed 32
        Voltage component of the threshold (mV, Q.20); model 5.
    asc0, asc1 : out, signed 32
        The after-spike currents (pA, Q.12); models 3, 4, 5.
    refr : out, unsigned
        Refractory steps left; present when ``round(t_ref / dt) > 0``.
    """

    name = "glif"

    dt = Param(0.1, Real(), "time step (ms)")
    g = Param(9.43, Real(), "membrane conductance (nS)")
    E_L = Param(-78.85, Real(), "resting potential (mV)")
    V_th = Param(-51.68, Real(), "instantaneous threshold th_inf + E_L (mV)")
    C_m = Param(58.72, Real(), "membrane capacitance (pF)")
    t_ref = Param(3.75, Real(), "refractory period (ms)")
    V_reset = Param(-78.85, Real(), "reset potential of models 1 and 3 (mV)")
    th_spike_add = Param(0.37, Real(), "threshold jump after a spike (mV)")
    th_spike_decay = Param(0.009, Real(), "spike threshold decay rate (1/ms)")
    voltage_reset_fraction = Param(0.2, Real(), "voltage fraction kept after a spike")
    voltage_reset_add = Param(18.51, Real(), "voltage added after a spike (mV)")
    th_voltage_index = Param(0.005, Real(), "adaptation index of the threshold (1/ms)")
    th_voltage_decay = Param(0.09, Real(), "voltage-induced threshold decay rate (1/ms)")
    asc_init = Param((0.0, 0.0), _Pair(), "initial after-spike currents (pA)")
    asc_decay = Param((0.003, 0.1), _Pair(), "after-spike current decay rates k (1/ms)")
    asc_amps = Param((-9.18, -198.94), _Pair(), "after-spike current amplitudes (pA)")
    asc_r = Param((1.0, 1.0), _Pair(), "after-spike current fractions r kept after a spike")
    spike_dependent_threshold = Param(None, Optional(Bool()), "mechanism R (None: from model)")
    after_spike_currents = Param(None, Optional(Bool()), "mechanism ASC (None: from model)")
    adapting_threshold = Param(None, Optional(Bool()), "mechanism A (None: from model)")

    #: The GLIF model; also accepted as ``model=`` (``model`` is the name of a method).
    model_number = Param(None, Optional(Int(1, 5)), "GLIF model 1..5 (None: from the flags)")
    stages = Param(
        LEVELS, Int(0, LEVELS), f"pipeline cuts in the time-multiplexed core, 0..{LEVELS}"
    )

    def __init__(self, model: int | None = None, **params):
        if model is not None:
            params["model_number"] = model
        super().__init__(**params)

    def validate(self):
        flags = tuple(getattr(self, key) for key in _FLAGS)
        if self.model_number is not None:
            want = MECHANISMS[self.model_number]
            for key, got, w in zip(_FLAGS, flags, want, strict=True):
                if got is not None and got != w:
                    raise ValueError(
                        f"glif.{key} = {got!r} contradicts model={self.model_number} "
                        f"(which has {key}={w!r})"
                    )
            mech = want
        else:
            mech = tuple(bool(f) for f in flags)
            if mech not in MECHANISMS.values():
                raise ValueError(f"glif: {_NEST_COMBINATION}")
        object.__setattr__(self, "mechanisms", mech)
        r, asc, a = mech
        if self.dt <= 0:
            raise ValueError(f"glif.dt must be a real > 0, not {self.dt!r}")
        if self.t_ref > 0 and self.refractory_steps == 0:
            raise ValueError(
                f"glif.dt = {self.dt!r} ms is too coarse: the refractory period t_ref = "
                f"{self.t_ref!r} ms must be at least one step (dt < 2 t_ref)"
            )
        sizes = {len(self.asc_init), len(self.asc_decay), len(self.asc_amps), len(self.asc_r)}
        if asc:
            if len(sizes) != 1:
                self._nest(
                    "asc_decay",
                    "All after spike current parameters (i.e., asc_init, k, asc_amps, r) "
                    "must have the same size.",
                )
            if sizes != {2}:
                raise ValueError(
                    f"glif.asc_decay: glif has exactly two after-spike currents, not "
                    f"{len(self.asc_decay)}"
                )
            for k, r_k in zip(self.asc_decay, self.asc_r, strict=True):
                if k <= 0:
                    self._nest(
                        "asc_decay", "After-spike current time constant must be strictly positive."
                    )
                if not 0.0 <= r_k <= 1.0:
                    self._nest(
                        "asc_r",
                        "After spike current fraction following spike coefficients r must be "
                        "within [0.0, 1.0].",
                    )
        if self.V_reset - self.E_L >= self.V_th - self.E_L:
            self._nest("V_reset", "Reset potential must be smaller than threshold.")
        if self.C_m <= 0:
            self._nest("C_m", "Capacitance must be strictly positive.")
        if self.g <= 0:
            self._nest("g", "Membrane conductance must be strictly positive.")
        if self.t_ref <= 0:
            self._nest("t_ref", "Refractory time constant must be strictly positive.")
        if a and self.th_voltage_decay <= 0:
            self._nest(
                "th_voltage_decay",
                "Voltage-induced threshold time constant must be strictly positive.",
            )
        if r:
            if self.th_spike_decay <= 0:
                self._nest(
                    "th_spike_decay",
                    "Spike induced threshold time constant must be strictly positive.",
                )
            if not 0.0 <= self.voltage_reset_fraction <= 1.0:
                self._nest(
                    "voltage_reset_fraction",
                    "Voltage fraction coefficient following spike must be within [0.0, 1.0].",
                )
        if a and math.isclose(self.th_voltage_decay, self.g / self.C_m, rel_tol=1e-9):
            raise ValueError(
                f"glif.th_voltage_decay = {self.th_voltage_decay!r} /ms equals g / C_m: NEST's "
                "voltage-threshold update divides by their difference"
            )
        object.__setattr__(self, "_k", self._constants())

    def _nest(self, key: str, msg: str):
        raise ValueError(f"glif.{key}: {msg}")

    @property
    def refractory_steps(self) -> int:
        """``round(t_ref / dt)``, half up."""
        return math.floor(self.t_ref / self.dt + 0.5 + 1e-9)

    # -- constants ----------------------------------------------------------------------------
    def _constants(self) -> dict:
        r, asc, a = self.mechanisms
        dt, g, c = self.dt, self.g, self.C_m
        p33 = math.exp(-dt * g / c)
        k = {
            "P33": _Decay("glif: P33 = exp(-dt g / C_m)", p33, V_FRAC),
            "P30": Coef.make("glif: P30 = (1 - P33) / g", (1 - p33) / g, A_FRAC, V_FRAC, COEF_BITS),
            "th_inf": _fixed("V_th", self.V_th - self.E_L, V_FMT, "mV"),
            "V_reset": _fixed("V_reset", self.V_reset - self.E_L, V_FMT, "mV"),
        }
        if r:
            k["th_s_decay"] = _Decay(
                "glif.th_spike_decay", math.exp(-self.th_spike_decay * dt), V_FRAC
            )
            k["th_s_ref"] = _Decay(
                "glif.th_spike_decay", math.exp(-self.th_spike_decay * self.t_ref), V_FRAC
            )
            k["th_spike_add"] = _fixed("th_spike_add", self.th_spike_add, V_FMT, "mV")
            k["reset_fraction"] = _Decay(
                "glif.voltage_reset_fraction", self.voltage_reset_fraction, V_FRAC
            )
            k["reset_add"] = _fixed("voltage_reset_add", self.voltage_reset_add, V_FMT, "mV")
        if asc:
            for i, (kk, amp, rr, init) in enumerate(
                zip(self.asc_decay, self.asc_amps, self.asc_r, self.asc_init, strict=True)
            ):
                decay = math.exp(-kk * dt)
                k[f"asc{i}_decay"] = _Decay(f"glif.asc_decay[{i}]", decay, A_FRAC)
                k[f"asc{i}_stable"] = _Decay(
                    f"glif.asc_decay[{i}]", (1 - decay) / (kk * dt), A_FRAC
                )
                k[f"asc{i}_ref"] = _Decay(
                    f"glif.asc_r[{i}]", rr * math.exp(-kk * self.t_ref), A_FRAC
                )
                k[f"asc{i}_amp"] = _fixed(f"asc_amps[{i}]", amp, A_FMT, "pA")
                k[f"asc{i}_init"] = _fixed(f"asc_init[{i}]", init, A_FMT, "pA")
        if a:
            av, bv = self.th_voltage_index, self.th_voltage_decay
            pv, dinv = p33, math.exp(-bv * dt)
            phi = av / (bv - g / c)
            c_u = phi * (pv - dinv)
            c_j = ((av / bv) * (1 - dinv) - c_u) / g
            k["th_v_decay"] = _Decay("glif.th_voltage_decay", dinv, V_FRAC)
            k["th_v_U"] = Coef.make("glif.th_voltage_index (c_U)", c_u, V_FRAC, V_FRAC, COEF_BITS)
            k["th_v_J"] = Coef.make("glif.th_voltage_index (c_J)", c_j, A_FRAC, V_FRAC, COEF_BITS)
        return k

    def quantisation(self) -> dict[str, Quantised]:
        """Every constant: its value, its fixed-point image and the error."""
        out = {}
        for key, const in self._k.items():
            if isinstance(const, tuple):
                value, raw, fmt = const
                out[key] = Quantised(value, raw / (1 << fmt.fraction), f"{raw} / 2**{fmt.fraction}")
            else:
                out[key] = const.quantised()
        return out

    # -- the kernel ---------------------------------------------------------------------------
    def state_fields(self):
        r, asc, a = self.mechanisms
        fields = {"v": Port("out", 32, True, "U = V_m - E_L (mV, Q.20)", 0)}
        if r:
            fields["th_s"] = Port("out", 32, True, "spike threshold component (mV, Q.20)", 0)
        if a:
            fields["th_v"] = Port("out", 32, True, "voltage threshold component (mV, Q.20)", 0)
        if asc:
            for i in range(2):
                init = self._k[f"asc{i}_init"][1]
                fields[f"asc{i}"] = Port(
                    "out", A_FMT.width, True, f"after-spike current {i} (pA, Q.20)", init
                )
        if self.refractory_steps:
            width = bits_for(self.refractory_steps)
            fields["refr"] = Port("out", width, False, "refractory steps left", 0)
        return fields

    def input_ports(self):
        return {"i_in": Port("in", 24, True, "input current I (pA, Q.8)")}

    @property
    def pipeline_stages(self):
        return self.stages

    def _step(self, state, inputs, where, fit_v, fit_a, cut=dict):
        """The update on NumPy arrays or Amaranth values: ``where(cond, a, b)`` selects;
        ``cut(live)`` is a pipeline cut point (:meth:`update_hdl`; a copy for NumPy). A value
        not needed any more is passed on all the same (synthesis drops an unread register)."""
        r, asc, a = self.mechanisms
        k = self._k
        u = state["v"]
        # level 0: the products of the state
        x = {f"old_{key}": value for key, value in state.items()}
        x["j"] = inputs["i_in"] << (A_FRAC - I_FRAC)
        x["u33"] = k["P33"].apply(u)
        if asc:
            for i in range(2):
                x[f"stable{i}"] = k[f"asc{i}_stable"].apply(state[f"asc{i}"])
                x[f"asc{i}"] = k[f"asc{i}_decay"].apply(state[f"asc{i}"])
        if r:
            x["th_s"] = k["th_s_decay"].apply(state["th_s"])
            x["reset"] = k["reset_fraction"].apply(u)
        if a:
            x["th_v_d"] = k["th_v_decay"].apply(state["th_v"])
            x["th_v_u"] = k["th_v_U"].apply(u)
        x = cut(x)
        # level 1: J; the after-spike jumps; the sum of the threshold's decay terms
        x = {**x}
        if asc:
            x["j"] = x["j"] + x["stable0"] + x["stable1"]
            for i in range(2):
                x[f"jump{i}"] = k[f"asc{i}_amp"][1] + k[f"asc{i}_ref"].apply(x[f"asc{i}"])
        if r:
            x["th_s_jump"] = k["th_s_ref"].apply(x["th_s"]) + k["th_spike_add"][1]
        if a:
            x["th_v"] = x["th_v_d"] + x["th_v_u"]
        x = cut(x)
        # level 2: the products of J
        x = {**x, "u30": k["P30"].apply(x["j"])}
        if a:
            x["th_v_j"] = k["th_v_J"].apply(x["j"])
        x = cut(x)
        # level 3: the new potential before the spike, the threshold's parts
        x = {**x, "u1": fit_v(x["u33"] + x["u30"]), "threshold": k["th_inf"][1]}
        if r:
            x["reset"] = fit_v(x["reset"] + k["reset_add"][1])
            x["threshold"] = x["threshold"] + x["th_s"]
        if a:
            x["th_v"] = fit_v(x["th_v"] + x["th_v_j"])
        x = cut(x)
        # level 4: the spike and its resets, the refractory hold
        new = {}
        threshold = x["threshold"]
        if a:
            new["th_v"] = x["th_v"]
            threshold = threshold + x["th_v"]
        u1 = x["u1"]
        spike = u1 > threshold
        if r:
            new["th_s"] = fit_v(where(spike, x["th_s_jump"], x["th_s"]))
            reset = x["reset"]
        else:
            reset = k["V_reset"][1]
        new["v"] = where(spike, reset, u1)
        if asc:
            for i in range(2):
                new[f"asc{i}"] = fit_a(where(spike, x[f"jump{i}"], x[f"asc{i}"]))
        if self.refractory_steps:
            refr = x["old_refr"]
            busy = refr != 0
            spike = spike & ~busy
            for key in new:
                new[key] = where(busy, x[f"old_{key}"], new[key])
            new["refr"] = where(busy, refr - 1, where(spike, self.refractory_steps, 0))
        return new, spike

    def update_np(self, state, inputs):
        return self._step(state, inputs, np.where, V_FMT.fit_array, A_FMT.fit_array)

    def update_hdl(self, m, state, inputs):
        cuts = spread_cuts(self.stages, LEVELS)
        level = iter(range(LEVELS))

        def cut(live):
            return self.stage(m, live, cut=next(level) in cuts)

        return self._step(state, inputs, Mux, V_FMT.fit_value, A_FMT.fit_value, cut)


def _fixed(key: str, value: float, fmt: FixedFormat, unit: str) -> tuple[float, int, FixedFormat]:
    raw = round(value * (1 << fmt.fraction))
    if not fmt.contains(raw):
        lo, hi = fmt.min / (1 << fmt.fraction), fmt.max / (1 << fmt.fraction)
        raise ValueError(
            f"glif.{key}: {value!r} {unit} overflows its fixed-point format ({lo:.6g}..{hi:.6g})"
        )
    return value, raw, fmt


def glif_float(neuron: GLIF, current):
    """Float64 reference of NEST's update for ``neuron``'s parameters (no rounding anywhere).

    ``current`` is ``(T, n)`` (or ``(T,)``) in pA, used in the step it is given; returns
    ``(V_m, spike)`` with ``V_m`` in mV (absolute) after each step.
    """
    p = neuron
    r, asc, a = p.mechanisms
    cur = np.asarray(current, dtype=np.float64)
    one = cur.ndim == 1
    cur = cur.reshape(cur.shape[0], -1)
    steps, n = cur.shape
    dt, g, c = p.dt, p.g, p.C_m
    p33 = math.exp(-dt * g / c)
    p30 = (1 - p33) / g
    th_inf = p.V_th - p.E_L
    u, th_s, th_v = np.zeros(n), np.zeros(n), np.zeros(n)
    ascs = [np.full(n, x) for x in p.asc_init]
    refr = np.zeros(n, dtype=np.int64)
    counts = p.refractory_steps
    vs, spikes = np.empty((steps, n)), np.zeros((steps, n), dtype=bool)
    if a:
        av, bv = p.th_voltage_index, p.th_voltage_decay
        dinv, phi, abr = math.exp(-bv * dt), av / (bv - g / c), av / bv
    for t in range(steps):
        busy = refr > 0
        v_old = u
        th_s1 = th_s * math.exp(-p.th_spike_decay * dt) if r else th_s
        total = np.zeros(n)
        new_asc = list(ascs)
        if asc:
            for i, k in enumerate(p.asc_decay):
                decay = math.exp(-k * dt)
                total = total + (1 - decay) / (k * dt) * ascs[i]
                new_asc[i] = ascs[i] * decay
        j = cur[t] + total
        u1 = v_old * p33 + j * p30
        th_v1 = th_v
        if a:
            beta = j / g
            th_v1 = (
                phi * (v_old - beta) * p33
                + dinv * (th_v - phi * (v_old - beta) - abr * beta)
                + abr * beta
            )
        spk = (u1 > th_s1 + th_v1 + th_inf) & ~busy
        if asc:
            for i, (k, amp, rr) in enumerate(zip(p.asc_decay, p.asc_amps, p.asc_r, strict=True)):
                jumped = amp + new_asc[i] * rr * math.exp(-k * p.t_ref)
                new_asc[i] = np.where(spk, jumped, new_asc[i])
        if r:
            reset = p.voltage_reset_fraction * v_old + p.voltage_reset_add
            th_s1 = np.where(
                spk, th_s1 * math.exp(-p.th_spike_decay * p.t_ref) + p.th_spike_add, th_s1
            )
        else:
            reset = p.V_reset - p.E_L
        u1 = np.where(spk, reset, u1)
        u = np.where(busy, u, u1)
        th_s = np.where(busy, th_s, th_s1)
        th_v = np.where(busy, th_v, th_v1)
        ascs = [np.where(busy, x, y) for x, y in zip(ascs, new_asc, strict=True)]
        refr = np.where(busy, refr - 1, np.where(spk, counts, 0))
        vs[t], spikes[t] = u + p.E_L, spk
    if one:
        return vs[:, 0], spikes[:, 0]
    return vs, spikes


@hookimpl
def neurogate_register_components():
    return [GLIF]
