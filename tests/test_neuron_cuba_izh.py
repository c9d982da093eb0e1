"""``cuba_lif`` (Loihi CUBA-LIF, Lava ``PyLifModelBitAcc``) and ``izhikevich`` neurons.

The CUBA-LIF reference below is a per-neuron transcription of Lava 0.10's
``AbstractPyLifModelFixed.subthr_dynamics`` / ``PyLifModelBitAcc`` (src/lava/proc/lif/models.py),
in Python integers, written from Lava's code and not from ours.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import neurogate as ng


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
