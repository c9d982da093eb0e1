"""SC arithmetic (``and_mul``, ``xnor_mul``, ``mux_add``, ``or_add``, ``cordiv``, ``apc``,
``counter``) against pure-Python references written from the module docstrings.

Bit-true tier: truth tables and hand-computed vectors, seeded random model-vs-reference sweeps
(state carried across ``run()`` calls), seeded model-vs-pysim comparisons, parameter errors.
Value tier (tolerances, justified where they are asserted): and_mul and mux_add on LFSR
streams, cordiv on correlated streams, counter on a full LFSR period.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

import neurogate as ng
from neurogate.plugins.encoders.lfsr import MAXIMAL_TAPS

GATES = ("and_mul", "xnor_mul", "or_add")
ALL = ("and_mul", "xnor_mul", "mux_add", "or_add", "cordiv", "apc", "counter")


def _exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


# -- independent references, from the docstrings -----------------------------------------------
GATE_FUNCTIONS = {
    "and_mul": lambda a, b: a and b,
    "xnor_mul": lambda a, b: int(a == b),
    "or_add": lambda a, b: a or b,
}


def ref_gate(name, a, b):
    f = GATE_FUNCTIONS[name]
    return np.vectorize(lambda x, y: int(f(int(x), int(y))))(a, b)


def ref_lfsr_states(width, taps, seed, count):
    """Fibonacci LFSR: shift left, XOR of bits (tap - 1) into bit 0."""
    out, s = [], seed
    for _ in range(count):
        out.append(s)
        fb = 0
        for t in taps:
            fb ^= (s >> (t - 1)) & 1
        s = ((s << 1) & ((1 << width) - 1)) | fb
    return out


def ref_mux(a, b, sel):
    """``y = b if sel else a``; ``sel`` is (T, n) or (T,)."""
    sel = np.asarray(sel)
    if sel.ndim == 1:
        sel = np.broadcast_to(sel[:, None], a.shape)
    return np.where(sel == 1, b, a)


def ref_lfsr_select(width, taps, seed, steps):
    return np.array([int(s < 2 ** (width - 1)) for s in ref_lfsr_states(width, taps, seed, steps)])


def ref_cordiv(a, b):
    """``y_t = a_t if b_t else y_{t-1}``, ``y_{-1} = 0``; one instance per column."""
    y = np.zeros_like(a)
    for j in range(a.shape[1]):
        q = 0
        for t in range(a.shape[0]):
            if b[t, j]:
                q = int(a[t, j])
            y[t, j] = q
    return y


def ref_window(counts, window):
    """The counter/apc window: at t % W == W - 1 the window's sum and valid=1, else hold."""
    total = np.zeros_like(counts)
    valid = np.zeros_like(counts)
    for j in range(counts.shape[1]):
        held, acc = 0, 0
        for t in range(counts.shape[0]):
            acc += int(counts[t, j])
            if t % window == window - 1:
                held, acc = acc, 0
                valid[t, j] = 1
            total[t, j] = held
    return total, valid


def ref_apc(streams, window):
    count = sum(np.asarray(s, dtype=np.int64) for s in streams)
    out = {"count": count}
    if window is not None:
        out["total"], out["valid"] = ref_window(count, window)
    return out


def random_streams(rng, steps, n, k=1):
    """``k`` arrays of (steps, n) bits, each instance with its own density.

    With ``n >= 3`` the first instance is all zeros and the last all ones (the edges).
    """
    out = []
    for _ in range(k):
        density = rng.random(n)
        if n >= 3:
            density[0], density[-1] = 0.0, 1.0
        out.append((rng.random((steps, n)) < density).astype(np.int64))
    return out


def run_in_pieces(comp, inputs, rng, n):
    """Run the model over ``inputs`` in random-length pieces (state continues between runs)."""
    steps = next(iter(inputs.values())).shape[0]
    cuts = sorted({0, steps, *rng.integers(0, steps + 1, size=4).tolist()})
    model = comp.model(n)
    parts = [model.run({k: v[a:b] for k, v in inputs.items()}) for a, b in itertools.pairwise(cuts)]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def both_backends(comp, inputs):
    """Yield ``(backend, outputs)`` for the model and pysim."""
    yield "model", ng.sim.run(comp, inputs, "model")
    yield "pysim", ng.sim.run(comp, inputs, "pysim")


# -- known answers ---------------------------------------------------------------------------
TRUTH = {"and_mul": [0, 0, 0, 1], "xnor_mul": [1, 0, 0, 1], "or_add": [0, 1, 1, 1]}


@pytest.mark.parametrize("registered", [True, False])
@pytest.mark.parametrize("name", GATES)
def test_gate_truth_tables(name, registered):
    gate = ng.component(name, registered=registered)
    assert gate.latency == (1 if registered else 0)
    # (a, b) = 00, 01, 10, 11, then the table again backwards (catches a stuck register).
    a = np.array([0, 0, 1, 1, 1, 1, 0, 0])
    b = np.array([0, 1, 0, 1, 1, 0, 1, 0])
    expected = TRUTH[name] + TRUTH[name][::-1]
    for backend, out in both_backends(gate, {"a": a, "b": b}):
        assert out["y"][:, 0].tolist() == expected, backend


@pytest.mark.parametrize("registered", [True, False])
def test_mux_add_port_truth_table(registered):
    mux = ng.component("mux_add", registered=registered)
    assert sorted(mux.inputs) == ["a", "b", "sel"]
    # Every (sel, a, b): y = b if sel else a.
    sel = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    a = np.array([0, 0, 1, 1, 0, 0, 1, 1])
    b = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    for backend, out in both_backends(mux, {"a": a, "b": b, "sel": sel}):
        assert out["y"][:, 0].tolist() == [0, 0, 1, 1, 0, 1, 0, 1], backend


@pytest.mark.parametrize("registered", [True, False])
def test_mux_add_lfsr_known_answer(registered):
    # width 4, taps (4, 3), seed 1, by hand: fb = bit3 ^ bit2.
    # s = 1, 2, 4, 9, 3, 6, 13, 10, 5, 11, 7, 15, 14, 12, 8, 1 (period 15)
    # sel = s < 8: 1, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1
    mux = ng.component("mux_add", select="lfsr", width=4, seed=1, registered=registered)
    assert mux.taps == (4, 3)
    assert sorted(mux.inputs) == ["a", "b"]
    sel = [1, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1]
    assert ref_lfsr_select(4, (4, 3), 1, 16).tolist() == sel  # the reference agrees
    a, b = np.zeros(16, dtype=np.int64), np.ones(16, dtype=np.int64)
    b[5] = 0  # sel is 1 there: y follows b down
    a[6] = 1  # sel is 0 there: y follows a up
    expected = list(sel)
    expected[5], expected[6] = 0, 1
    for backend, out in both_backends(mux, {"a": a, "b": b}):
        assert out["y"][:, 0].tolist() == expected, backend
    # 7 ones in one period of 15: 2**(width-1) - 1.
    assert sum(sel[:15]) == 7


@pytest.mark.parametrize("registered", [True, False])
def test_cordiv_known_answer(registered):
    div = ng.component("cordiv", registered=registered)
    a = [0, 1, 0, 0, 0, 1, 1, 1, 0, 0]
    b = [0, 1, 0, 1, 0, 0, 1, 0, 0, 1]
    # t0: b=0, hold reset 0; t1: b=1 -> a=1; t2: hold 1; t3: b=1 -> a=0; t4: hold 0;
    # t5: b=0, hold 0 (a=1 ignored); t6: b=1 -> 1; t7: hold 1 (a=1 ignored); t8: hold 1;
    # t9: b=1 -> a=0.
    expected = [0, 1, 1, 0, 0, 0, 1, 1, 1, 0]
    for backend, out in both_backends(div, {"a": np.array(a), "b": np.array(b)}):
        assert out["y"][:, 0].tolist() == expected, backend


@pytest.mark.parametrize("registered", [True, False])
def test_counter_known_answer(registered):
    cnt = ng.component("counter", window=3, registered=registered)
    assert cnt.ports["count"].width == 2  # 0..3
    a = [1, 1, 1, 0, 1, 0, 0, 0, 0, 1, 1]
    # windows [1,1,1]=3 ends t2, [0,1,0]=1 ends t5, [0,0,0]=0 ends t8, [1,1 ...] still open.
    count = [0, 0, 3, 3, 3, 1, 1, 1, 0, 0, 0]
    valid = [0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0]
    for backend, out in both_backends(cnt, {"a": np.array(a)}):
        assert out["count"][:, 0].tolist() == count, backend
        assert out["valid"][:, 0].tolist() == valid, backend


def test_counter_window_one_and_full_scale():
    a = np.array([1, 0, 1, 1])
    out = ng.component("counter", window=1).model().run({"a": a})
    assert out["count"][:, 0].tolist() == [1, 0, 1, 1]
    assert out["valid"][:, 0].tolist() == [1, 1, 1, 1]
    out = ng.component("counter", window=8).model().run({"a": np.ones(17, dtype=np.int64)})
    assert out["count"][:, 0].tolist() == [0] * 7 + [8] * 8 + [8, 8]
    assert ng.component("counter", window=8).ports["count"].width == 4


@pytest.mark.parametrize("registered", [True, False])
def test_apc_known_answer(registered):
    apc = ng.component("apc", n_inputs=3, window=2, registered=registered)
    assert list(apc.ports) == ["a0", "a1", "a2", "count", "total", "valid"]
    stim = {
        "a0": np.array([1, 1, 0, 1, 0, 1, 1]),
        "a1": np.array([0, 1, 0, 1, 0, 1, 1]),
        "a2": np.array([0, 1, 1, 1, 0, 1, 1]),
    }
    # count = 1, 3, 1, 3, 0, 3, 3; windows (1+3)=4 at t1, (1+3)=4 at t3, (0+3)=3 at t5.
    for backend, out in both_backends(apc, stim):
        assert out["count"][:, 0].tolist() == [1, 3, 1, 3, 0, 3, 3], backend
        assert out["total"][:, 0].tolist() == [0, 4, 4, 4, 4, 3, 3], backend
        assert out["valid"][:, 0].tolist() == [0, 1, 0, 1, 0, 1, 0], backend


def test_apc_ports_and_widths():
    assert list(ng.component("apc").ports) == ["a0", "a1", "a2", "a3", "count"]
    apc = ng.component("apc", n_inputs=16, window=5)
    widths = {k: p.width for k, p in apc.ports.items() if p.direction == "out"}
    assert widths == {"count": 5, "total": 7, "valid": 1}  # 16 -> 5 bits, 80 -> 7 bits
    assert ng.component("apc", n_inputs=1).ports["count"].width == 1
    assert ng.component("apc", n_inputs=15).ports["count"].width == 4
    out = apc.model().run({f"a{i}": np.ones(5, dtype=np.int64) for i in range(16)})
    assert out["count"][:, 0].tolist() == [16] * 5
    assert out["total"][:, 0].tolist() == [0, 0, 0, 0, 80]


@pytest.mark.parametrize("name", ALL)
def test_kind_latency_and_one_bit_stream_ports(name):
    comp = ng.component(name)
    assert comp.kind == "arith"
    assert comp.registered is True
    assert comp.latency == 1
    assert comp.replace(registered=False).latency == 0
    for port in comp.inputs.values():
        assert (port.width, port.signed) == (1, False)


# -- model against the references, swept -----------------------------------------------------------
@pytest.mark.parametrize("name", GATES)
def test_gate_model_matches_reference(name, rng):
    a, b = random_streams(rng, 500, 6, k=2)
    for registered in (True, False):
        out = run_in_pieces(ng.component(name, registered=registered), {"a": a, "b": b}, rng, 6)
        np.testing.assert_array_equal(out["y"], ref_gate(name, a, b))


def test_mux_add_port_model_matches_reference(rng):
    a, b, sel = random_streams(rng, 500, 6, k=3)
    out = run_in_pieces(ng.component("mux_add"), {"a": a, "b": b, "sel": sel}, rng, 6)
    np.testing.assert_array_equal(out["y"], ref_mux(a, b, sel))


@pytest.mark.parametrize("width", [3, 4, 5, 8, 12, 16, 24, 32])
def test_mux_add_lfsr_model_matches_reference(width, rng):
    seed = int(rng.integers(1, 2**width))
    mux = ng.component("mux_add", select="lfsr", width=width, seed=seed)
    steps = 2 * (2**width - 1) + 5 if width <= 5 else 600  # across the period boundary
    a, b = random_streams(rng, steps, 3, k=2)
    out = run_in_pieces(mux, {"a": a, "b": b}, rng, 3)
    sel = ref_lfsr_select(width, MAXIMAL_TAPS[width], seed, steps)
    np.testing.assert_array_equal(out["y"], ref_mux(a, b, sel))


def test_mux_add_lfsr_custom_taps(rng):
    mux = ng.component("mux_add", select="lfsr", width=8, taps=(8, 4, 3, 2), seed=77)
    a, b = random_streams(rng, 600, 2, k=2)
    sel = ref_lfsr_select(8, (8, 4, 3, 2), 77, 600)
    np.testing.assert_array_equal(mux.model(2).run({"a": a, "b": b})["y"], ref_mux(a, b, sel))


def test_mux_add_select_is_the_lfsr_encoders_bit(rng):
    """The documented equivalence: sel = lfsr encoder's bit at x = 2**(width - 1)."""
    for width in (6, 16):
        seed = int(rng.integers(1, 2**width))
        mux = ng.component("mux_add", select="lfsr", width=width, seed=seed)
        enc = ng.component("lfsr", width=width, seed=seed)
        steps = 300
        bit = enc.model().run({"x": np.full(steps, 2 ** (width - 1))})["bit"]
        zeros, ones = np.zeros(steps, dtype=np.int64), np.ones(steps, dtype=np.int64)
        y = mux.model().run({"a": zeros, "b": ones})["y"]
        np.testing.assert_array_equal(y, bit)


def test_cordiv_model_matches_reference(rng):
    a, b = random_streams(rng, 600, 8, k=2)
    b[:, 1] = 0  # divisor never 1: the reset value is held
    b[:40, 2] = 0  # a long hold at the start
    for registered in (True, False):
        out = run_in_pieces(ng.component("cordiv", registered=registered), {"a": a, "b": b}, rng, 8)
        np.testing.assert_array_equal(out["y"], ref_cordiv(a, b))


@pytest.mark.parametrize("window", [1, 2, 3, 4, 7, 8, 16, 100, 256, 1000])
def test_counter_model_matches_reference(window, rng):
    (a,) = random_streams(rng, 700, 4)
    for registered in (True, False):
        cnt = ng.component("counter", window=window, registered=registered)
        out = run_in_pieces(cnt, {"a": a}, rng, 4)
        count, valid = ref_window(a, window)
        np.testing.assert_array_equal(out["count"], count)
        np.testing.assert_array_equal(out["valid"], valid)


@pytest.mark.parametrize("window", [None, 1, 2, 5, 16])
@pytest.mark.parametrize("n_inputs", range(1, 17))
def test_apc_model_matches_reference(n_inputs, window, rng):
    streams = random_streams(rng, 300, 3, k=n_inputs)
    apc = ng.component("apc", n_inputs=n_inputs, window=window)
    out = run_in_pieces(apc, {f"a{i}": s for i, s in enumerate(streams)}, rng, 3)
    ref = ref_apc(streams, window)
    assert set(out) == set(ref)
    for key in ref:
        np.testing.assert_array_equal(out[key], ref[key], err_msg=key)


def test_apc_wide(rng):
    streams = random_streams(rng, 50, 2, k=200)
    apc = ng.component("apc", n_inputs=200, window=7)
    out = apc.model(2).run({f"a{i}": s for i, s in enumerate(streams)})
    ref = ref_apc(streams, 7)
    for key in ref:
        np.testing.assert_array_equal(out[key], ref[key], err_msg=key)


@pytest.mark.parametrize("name", ALL)
def test_reset_goes_back_to_the_reset_state(name, rng):
    comp = ng.component(name)
    if name == "counter":
        comp = comp.replace(window=5)
    if name == "apc":
        comp = comp.replace(window=3)
    stim = ng.sim.random_inputs(comp, 40, 3, seed=int(rng.integers(2**31)))
    model = comp.model(3)
    first = model.run(stim)
    model.run(stim)
    model.reset()
    again = model.run(stim)
    for key in first:
        np.testing.assert_array_equal(again[key], first[key])


# -- model against pysim, seeded -------------------------------------------------------------------
PYSIM_CASES = [
    *[(name, {"registered": r}) for name in GATES for r in (True, False)],
    ("mux_add", {}),
    ("mux_add", {"registered": False}),
    ("mux_add", {"select": "lfsr", "width": 3}),
    ("mux_add", {"select": "lfsr", "width": 5, "registered": False}),
    ("mux_add", {"select": "lfsr", "width": 16, "seed": 0xFFFF}),
    ("mux_add", {"select": "lfsr", "width": 32, "seed": 1, "registered": False}),
    ("cordiv", {}),
    ("cordiv", {"registered": False}),
    ("counter", {"window": 1}),
    ("counter", {"window": 3, "registered": False}),
    ("counter", {"window": 8}),
    ("counter", {"window": 37, "registered": False}),
    ("apc", {"n_inputs": 1}),
    ("apc", {"n_inputs": 5, "registered": False}),
    ("apc", {"n_inputs": 16}),
    ("apc", {"n_inputs": 3, "window": 4}),
    ("apc", {"n_inputs": 7, "window": 1, "registered": False}),
    ("apc", {"n_inputs": 16, "window": 5}),
]


@pytest.mark.parametrize(("name", "params"), PYSIM_CASES, ids=[f"{n}-{p}" for n, p in PYSIM_CASES])
def test_compare_model_pysim(name, params, rng_seed):
    comp = ng.component(name, **params)
    steps = 250
    stim = ng.sim.random_inputs(comp, steps, 2, seed=rng_seed)
    if name == "cordiv":  # a sparse divisor, so that holds are long
        stim["b"] = stim["b"] & np.roll(stim["a"], 1, axis=0)
    result = ng.sim.compare(comp, stim, seed=rng_seed)
    assert result.backends == ("model", "pysim")
    assert result.steps == steps


def test_compare_detects_a_wrong_model(monkeypatch, rng_seed):
    """The pysim comparison can fail: make the gates' model compute OR (the gateware ANDs)."""
    from neurogate.plugins.arith.binary_gate import BinaryGateModel

    comp = ng.component("and_mul")
    monkeypatch.setattr(BinaryGateModel, "_run", lambda self, i, steps: {"y": i["a"] | i["b"]})
    with pytest.raises(ng.sim.MismatchError):
        ng.sim.compare(comp, steps=50, n=2, seed=rng_seed)


# -- the random source of mux_add ------------------------------------------------------------
def test_mux_add_random_source_protocol():
    port = ng.component("mux_add")
    assert port.sequence_key() is None
    msg = "mux_add has no random source to allocate a seed for"
    with pytest.raises(TypeError, match=_exact(msg)):
        port.allocate_seed(0)
    mux = ng.component("mux_add", select="lfsr", width=12)
    enc = ng.component("lfsr", width=12)
    assert (mux.width, mux.seed, mux.taps) == (12, enc.seed, enc.taps)
    # The same generator as an lfsr encoder has the same key: a seed allocator sees the clash.
    assert mux.sequence_key() == enc.sequence_key()
    allocated = [mux.allocate_seed(i) for i in range(16)]
    assert len({c.sequence_key() for c in allocated}) == 16
    for i, c in enumerate(allocated):
        assert c.seed == enc.allocate_seed(i).seed
        assert (c.select, c.width, c.taps) == ("lfsr", 12, enc.taps)
        assert c.sequence_key() == enc.allocate_seed(i).sequence_key()
    assert mux.allocate_seed(5) == mux.allocate_seed(5)
    default = ng.component("mux_add", select="lfsr")
    assert (default.width, default.seed) == (16, 0xACE1)
    assert default.replace(width=8).seed == 0xE1  # defaults follow the width


# -- parameters -----------------------------------------------------------------------------------
def _registered_errors(name):
    return [
        (name, {"registered": 1}, TypeError, f"{name}.registered must be a bool, not 1"),
        (name, {"registered": "yes"}, TypeError, f"{name}.registered must be a bool, not 'yes'"),
    ]


PARAM_ERRORS = [
    *[case for name in ALL for case in _registered_errors(name)],
    ("and_mul", {"width": 4}, TypeError,
     "and_mul has no parameter 'width'; its parameters are: registered"),
    ("mux_add", {"select": "sobol"}, ValueError,
     "mux_add.select must be one of 'port', 'lfsr', not 'sobol'"),
    ("mux_add", {"seed": 5}, ValueError, "mux_add.seed must be None when select is 'port', not 5"),
    ("mux_add", {"width": 8}, ValueError,
     "mux_add.width must be None when select is 'port', not 8"),
    ("mux_add", {"taps": (4, 3)}, ValueError,
     "mux_add.taps must be None when select is 'port', not (4, 3)"),
    ("mux_add", {"select": "lfsr", "seed": 0}, ValueError,
     "mux_add.seed must be nonzero (0 is the LFSR lock-up state), not 0"),
    ("mux_add", {"select": "lfsr", "width": 8, "seed": 256}, ValueError,
     "mux_add.seed must fit unsigned 8-bit [0, 255], not 256"),
    ("mux_add", {"select": "lfsr", "seed": 1.5}, TypeError,
     "mux_add.seed must be None or an int, not 1.5"),
    ("mux_add", {"select": "lfsr", "width": 2}, ValueError,
     "mux_add.width must be None or an int in 3..32, not 2"),
    ("mux_add", {"select": "lfsr", "width": 33}, ValueError,
     "mux_add.width must be None or an int in 3..32, not 33"),
    ("mux_add", {"select": "lfsr", "taps": (16, 8)}, ValueError,
     "mux_add.taps must give a maximal-length sequence (period 65535) for width 16, "
     "not (16, 8)"),
    ("mux_add", {"select": "lfsr", "width": 4, "taps": (5, 3)}, ValueError,
     "mux_add.taps must be bit positions in 1..4 including 4, not (5, 3)"),
    ("mux_add", {"select": "lfsr", "taps": "16,14"}, TypeError,
     "mux_add.taps must be None or a sequence of bit positions, not '16,14'"),
    ("counter", {"window": 0}, ValueError, "counter.window must be an int in 1..16777216, not 0"),
    ("counter", {"window": 2**24 + 1}, ValueError,
     "counter.window must be an int in 1..16777216, not 16777217"),
    ("counter", {"window": 8.0}, TypeError, "counter.window must be an int, not 8.0"),
    ("counter", {"window": None}, TypeError, "counter.window must be an int, not None"),
    ("apc", {"n_inputs": 0}, ValueError, "apc.n_inputs must be an int in 1..1024, not 0"),
    ("apc", {"n_inputs": 1025}, ValueError, "apc.n_inputs must be an int in 1..1024, not 1025"),
    ("apc", {"n_inputs": True}, TypeError, "apc.n_inputs must be an int, not True"),
    ("apc", {"window": 0}, ValueError, "apc.window must be None or an int in 1..16777216, not 0"),
    ("apc", {"window": "4"}, TypeError, "apc.window must be None or an int, not '4'"),
    ("cordiv", {"window": 4}, TypeError,
     "cordiv has no parameter 'window'; its parameters are: registered"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "params", "exc", "msg"), PARAM_ERRORS, ids=[m for *_, m in PARAM_ERRORS]
)
def test_parameter_errors(name, params, exc, msg):
    with pytest.raises(exc, match=_exact(msg)):
        ng.component(name, **params)


def test_inputs_must_be_bits():
    msg = "cordiv input 'b' must fit unsigned 1-bit [0, 1], not 2 (step 1, instance 0)"
    with pytest.raises(ValueError, match=_exact(msg)):
        ng.component("cordiv").model().run({"a": [0, 1, 0], "b": [1, 2, 0]})
    msg = "apc input 'a1' is missing from the stimulus"
    with pytest.raises(ValueError, match=_exact(msg)):
        ng.component("apc", n_inputs=2).model().run({"a0": [0, 1]})


# -- value tier (tolerances) -------------------------------------------------------------------
def _lfsr_streams(enc, values, steps):
    """The lfsr encoder's bits for each value (one instance per value)."""
    x = np.broadcast_to(np.asarray(values), (steps, len(values)))
    return enc.model(len(values)).run({"x": x})["bit"]


def test_value_and_mul_of_two_lfsr_streams(rng):
    """and_mul of two differently seeded 12-bit LFSR streams over N = 4095 steps estimates x*y.

    Bound: for independent Bernoulli streams the estimate of p = p_a * p_b has standard
    deviation sqrt(p (1 - p) / N) <= 1 / (2 sqrt(N)) = 0.0078. Over 64 pairs we require every
    error below 4 such sigmas (a per-pair exceedance chance of ~6e-5 for random streams) and the
    mean absolute error below one sigma (for random streams its expectation is at most
    sqrt(2/pi) sigma = 0.8 sigma). LFSR streams are deterministic, so the test is too.
    """
    width, steps, pairs = 12, 4095, 64
    enc = ng.component("lfsr", width=width)
    x, y = rng.integers(0, 2**width, size=(2, pairs))
    a = _lfsr_streams(enc.allocate_seed(0), x, steps)
    b = _lfsr_streams(enc.allocate_seed(1), y, steps)
    est = ng.component("and_mul").model(pairs).run({"a": a, "b": b})["y"].mean(axis=0)
    err = np.abs(est - (x / 2**width) * (y / 2**width))
    sigma = 1 / (2 * np.sqrt(steps))
    assert err.max() < 4 * sigma, err.max()
    assert err.mean() < sigma, err.mean()
    # The same seed twice is fully correlated: AND gives min(p_a, p_b), not the product.
    b_same = _lfsr_streams(enc.allocate_seed(0), y, steps)
    ones = ng.component("and_mul").model(pairs).run({"a": a, "b": b_same})["y"].sum(axis=0)
    np.testing.assert_array_equal(ones, np.maximum(np.minimum(x, y) - 1, 0))


def test_value_mux_add_with_internal_select(rng):
    """mux_add(select="lfsr") estimates (p_a + p_b) / 2 from two 12-bit LFSR streams.

    Over N = 4095 steps a random-select estimate has standard deviation at most
    1 / (2 sqrt(N)) = 0.0078; the bound 4 sigma holds for every one of 32 pairs. The select
    generator is allocated a third seed, apart from the two operands'.
    """
    width, steps, pairs = 12, 4095, 32
    enc = ng.component("lfsr", width=width)
    x, y = rng.integers(0, 2**width, size=(2, pairs))
    a = _lfsr_streams(enc.allocate_seed(0), x, steps)
    b = _lfsr_streams(enc.allocate_seed(1), y, steps)
    mux = ng.component("mux_add", select="lfsr", width=width).allocate_seed(2)
    est = mux.model(pairs).run({"a": a, "b": b})["y"].mean(axis=0)
    err = np.abs(est - (x + y) / 2 ** (width + 1))
    assert err.max() < 4 / (2 * np.sqrt(steps)), err.max()


def test_value_cordiv_with_correlated_streams(rng):
    """cordiv on maximally correlated streams (both compare one i.i.d. uniform) gives p_a / p_b.

    The quotient bit is refreshed with probability p_b per step and held otherwise, so its
    autocorrelation at lag k is (1 - p_b)**k and the mean over T steps has variance
    r (1 - r) (2 / p_b - 1) / T (r = p_a / p_b). With p_b >= 1/2 and T = 2**14 that is at most
    sigma = 0.0068; every one of 64 pairs must be within 5 sigma (chance ~6e-7 each).
    """
    steps, pairs = 2**14, 64
    pb = rng.uniform(0.5, 1.0, pairs)
    pa = pb * rng.uniform(0.0, 1.0, pairs)
    u = rng.random((steps, pairs))
    a, b = (u < pa).astype(np.uint8), (u < pb).astype(np.uint8)
    assert not np.any(a & ~b & 1)  # SCC +1: a = 1 implies b = 1
    est = ng.component("cordiv").model(pairs).run({"a": a, "b": b})["y"].mean(axis=0)
    r = pa / pb
    sigma = np.sqrt(r * (1 - r) * (2 / pb - 1) / steps)
    assert np.all(np.abs(est - r) < 5 * sigma + 1e-3), np.abs(est - r).max()
    # Independent streams: cordiv estimates p_a, not the quotient (the documented caveat).
    v = rng.random((steps, pairs))
    b_ind = (v < pb).astype(np.uint8)
    est_ind = ng.component("cordiv").model(pairs).run({"a": a, "b": b_ind})["y"].mean(axis=0)
    assert np.all(np.abs(est_ind - pa) < 5 * np.sqrt(pa * (1 - pa) * (2 / pb - 1) / steps) + 1e-3)


@pytest.mark.parametrize("width", [4, 7, 10])
def test_value_counter_over_a_full_lfsr_period(width, rng):
    """Over a full period of 2**width - 1 steps the lfsr encoder emits exactly x - 1 ones."""
    period = 2**width - 1
    xs = np.array([0, 1, 2, 2 ** (width - 1), period - 1, period, *rng.integers(0, period, 4)])
    bits = _lfsr_streams(ng.component("lfsr", width=width), xs, 2 * period)
    out = ng.component("counter", window=period).model(len(xs)).run({"a": bits})
    assert out["count"][period - 1].tolist() == np.maximum(xs - 1, 0).tolist()
    assert out["count"][-1].tolist() == np.maximum(xs - 1, 0).tolist()
    assert out["valid"][:, 0].sum() == 2
