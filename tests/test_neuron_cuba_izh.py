"""``cuba_lif`` (Loihi CUBA-LIF, Lava ``PyLifModelBitAcc``) and ``izhikevich`` neurons.

The CUBA-LIF reference below is a per-neuron transcription of Lava 0.10's
``AbstractPyLifModelFixed.subthr_dynamics`` / ``PyLifModelBitAcc`` (src/lava/proc/lif/models.py),
in Python integers, written from Lava's code and not from ours.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from amaranth.hdl import Module, Signal, Value, signed
from amaranth.sim import Simulator

import neurogate as ng
from neurogate.gateware.neuron_core import NeuronCore
from neurogate.plugins.neurons import izhikevich as izh_module
from neurogate.plugins.neurons.izhikevich import Izhikevich, izhikevich_params
from neurogate.testing import run_neuron_core


def _exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


# -- cuba_lif: Lava's bit-accurate model, one neuron at a time -----------------------------------
class LavaLif:
    """``PyLifModelBitAcc`` for one neuron (same statement order and constants as Lava)."""

    ds_offset, dm_offset = 1, 0
    max_uv_val = 2**23
    decay_shift, decay_unity = 12, 2**12
    vth_shift = act_shift = 6

    def __init__(self, du, dv, bias_mant, bias_exp, vth):
        self.du, self.dv, self.vth = du, dv, vth
        self.effective_bias = bias_mant << bias_exp  # scale_bias, bias_exp >= 0
        self.effective_vth = vth << self.vth_shift  # scale_threshold
        self.u = self.v = 0

    @staticmethod
    def _sign_shift(x, shift):
        # np.sign(x) * np.right_shift(np.abs(x), shift)
        sign = (x > 0) - (x < 0)
        return sign * (abs(x) >> shift)

    def run_spk(self, a_in):
        decayed_curr = self.u * (self.decay_unity - (self.du + self.ds_offset))
        decayed_curr = self._sign_shift(decayed_curr, self.decay_shift)
        decayed_curr += a_in << self.act_shift
        wrapped = decayed_curr
        if decayed_curr > self.max_uv_val:
            wrapped = decayed_curr - 2 * self.max_uv_val
        if wrapped <= -self.max_uv_val:
            wrapped = decayed_curr + 2 * self.max_uv_val
        self.u = wrapped
        decayed_volt = self.v * (self.decay_unity - (self.dv + self.dm_offset))
        decayed_volt = self._sign_shift(decayed_volt, self.decay_shift)
        updated = decayed_volt + self.u + self.effective_bias
        self.v = min(max(updated, -self.max_uv_val + 1), self.max_uv_val - 1)
        s_out = self.v > self.effective_vth
        if s_out:
            self.v = 0
        return s_out


def lava_run(params, a_in):
    """Expected ``(u, v, spike)`` arrays for a ``(T, n)`` stimulus, one reference per column."""
    a_in = np.asarray(a_in)
    steps, n = a_in.shape
    u, v, s = (np.zeros((steps, n), dtype=np.int64) for _ in range(3))
    for i in range(n):
        ref = LavaLif(**params)
        for t in range(steps):
            s[t, i] = ref.run_spk(int(a_in[t, i]))
            u[t, i], v[t, i] = ref.u, ref.v
    return u, v, s


DEFAULTS = {"du": 0, "dv": 0, "bias_mant": 0, "bias_exp": 0, "vth": 10}
CUBA_SETS = [
    {},
    {"du": 0, "dv": 0},
    {"du": 4095, "dv": 4095},
    {"du": 4095, "dv": 0, "vth": 0},
    {"du": 0, "dv": 4095, "vth": 131071},
    {"du": 409, "dv": 1024, "bias_mant": 4095, "bias_exp": 7, "vth": 2000},
    {"du": 100, "dv": 3000, "bias_mant": -4096, "bias_exp": 7, "vth": 0},
    {"du": 1, "dv": 1, "bias_mant": -1, "bias_exp": 3, "vth": 131071},
    {"du": 2048, "dv": 2048, "bias_mant": 17, "bias_exp": 5, "vth": 500},
]


def _check(params, a_in):
    out = ng.component("cuba_lif", **params).model(np.shape(a_in)[1]).run({"a_in": a_in})
    u, v, s = lava_run({**DEFAULTS, **params}, a_in)
    np.testing.assert_array_equal(out["u"], u)
    np.testing.assert_array_equal(out["v"], v)
    np.testing.assert_array_equal(out["spike"], s)
    return out


def test_cuba_known_answer():
    # by hand: u = trunc0(u * 2047 / 4096) + 320; v = trunc0(v * 3072 / 4096) + u; vth << 6 = 640
    out = ng.component("cuba_lif", du=2048, dv=1024, vth=10).model(1).run({"a_in": [5, 5, 5, 0, 0]})
    assert out["u"][:, 0].tolist() == [320, 479, 559, 279, 139]
    assert out["v"][:, 0].tolist() == [320, 0, 559, 0, 139]
    assert out["spike"][:, 0].tolist() == [0, 1, 0, 1, 0]


def test_cuba_negative_decay_rounds_toward_zero():
    # u = -320 -> -320 * 2047 / 4096 = -159.92 -> -159 (a floor would give -160)
    out = ng.component("cuba_lif", du=2048, vth=0).model(1).run({"a_in": [-5, 0, 0]})
    assert out["u"][:, 0].tolist() == [-320, -159, -79]
    # dv: v = -320 then -320 * 4095 / 4096 -> -319 (+ u)
    out = ng.component("cuba_lif", du=4095, dv=1, vth=0).model(1).run({"a_in": [-5, 0]})
    assert out["u"][:, 0].tolist() == [-320, 0]
    assert out["v"][:, 0].tolist() == [-320, -319]


def test_cuba_du0_still_decays_dv0_does_not():
    out = ng.component("cuba_lif", du=0, dv=0, vth=131071).model(1).run({"a_in": [64] + [0] * 3})
    # u: 4096, then trunc0(4096 * 4095 / 4096) = 4095, 4094.00.. -> 4094, 4093
    assert out["u"][:, 0].tolist() == [4096, 4095, 4094, 4093]
    assert out["v"][:, 0].tolist() == [4096, 8191, 12285, 16378]


def test_cuba_u_wraps_to_open_closed_range():
    # a long maximal drive wraps u; then exactly +2**23 (kept) and one step above it (wrapped),
    # starting from a state set directly (a_in alone needs many steps to get there)
    comp = ng.component("cuba_lif", du=0, dv=4095, vth=131071)
    a = np.full((300, 1), 32767, dtype=np.int64)
    out = _check({"du": 0, "dv": 4095, "vth": 131071}, a)
    assert out["u"].max() <= 2**23
    assert out["u"].min() > -(2**23)
    assert (np.diff(out["u"][:, 0]) < 0).any()  # it wrapped
    # exactly 2**23: decayed u plus a_in << 6 lands on the bound
    model = comp.model(1)
    model._state = {"u": np.array([2**23 - 64]), "v": np.array([0])}
    # trunc0((2**23 - 64) * 4095 / 4096) = 8386496, so a_in = 33 lands on 2**23 exactly
    decayed = ((2**23 - 64) * 4095) >> 12
    need = 2**23 - decayed
    assert need % 64 == 0
    out = model.run({"a_in": [need // 64, need // 64 + 1]})
    ref = LavaLif(**{**DEFAULTS, "du": 0, "dv": 4095, "vth": 131071})
    ref.u = 2**23 - 64
    for t, a in enumerate([need // 64, need // 64 + 1]):
        ref.run_spk(a)
        assert out["u"][t, 0] == ref.u
    assert out["u"][0, 0] == 2**23
    assert out["u"][1, 0] < 0  # above the bound: wrapped
    # the negative edge: -2**23 itself wraps to +2**23
    model = comp.model(1)
    model._state = {"u": np.array([-(2**23) + 64]), "v": np.array([0])}
    decayed = -((((2**23) - 64) * 4095) >> 12)
    need = -(2**23) - decayed
    out = model.run({"a_in": [need // 64]})
    assert need % 64 == 0
    assert out["u"][0, 0] == 2**23


def test_cuba_v_clips_and_thresholds():
    a = np.full((200, 2), -32768, dtype=np.int64)
    a[:, 1] = 32767
    out = _check({"du": 0, "dv": 0, "bias_mant": 4095, "bias_exp": 7, "vth": 131071}, a)
    assert out["v"].min() == -(2**23 - 1)
    # the clip 2**23 - 1 is above the largest vth << 6 (2**23 - 64): a clipped v always spikes
    assert out["v"].max() <= 131071 << 6
    assert out["spike"][:, 1].any()
    out = _check({"du": 0, "dv": 0, "vth": 0}, np.full((5, 1), 1))
    assert out["spike"][:, 0].tolist() == [1] * 5  # v = u = 64.. > 0 every step
    assert out["v"][:, 0].tolist() == [0] * 5


@pytest.mark.parametrize(
    "params", CUBA_SETS, ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items())
)
def test_cuba_matches_lava_reference(params, rng):
    a = rng.integers(-32768, 32767, size=(300, 3), endpoint=True)
    a[:, 1] >>= 8  # small inputs: decays dominate
    a[100:, 2] = 0  # free decay from a large state
    _check(params, a)


def test_cuba_state_continues_across_runs(rng):
    params = {"du": 300, "dv": 200, "bias_mant": 100, "bias_exp": 2, "vth": 300}
    a = rng.integers(-2000, 2000, size=(200, 2), endpoint=True)
    whole = ng.component("cuba_lif", **params).model(2).run({"a_in": a})
    model = ng.component("cuba_lif", **params).model(2)
    parts = [model.run({"a_in": a[:77]}), model.run({"a_in": a[77:]})]
    for key in ("u", "v", "spike"):
        np.testing.assert_array_equal(np.concatenate([p[key] for p in parts]), whole[key])


@pytest.mark.parametrize(
    "params", CUBA_SETS, ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items())
)
def test_cuba_model_vs_pysim(params, rng_seed):
    ng.sim.compare(ng.component("cuba_lif", **params), steps=250, n=2, seed=rng_seed)


def test_cuba_pysim_wrap_corner():
    a = np.full((300, 2), 32767, dtype=np.int64)
    a[:, 1] = -32768
    ng.sim.compare(ng.component("cuba_lif", du=0, dv=0, vth=131071), {"a_in": a})


@pytest.mark.parametrize(
    ("params", "exc", "msg"),
    [
        ({"du": 4096}, ValueError, "cuba_lif.du must be an int in 0..4095, not 4096"),
        ({"dv": -1}, ValueError, "cuba_lif.dv must be an int in 0..4095, not -1"),
        (
            {"bias_mant": 4096},
            ValueError,
            "cuba_lif.bias_mant must be an int in -4096..4095, not 4096",
        ),
        ({"bias_exp": 8}, ValueError, "cuba_lif.bias_exp must be an int in 0..7, not 8"),
        ({"vth": 131072}, ValueError, "cuba_lif.vth must be an int in 0..131071, not 131072"),
        ({"vth": 1.5}, TypeError, "cuba_lif.vth must be an int, not 1.5"),
    ],
)
def test_cuba_parameter_errors(params, exc, msg):
    with pytest.raises(exc, match=_exact(msg)):
        ng.component("cuba_lif", **params)


def _drive_to(target: int) -> list[int]:
    """An ``a_in`` sequence (du = 0) after which the pre-wrap current is exactly ``target``."""
    u, seq = 0, []
    while True:
        decayed = LavaLif._sign_shift(u * 4095, 12)
        gap = target - decayed
        if gap % 64 == 0 and -32768 <= gap // 64 <= 32767:
            return [*seq, gap // 64]
        # the largest step toward the target after which the next gap is a multiple of 64
        step = 32767 if target > 0 else -32768
        for a in range(step, 0, -1 if step > 0 else 1):
            nxt = decayed + 64 * a
            rem = target - LavaLif._sign_shift(nxt * 4095, 12)
            if rem % 64 == 0 and abs(rem // 64) <= 32767:
                step = a
                break
        seq.append(step)
        u = decayed + 64 * step


@pytest.mark.parametrize("target", [2**23, 2**23 + 64, -(2**23), -(2**23) - 64, 2**23 - 64])
def test_cuba_exact_wrap_edges_model_and_pysim(target):
    seq = _drive_to(target)
    a = np.array([seq, seq], dtype=np.int64).T
    out = _check({"du": 0, "dv": 4095, "vth": 131071}, a)
    wrapped = target - 2**24 if target > 2**23 else target + 2**24 if target <= -(2**23) else target
    assert out["u"][-1, 0] == wrapped
    ng.sim.compare(ng.component("cuba_lif", du=0, dv=4095, vth=131071), {"a_in": a})


# -- izhikevich ------------------------------------------------------------------------------------
Q = 1 << 16  # 16 fraction bits
SAT_LO, SAT_HI = -(2**29), 2**29 - 1  # signed 30-bit v and u
NOMINAL = {  # the paper's (a, b, c, d)
    "RS": (0.02, 0.2, -65.0, 8.0),
    "IB": (0.02, 0.2, -55.0, 4.0),
    "CH": (0.02, 0.2, -50.0, 2.0),
    "FS": (0.1, 0.2, -65.0, 2.0),
}


def izh_step(v, u, i, a, b, c, d):
    """One step of the module docstring's integer update, Python ints: (v, u, spike)."""

    def sat(x):
        return min(max(x, SAT_LO), SAT_HI)

    dv = ((((v * v) >> 16) * 41943) >> 20) + 5 * v + 140 * Q - u
    v = sat(min(v + ((dv + i) >> 1), 30 * Q))
    u = sat(u + ((a * (((b * v) >> 16) - u)) >> 17))
    s = v == 30 * Q
    if s:
        v, u = c, sat(u + d)
    return v, u, int(s)


def izh_ref(a, b, c, d, currents):
    """Integer reference from the module docstring, one neuron, Python ints; (v, u, spike)."""
    v = -65 * Q
    u = (b * v) >> 16
    out = []
    for i in currents:
        v, u, s = izh_step(v, u, int(i), a, b, c, d)
        out.append((v, u, s))
    return np.array(out, dtype=np.int64)


def izh_float(a, b, c, d, current, steps):
    """float64 reference of the same equations (dt = 0.5 ms, v capped at 30 mV): spike steps."""
    v, u, spikes = -65.0, b * -65.0, []
    for t in range(steps):
        v = min(v + 0.5 * (0.04 * v * v + 5 * v + 140 - u + current), 30.0)
        u = u + 0.5 * a * (b * v - u)
        if v >= 30:
            spikes.append(t)
            v, u = c, u + d
    return np.array(spikes)


def _izh_check(params, currents):
    currents = np.asarray(currents, dtype=np.int64)
    out = Izhikevich(**params).model(currents.shape[1]).run({"i_in": currents})
    p = {**izhikevich_params("RS"), **params}
    for k in range(currents.shape[1]):
        ref = izh_ref(p["a"], p["b"], p["c"], p["d"], currents[:, k])
        np.testing.assert_array_equal(out["v"][:, k], ref[:, 0])
        np.testing.assert_array_equal(out["u"][:, k], ref[:, 1])
        np.testing.assert_array_equal(out["spike"][:, k], ref[:, 2])
    return out


def test_izh_presets_are_the_papers():
    assert izhikevich_params("RS") == {"a": 1311, "b": 13107, "c": -65 * Q, "d": 8 * Q}
    assert izhikevich_params("FS") == {"a": 6554, "b": 13107, "c": -65 * Q, "d": 2 * Q}
    assert Izhikevich.preset("CH") == Izhikevich.from_floats(0.02, 0.2, -50, 2)
    assert Izhikevich() == Izhikevich.preset("RS")
    with pytest.raises(ValueError, match="izhikevich preset must be one of"):
        izhikevich_params("XX")


def test_izh_first_step_by_hand():
    # RS, I = 10 mV/ms, from v = -65, u = b v = -13 (raw (13107 * -65 * 2**16) >> 16 = -851955)
    out = Izhikevich.preset("RS").model(1).run({"i_in": [10 * Q]})
    # dv = 0.04 * 4225 + 5 * -65 + 140 - u = 169 - 325 + 140 + 12.99998 = -3.00002 (raw floors)
    sq = (65 * Q) ** 2 >> 16
    dv = ((sq * 41943) >> 20) - 5 * 65 * Q + 140 * Q + 851955
    v = -65 * Q + ((dv + 10 * Q) >> 1)
    assert out["v"][0, 0] == v
    assert abs(out["v"][0, 0] / Q - (-65 + 0.5 * (-3 + 10))) < 1e-3


@pytest.mark.parametrize("preset", ["RS", "IB", "CH", "FS", "LTS", "TC", "RZ"])
def test_izh_model_matches_reference(preset, rng):
    currents = rng.integers(-20 * Q, 40 * Q, size=(400, 2))
    currents[:, 1] = 10 * Q + rng.integers(-Q, Q, size=400)
    _izh_check(izhikevich_params(preset), currents)


def test_izh_random_parameters_and_saturation(rng):
    for _ in range(6):
        params = {
            "a": int(rng.integers(0, Q, endpoint=True)),
            "b": int(rng.integers(-Q, Q, endpoint=True)),
            "c": int(rng.integers(-100 * Q, 30 * Q)),
            "d": int(rng.integers(-100 * Q, 100 * Q, endpoint=True)),
        }
        _izh_check(params, rng.integers(-(2**23), 2**23, size=(300, 2)))
    # a = 0, c = -100 mV, d = -100: a spike every step, u falls into saturation (the upper
    # limit is out of reach: a large u stops the spiking that would raise it)
    out = _izh_check({"a": 0, "c": -100 * Q, "d": -100 * Q}, np.full((200, 1), 2**23 - 1))
    assert out["u"].min() == SAT_LO


def test_izh_state_continues_across_runs(rng):
    currents = rng.integers(0, 20 * Q, size=(300, 2))
    comp = Izhikevich.preset("CH")
    whole = comp.model(2).run({"i_in": currents})
    model = comp.model(2)
    parts = [model.run({"i_in": currents[:123]}), model.run({"i_in": currents[123:]})]
    for key in ("v", "u", "spike"):
        np.testing.assert_array_equal(np.concatenate([p[key] for p in parts]), whole[key])


@pytest.mark.parametrize("preset", ["RS", "CH", "FS"])
def test_izh_model_vs_pysim_constant_input(preset):
    currents = np.full((120, 2), 10 * Q, dtype=np.int64)
    currents[:, 1] = 25 * Q
    ng.sim.compare(Izhikevich.preset(preset), {"i_in": currents})


def test_izh_model_vs_pysim_random(rng_seed):
    ng.sim.compare(ng.component("izhikevich"), steps=100, n=2, seed=rng_seed)
    # u saturates at its lower limit after ~82 steps
    sat = Izhikevich(a=0, c=-100 * Q, d=-100 * Q)
    assert sat.model(1).run({"i_in": np.full(100, 2**23 - 1)})["u"][-1, 0] == SAT_LO
    ng.sim.compare(sat, {"i_in": np.full((100, 1), 2**23 - 1)})


# -- the gateware's cut widths, state by state ----------------------------------------------
I_LO, I_HI = -(2**23), 2**23 - 1
V_PEAK = 30 * Q


def _comb(build, inputs: dict, values: dict, outputs: list[str]) -> dict:
    """Evaluate combinational gateware on vectors: ``build(m, signals)`` returns output values."""
    m = Module()
    sigs = {k: Signal(shape, name=k) for k, shape in inputs.items()}
    outs = build(m, sigs)
    out_sigs = {k: Signal(Value.cast(outs[k]).shape(), name=f"out_{k}") for k in outputs}
    m.d.comb += [out_sigs[k].eq(outs[k]) for k in outputs]
    got = {k: [] for k in outputs}
    count = len(next(iter(values.values())))

    async def bench(ctx):
        for t in range(count):
            for k, sig in sigs.items():
                ctx.set(sig, int(values[k][t]))
            for k, sig in out_sigs.items():
                got[k].append(ctx.get(sig))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    return {k: np.array(v, dtype=np.int64) for k, v in got.items()}


def _hdl_step(kernel, v, u, i) -> dict:
    """The kernel's ``update_hdl`` applied to each state ``(v[t], u[t], i[t])`` on its own."""

    def build(m, sig):
        nxt, spike = kernel.update_hdl(m, {"v": sig["v"], "u": sig["u"]}, {"i_in": sig["i"]})
        return {"v": nxt["v"], "u": nxt["u"], "spike": spike}

    shapes = {"v": signed(30), "u": signed(30), "i": signed(24)}
    return _comb(build, shapes, {"v": v, "u": u, "i": i}, ["v", "u", "spike"])


def _states(rng, count):
    """States over the whole formats, with every edge of the proof in the module docstring."""
    edges_v = [
        SAT_LO,  # the state's lowest value
        -(2**26) - 1,  # far below rest: always peaks
        -(2**26),
        -(2**26) + 1,  # the widest |v| the squarer takes
        -36027103,  # peaks with u = max, I = min (below -549.73 mV)...
        -36027102,  # ...and does not
        -(2**25),
        -87 * Q - Q // 2,  # the vertex of the quadratic: the lowest next v
        -65 * Q,
        0,
        V_PEAK - 1,
    ]
    edges_u, edges_i = [SAT_LO, -1, 0, SAT_HI], [I_LO, 0, I_HI]
    grid = np.array([(v, u, i) for v in edges_v for u in edges_u for i in edges_i])
    rand = np.stack(
        [
            np.where(
                rng.random(count) < 0.5,
                rng.integers(SAT_LO, V_PEAK, size=count),
                rng.integers(-1100 * Q, V_PEAK, size=count),
            ),
            rng.integers(SAT_LO, SAT_HI, size=count, endpoint=True),
            rng.integers(I_LO, I_HI, size=count, endpoint=True),
        ],
        axis=1,
    )
    # u chosen so that 2 v + dv + I (twice the next v before the cap) is 2 * V_PEAK - 1, 2 *
    # V_PEAK or 2 * V_PEAK + 1: the step just misses, just reaches and just passes the peak
    v = rng.integers(-1100 * Q, V_PEAK, size=count // 4)
    i = rng.integers(I_LO, I_HI, size=count // 4, endpoint=True)
    twice = ((((v * v) >> 16) * 41943) >> 20) + 7 * v + 140 * Q + i
    edge = [np.stack([v, twice - 2 * V_PEAK - k, i], axis=1) for k in (-1, 0, 1)]
    edge = np.concatenate(edge)
    edge = edge[(edge[:, 1] >= SAT_LO) & (edge[:, 1] <= SAT_HI)]
    return np.concatenate([grid, rand, edge]).T


IZH_SWEEP = [
    izhikevich_params("RS"),
    izhikevich_params("FS"),
    izhikevich_params("RZ"),  # b = 17039: plain signed digits
    {"a": 0, "b": 0, "c": -100 * Q, "d": 0},
    {"a": 0, "b": Q // 2, "c": -100 * Q, "d": 100 * Q},  # u + d saturates high...
    {"a": 0, "b": Q // 3, "c": -100 * Q, "d": -100 * Q},  # ...and low
    {"a": Q, "b": Q, "c": -100 * Q, "d": 100 * Q},
    {"a": Q, "b": -Q, "c": 30 * Q - 1, "d": -100 * Q},
    {"a": 1, "b": -1, "c": 0, "d": 1},
    {"a": 12345, "b": -13107, "c": -70 * Q + 123, "d": -3 * Q},
]


@pytest.mark.parametrize("params", IZH_SWEEP, ids=lambda p: ",".join(map(str, p.values())))
def test_izh_gateware_step_matches_reference_on_any_state(params, rng):
    # update_hdl from arbitrary (v, u, I), not only states reachable from reset, against the
    # docstring's update (izh_step) and the model's update_np
    kernel = Izhikevich(**params)
    v, u, i = _states(rng, 120)
    got = _hdl_step(kernel, v, u, i)
    ref = np.array(
        [izh_step(int(a), int(b), int(c), **params) for a, b, c in zip(v, u, i, strict=True)]
    )
    np.testing.assert_array_equal(got["v"], ref[:, 0])
    np.testing.assert_array_equal(got["u"], ref[:, 1])
    np.testing.assert_array_equal(got["spike"], ref[:, 2])
    nxt, spike = kernel.update_np({"v": v, "u": u}, {"i_in": i})
    np.testing.assert_array_equal(nxt["v"], ref[:, 0])
    np.testing.assert_array_equal(nxt["u"], ref[:, 1])
    np.testing.assert_array_equal(spike, ref[:, 2])


def test_izh_random_parameters_gateware_step(rng):
    for _ in range(4):
        params = {
            "a": int(rng.integers(0, Q, endpoint=True)),
            "b": int(rng.integers(-Q, Q, endpoint=True)),
            "c": int(rng.integers(-100 * Q, 30 * Q)),
            "d": int(rng.integers(-100 * Q, 100 * Q, endpoint=True)),
        }
        v, u, i = _states(rng, 40)
        got = _hdl_step(Izhikevich(**params), v, u, i)
        ref = np.array(
            [izh_step(int(a), int(b), int(c), **params) for a, b, c in zip(v, u, i, strict=True)]
        )
        for k, key in enumerate(("v", "u", "spike")):
            np.testing.assert_array_equal(got[key], ref[:, k], err_msg=f"{key}, {params}")


def test_izh_width_proof_edges():
    # the docstring's bounds, on the reference update with the worst u (max) and I (min)
    worst = {"u": SAT_HI, "i": I_LO, "a": 0, "b": 0, "c": 0, "d": 0}
    # at or below -1024 mV every step peaks; the last state that does not is -549.73 mV, so
    # |v| needs 26 bits (2**25 is 512 mV)
    for v in (SAT_LO, -(2**27), -(2**26) - 1, -(2**26), -36027103):
        assert izh_step(v, **worst)[2] == 1, v
    assert izh_step(-36027102, **worst)[2] == 0
    assert -36027102 < -(2**25)
    # the lowest next v of a step that does not peak is -4243.13 mV (at v = -87.5 mV): above
    # W_MIN, far above the -8192 mV limit
    v = np.arange(-90 * Q, -85 * Q, dtype=np.int64)
    w = (((((v * v) >> 16) * 41943) >> 20) + 7 * v + 140 * Q - SAT_HI + I_LO) >> 1
    assert izh_module.W_MIN < w.min() < -4243 * Q
    assert izh_module.W_MIN > SAT_LO


@pytest.mark.parametrize(
    "k", [0, 1, -1, 2, -2, 3, 41943, 13107, -13107, 1311, 6554, 17039, Q, -Q, 1023 * 41, 65535]
)
def test_izh_constant_multiplier_is_exact(k, rng):
    lo, hi = -(2**29), 2**29 - 1
    x = np.concatenate([[lo, hi, 0, -1, 1], rng.integers(lo, hi, size=40, endpoint=True)])

    def build(m, sig):
        value, p_lo, p_hi = izh_module._mul_const(m, "t", sig["x"], lo, hi, k)
        assert (p_lo, p_hi) == (min(lo * k, hi * k), max(lo * k, hi * k))
        return {"y": value}

    got = _comb(build, {"x": signed(30)}, {"x": x}, ["y"])["y"]
    assert got.tolist() == [int(a) * k for a in x]


def test_izh_constant_multiplier_plans():
    # fewer adders than the signed digits where a factor 2**i +- 1 splits off
    assert izh_module._plan(13107) == (((2, -1), (4, 1)), 257)  # 3 * 17 * 257: 3 adders
    assert izh_module._plan(41943) == (((10, -1),), 41)  # 1023 * 41: 3 adders, CSD needs 5
    assert izh_module._plan(1311) == ((), 1311)  # 1024 + 256 + 32 - 1: signed digits
    assert [(s, d) for s, d in izh_module._csd(41943)] == [
        (0, -1), (3, -1), (5, -1), (10, 1), (13, 1), (15, 1)
    ]  # fmt: skip
    for k in range(1, 4000, 2):
        factors, rest = izh_module._plan(k)
        prod = rest
        for i, sign in factors:
            prod *= (1 << i) + sign
        assert prod == k
        assert len(factors) + len(izh_module._csd(rest)) <= len(izh_module._csd(k))


# -- tolerance tier: the firing classes against float64 ----------------------------------------
SECOND = 2000  # steps of 0.5 ms


def _spikes(preset, current=10):
    out = Izhikevich.preset(preset).model(1).run({"i_in": np.full(SECOND, current * Q)})
    return np.flatnonzero(out["spike"][:, 0])


@pytest.mark.parametrize("preset", ["RS", "IB", "CH", "FS"])
def test_izh_rate_and_pattern_within_5_percent_of_float64(preset):
    fixed = _spikes(preset)
    ref = izh_float(*NOMINAL[preset], 10.0, SECOND)
    assert len(ref) > 10
    assert abs(len(fixed) - len(ref)) <= 0.05 * len(ref)
    isi_f, isi_r = np.diff(fixed), np.diff(ref)
    assert abs(isi_f.mean() - isi_r.mean()) <= 0.05 * isi_r.mean()
    # pattern: the onset spike times and the share of burst ISIs (< 8 ms) agree
    np.testing.assert_allclose(fixed[:6], ref[:6], atol=2)
    assert abs(np.mean(isi_f < 16) - np.mean(isi_r < 16)) <= 0.05


def test_izh_classes_differ():
    rs, ib, ch, fs = (_spikes(k) for k in ("RS", "IB", "CH", "FS"))
    isi = {k: np.diff(s) / 2 for k, s in {"RS": rs, "IB": ib, "CH": ch, "FS": fs}.items()}  # ms
    assert len(fs) > 2 * len(rs)  # fast spiking fires far faster than regular spiking
    assert isi["RS"].min() > 20  # regular: no bursts
    assert np.ptp(isi["FS"][2:]) <= 1  # fast spiking: tonic, no adaptation after onset
    # chattering: bimodal ISIs, short intra-burst and long inter-burst, nothing in between
    short, long_ = isi["CH"] < 10, isi["CH"] > 40
    assert short.sum() > 2 * long_.sum() > 0
    assert (short | long_).all()
    # intrinsic bursting: an onset burst, then tonic spikes
    assert (isi["IB"][:2] < 10).all()
    assert (isi["IB"][2:] > 25).all()


@pytest.mark.parametrize(
    ("params", "exc", "msg"),
    [
        ({"a": -1}, ValueError, "izhikevich.a must be an int in 0..65536, not -1"),
        ({"b": 65537}, ValueError, "izhikevich.b must be an int in -65536..65536, not 65537"),
        (
            {"c": 30 * Q},
            ValueError,
            f"izhikevich.c must be an int in -6553600..{30 * Q - 1}, not {30 * Q}",
        ),
        ({"d": 0.5}, TypeError, "izhikevich.d must be an int, not 0.5"),
    ],
)
def test_izh_parameter_errors(params, exc, msg):
    with pytest.raises(exc, match=_exact(msg)):
        ng.component("izhikevich", **params)


# -- both kernels in the time-multiplexed core ---------------------------------------------------
def _core_run(kernel, inputs):
    """Run ``inputs`` ({port: (T, n)}) through a NeuronCore in EBR; return (events, states)."""
    n = next(iter(inputs.values())).shape[1]
    return run_neuron_core(NeuronCore(kernel, n, fifo_depth=n + 1), inputs)


@pytest.mark.parametrize(
    ("kernel", "scale"),
    [
        (ng.component("cuba_lif", du=300, dv=100, bias_mant=50, bias_exp=3, vth=200), 2000),
        (Izhikevich.preset("CH"), 40 * Q),
    ],
    ids=["cuba_lif", "izhikevich"],
)
def test_kernel_in_time_multiplexed_core(kernel, scale, rng):
    (key,) = kernel.input_ports()
    inputs = {key: rng.integers(-scale // 4, scale, size=(8, 4))}
    out = kernel.model(4).run(inputs)
    events, states = _core_run(kernel, inputs)
    for t in range(8):
        assert events[t] == np.flatnonzero(out["spike"][t]).tolist(), f"events at step {t}"
        for field in kernel.state_fields():
            assert states[t][field] == out[field][t].tolist(), f"{field} after step {t}"
    assert out["spike"].any()
