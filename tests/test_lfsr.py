"""``lfsr``: Fibonacci LFSR + comparator SNG, against an independent pure-Python reference.

Semantics under test (from the issue): shift left, feedback = XOR of bits ``tap - 1`` into
bit 0; ``bit_t = s_t < x_t`` (compare, then advance); registered outputs, latency 1; after
step ``t`` the ``state`` output shows ``s_{t+1}``.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import neurogate as ng
from neurogate.plugins.encoders.lfsr import MAXIMAL_TAPS, is_maximal


# -- independent references -----------------------------------------------------------------------
def ref_step(width: int, taps, s: int) -> int:
    """One Fibonacci step: shift left, XOR of bits (tap - 1) into bit 0."""
    fb = 0
    for t in taps:
        fb ^= (s >> (t - 1)) & 1
    return ((s << 1) & ((1 << width) - 1)) | fb


def ref_states(width: int, taps, seed: int, count: int) -> list[int]:
    """``s_0 .. s_{count-1}``."""
    out, s = [], seed
    for _ in range(count):
        out.append(s)
        s = ref_step(width, taps, s)
    return out


def ref_run(width: int, taps, seed: int, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expected ``bit`` and ``state`` outputs for a ``(T, n)`` stimulus ``x``."""
    steps = x.shape[0]
    s = np.array(ref_states(width, taps, seed, steps + 1), dtype=np.int64)
    bit = (s[:-1, None] < x).astype(np.int64)
    state = np.broadcast_to(s[1:, None], x.shape)
    return bit, state


def brute_period(width: int, taps, limit: int | None = None) -> int | None:
    """Steps until state 1 comes back, or None if it does not within 2**width steps."""
    mask = (1 << width) - 1
    shifts = [t - 1 for t in taps]
    s, k = 1, 0
    limit = limit or (1 << width)
    while k < limit:
        fb = 0
        for sh in shifts:
            fb ^= s >> sh
        s = ((s << 1) & mask) | (fb & 1)
        k += 1
        if s == 1:
            return k
    return None


def _gf2_mulmod(a: int, b: int, poly: int, deg: int) -> int:
    """``a * b mod poly`` over GF(2), polynomials as bit masks."""
    r = 0
    while b:
        if b & 1:
            r ^= a
        b >>= 1
        a <<= 1
        if (a >> deg) & 1:
            a ^= poly
    return r


def _gf2_x_pow(e: int, poly: int, deg: int) -> int:
    """``x**e mod poly``."""
    result, base = 1, 2
    if deg == 1:
        base = _gf2_mulmod(base, 1, poly, deg)
    while e:
        if e & 1:
            result = _gf2_mulmod(result, base, poly, deg)
        base = _gf2_mulmod(base, base, poly, deg)
        e >>= 1
    return result


def _prime_divisors(n: int) -> list[int]:
    out, d = [], 2
    while d * d <= n:
        if n % d == 0:
            out.append(d)
            while n % d == 0:
                n //= d
        d += 1 if d == 2 else 2
    if n > 1:
        out.append(n)
    return out


def gf2_primitive(width: int, taps) -> bool:
    """Whether ``1 + sum(x**t for t in taps)`` (taps include ``width``) is primitive.

    The LFSR's output bit obeys ``b_m = XOR b_{m - t}``, whose characteristic polynomial is the
    reciprocal of this one (same order). A degree-``width`` polynomial is primitive iff ``x``
    has multiplicative order exactly ``2**width - 1`` modulo it.
    """
    if width not in taps:
        return False
    poly = 1
    for t in taps:
        poly ^= 1 << t
    order = (1 << width) - 1
    if _gf2_x_pow(order, poly, width) != 1:
        return False
    return all(_gf2_x_pow(order // q, poly, width) != 1 for q in _prime_divisors(order))


def _exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


# -- known answers -----------------------------------------------------------------------------
def test_known_answer_seed_ace1_width16():
    enc = ng.component("lfsr")
    assert (enc.width, enc.seed, enc.taps) == (16, 0xACE1, (16, 14, 13, 11))
    # By hand, feedback = bits 15 ^ 13 ^ 12 ^ 10:
    #   0xACE1 = 1010_1100_1110_0001: 1^1^0^1 = 1 -> 0x59C2 | 1 = 0x59C3
    #   0x59C3 = 0101_1001_1100_0011: 0^0^1^0 = 1 -> 0xB386 | 1 = 0xB387
    #   0xB387 = 1011_0011_1000_0111: 1^1^1^0 = 1 -> 0x670E | 1 = 0x670F
    assert ref_states(16, (16, 14, 13, 11), 0xACE1, 4) == [0xACE1, 0x59C3, 0xB387, 0x670F]
    # bit_t = s_t < x_t, compared before advancing; x chosen so that comparing against s_{t+1}
    # (or against x_{t-1}) gives a different answer.
    x = [0xACE2, 0xB387, 0xB388, 0x0001]
    expected_bit = [1, 1, 1, 0]
    expected_state = [0x59C3, 0xB387, 0x670F]
    for backend in ("model", "pysim"):
        out = ng.sim.run(enc, {"x": np.array(x)}, backend)
        assert out["bit"][:, 0].tolist() == expected_bit, backend
        assert out["state"][:3, 0].tolist() == expected_state, backend


def test_known_answer_width3_full_period():
    # taps (3, 2): feedback = bit 2 ^ bit 1; default seed 0xACE1 & 0b111 = 1.
    # 001 -> 010 -> 101 -> 011 -> 111 -> 110 -> 100 -> 001 (by hand; period 7).
    enc = ng.component("lfsr", width=3)
    assert (enc.seed, enc.taps) == (1, (3, 2))
    x = np.full(8, 4)  # bit = s < 4
    for backend in ("model", "pysim"):
        out = ng.sim.run(enc, {"x": x}, backend)
        assert out["state"][:, 0].tolist() == [2, 5, 3, 7, 6, 4, 1, 2], backend
        # s_t = 1, 2, 5, 3, 7, 6, 4, 1
        assert out["bit"][:, 0].tolist() == [1, 1, 0, 1, 0, 0, 0, 1], backend


def test_reference_agrees_with_docstring_example():
    # Independent of the code under test: bits of 0x8000 from 0xACE1.
    s = ref_states(16, (16, 14, 13, 11), 0xACE1, 8)
    assert [int(v < 0x8000) for v in s] == [0, 1, 0, 1, 0, 0, 1, 1]


# -- model and pysim against the reference ---------------------------------------------------------
@pytest.mark.parametrize("backend", ["model", "pysim"])
def test_first_1000_states_and_bits_width16(rng, backend):
    enc = ng.component("lfsr")
    x = rng.integers(0, 2**16, size=(1000, 2), dtype=np.int64)
    bit, state = ref_run(16, (16, 14, 13, 11), 0xACE1, x)
    out = ng.sim.run(enc, {"x": x}, backend)
    np.testing.assert_array_equal(out["state"], state)
    np.testing.assert_array_equal(out["bit"], bit)


@pytest.mark.parametrize("width", [3, 4, 7, 8, 12, 17, 24, 31, 32])
def test_model_matches_reference(rng, width):
    seed = int(rng.integers(1, 2**width))
    enc = ng.component("lfsr", width=width, seed=seed)
    x = rng.integers(0, 2**width, size=(1000, 3), dtype=np.int64)
    x[::7, 0] = 2**width - 1
    x[::5, 1] = 0
    bit, state = ref_run(width, MAXIMAL_TAPS[width], seed, x)
    out = enc.model(n=3).run({"x": x})
    np.testing.assert_array_equal(out["state"], state)
    np.testing.assert_array_equal(out["bit"], bit)


@pytest.mark.parametrize("width", [5, 9, 32])
def test_pysim_matches_reference(rng, width):
    seed = int(rng.integers(1, 2**width))
    enc = ng.component("lfsr", width=width, seed=seed)
    x = rng.integers(0, 2**width, size=(300, 2), dtype=np.int64)
    bit, state = ref_run(width, MAXIMAL_TAPS[width], seed, x)
    out = ng.sim.run(enc, {"x": x}, backend="pysim")
    np.testing.assert_array_equal(out["state"], state)
    np.testing.assert_array_equal(out["bit"], bit)


# -- encoder statistics over a full period ---------------------------------------------------------
def _x_values(rng, width: int) -> list[int]:
    top = 2**width - 1
    fixed = {0, 1, 2, 3, 2 ** (width - 1), top - 1, top}
    return sorted(fixed | {int(v) for v in rng.integers(0, top + 1, size=5)})


@pytest.mark.parametrize("width", range(3, 13))
def test_bit_count_over_full_period_model(rng, width):
    period = 2**width - 1
    xs = _x_values(rng, width)
    x = np.broadcast_to(np.array(xs), (2 * period, len(xs)))
    out = ng.component("lfsr", width=width).model(n=len(xs)).run({"x": x})
    counts = out["bit"][:period].sum(axis=0).tolist()
    assert counts == [max(v - 1, 0) for v in xs]
    # The second period repeats the first exactly.
    np.testing.assert_array_equal(out["bit"][:period], out["bit"][period:])
    # The states visit every nonzero value once per period.
    assert sorted(out["state"][:period, 0].tolist()) == list(range(1, period + 1))


def test_bit_count_over_full_period_pysim():
    width, period = 4, 15
    xs = list(range(16))
    x = np.broadcast_to(np.array(xs), (period, 16))
    out = ng.sim.run(ng.component("lfsr", width=width, seed=9), {"x": x}, "pysim")
    assert out["bit"].sum(axis=0).tolist() == [0, *range(15)]


# -- the tap table ---------------------------------------------------------------------------------
def test_maximal_taps_table_shape():
    assert sorted(MAXIMAL_TAPS) == list(range(3, 33))
    for width, taps in MAXIMAL_TAPS.items():
        assert taps[0] == width, width
        assert list(taps) == sorted(set(taps), reverse=True), width
        assert all(1 <= t <= width for t in taps), width
        assert len(taps) % 2 == 0, width  # an odd number of terms (incl. 1) is divisible by 1+x
        assert ng.component("lfsr", width=width).taps == taps


def test_maximal_taps_brute_force_period():
    for width in range(3, 19):
        assert brute_period(width, MAXIMAL_TAPS[width]) == 2**width - 1, width


@pytest.mark.parametrize("width", range(19, 33))
def test_maximal_taps_polynomial_order(width):
    assert gf2_primitive(width, MAXIMAL_TAPS[width])


def _tap_sets(width: int):
    """Every tap set over 1..width that includes ``width``."""
    for mask in range(1 << (width - 1)):
        yield (width, *(t + 1 for t in range(width - 1) if mask >> t & 1))


def test_gf2_checker_agrees_with_brute_force():
    """Validate this file's polynomial-order check before trusting it for widths 19..32."""
    seen = {True: 0, False: 0}
    for width in range(3, 10):
        for taps in _tap_sets(width):
            maximal = brute_period(width, taps) == 2**width - 1
            assert gf2_primitive(width, taps) == maximal, taps
            seen[maximal] += 1
    assert seen[True] > 50
    assert seen[False] > 300


def test_is_maximal_agrees_with_brute_force():
    for width in range(3, 9):
        for taps in _tap_sets(width):
            assert is_maximal(width, taps) == (brute_period(width, taps) == 2**width - 1), taps
    # Tap sets without the top bit are singular: never maximal.
    for width, taps in [(4, (3,)), (5, (4, 3)), (8, (7, 5, 3, 1)), (6, (1,))]:
        assert brute_period(width, taps) != 2**width - 1
        assert not is_maximal(width, taps)


def test_is_maximal_known_non_maximal():
    # x^16 + x^8 + 1 = (x^8 + x^4 + 1)^2 over GF(2): reducible.
    assert not is_maximal(16, (16, 8))
    assert not gf2_primitive(16, (16, 8))
    # x^4 + x^2 + 1 = (x^2 + x + 1)^2: period 6, not 15.
    assert brute_period(4, (4, 2)) == 6
    assert not is_maximal(4, (4, 2))


# -- parameters ----------------------------------------------------------------------------------
@pytest.mark.parametrize("width", range(3, 33))
def test_default_seed_is_ace1_masked(width):
    enc = ng.component("lfsr", width=width)
    seed = 0xACE1 & (2**width - 1)
    assert enc.seed == seed
    out = enc.model().run({"x": np.zeros(2, dtype=np.int64)})
    assert out["state"][:, 0].tolist() == ref_states(width, MAXIMAL_TAPS[width], seed, 3)[1:]


def test_default_seed_examples():
    assert ng.component("lfsr", width=8).seed == 0xE1
    assert ng.component("lfsr", width=12).seed == 0xCE1
    assert ng.component("lfsr", width=3).seed == 0b001
    assert ng.component("lfsr", width=32).seed == 0xACE1


def test_taps_are_normalised():
    enc = ng.component("lfsr", taps=[11, 13, 14, 16])
    assert enc.taps == (16, 14, 13, 11)
    assert enc == ng.component("lfsr")


def test_ports_and_latency():
    enc = ng.component("lfsr", width=11)
    assert enc.kind == "encoder"
    assert enc.latency == 1
    ports = {k: (p.direction, p.width, p.signed) for k, p in enc.ports.items()}
    assert ports == {"x": ("in", 11, False), "bit": ("out", 1, False), "state": ("out", 11, False)}


@pytest.mark.parametrize(
    ("params", "exc", "msg"),
    [
        ({"seed": 0}, ValueError, "lfsr.seed must be nonzero (0 is the LFSR lock-up state), not 0"),
        (
            {"width": 5, "seed": 0},
            ValueError,
            "lfsr.seed must be nonzero (0 is the LFSR lock-up state), not 0",
        ),
        ({"width": 2}, ValueError, "lfsr.width must be an int in 3..32, not 2"),
        ({"width": 33}, ValueError, "lfsr.width must be an int in 3..32, not 33"),
        ({"width": True}, TypeError, "lfsr.width must be an int, not True"),
        ({"width": 16.0}, TypeError, "lfsr.width must be an int, not 16.0"),
        ({"width": "16"}, TypeError, "lfsr.width must be an int, not '16'"),
        (
            {"width": 8, "seed": 256},
            ValueError,
            "lfsr.seed must fit unsigned 8-bit [0, 255], not 256",
        ),
        ({"seed": 1 << 16}, ValueError, "lfsr.seed must fit unsigned 16-bit [0, 65535], not 65536"),
        ({"seed": -1}, ValueError, "lfsr.seed must fit unsigned 16-bit [0, 65535], not -1"),
        ({"seed": True}, TypeError, "lfsr.seed must be None or an int, not True"),
        ({"seed": 1.0}, TypeError, "lfsr.seed must be None or an int, not 1.0"),
        ({"seed": "1"}, TypeError, "lfsr.seed must be None or an int, not '1'"),
        (
            {"taps": (15, 14)},
            ValueError,
            "lfsr.taps must be bit positions in 1..16 including 16, not (15, 14)",
        ),
        (
            {"taps": (17, 16)},
            ValueError,
            "lfsr.taps must be bit positions in 1..16 including 16, not (17, 16)",
        ),
        (
            {"width": 4, "taps": (4, 0)},
            ValueError,
            "lfsr.taps must be bit positions in 1..4 including 4, not (4, 0)",
        ),
        (
            {"taps": (16, 8)},
            ValueError,
            "lfsr.taps must give a maximal-length sequence (period 65535) for width 16, "
            "not (16, 8)",
        ),
        (
            {"width": 4, "taps": (4, 2)},
            ValueError,
            "lfsr.taps must give a maximal-length sequence (period 15) for width 4, not (4, 2)",
        ),
        (
            {"taps": "16,14"},
            TypeError,
            "lfsr.taps must be None or a sequence of bit positions, not '16,14'",
        ),
        ({"taps": 16}, TypeError, "lfsr.taps must be None or a sequence of bit positions, not 16"),
        (
            {"taps": (16.0, 14)},
            TypeError,
            "lfsr.taps must be None or a sequence of bit positions, not (16.0, 14)",
        ),
        (
            {"taps": (True, 16)},
            TypeError,
            "lfsr.taps must be None or a sequence of bit positions, not (True, 16)",
        ),
        (
            {"foo": 1},
            TypeError,
            "lfsr has no parameter 'foo'; its parameters are: width, seed, taps",
        ),
    ],
    ids=repr,
)
def test_parameter_errors(params, exc, msg):
    with pytest.raises(exc, match=_exact(msg)):
        ng.component("lfsr", **params)


def test_frozen():
    enc = ng.component("lfsr")
    msg = "lfsr parameters are frozen; use .replace(seed=...) to make a changed copy"
    with pytest.raises(AttributeError, match=_exact(msg)):
        enc.seed = 5
    assert enc.replace(seed=5).seed == 5
    assert enc.seed == 0xACE1


def test_input_out_of_range():
    enc = ng.component("lfsr", width=8)
    msg = "lfsr input 'x' must fit unsigned 8-bit [0, 255], not 256 (step 3, instance 0)"
    with pytest.raises(ValueError, match=_exact(msg)):
        enc.model().run({"x": [0, 1, 2, 256]})


# -- state across runs ----------------------------------------------------------------------------
def test_model_continues_across_runs(rng):
    enc = ng.component("lfsr", width=16, seed=0x1234)
    x = rng.integers(0, 2**16, size=(120, 3), dtype=np.int64)
    whole = enc.model(n=3).run({"x": x})
    model = enc.model(n=3)
    first, second = model.run({"x": x[:50]}), model.run({"x": x[50:]})
    for port in ("bit", "state"):
        np.testing.assert_array_equal(np.concatenate([first[port], second[port]]), whole[port])
    bit, state = ref_run(16, MAXIMAL_TAPS[16], 0x1234, x)
    np.testing.assert_array_equal(whole["bit"], bit)
    np.testing.assert_array_equal(whole["state"], state)
    model.reset()
    np.testing.assert_array_equal(model.run({"x": x[:50]})["state"], whole["state"][:50])


def test_model_continues_across_period_boundary(rng):
    enc = ng.component("lfsr", width=3)
    x = rng.integers(0, 8, size=(40, 2), dtype=np.int64)
    model = enc.model(n=2)
    parts = [model.run({"x": x[a:b]}) for a, b in [(0, 5), (5, 11), (11, 11), (11, 26), (26, 40)]]
    bit, state = ref_run(3, (3, 2), 1, x)
    np.testing.assert_array_equal(np.concatenate([p["bit"] for p in parts]), bit)
    np.testing.assert_array_equal(np.concatenate([p["state"] for p in parts]), state)


# -- seeded random model-vs-pysim comparisons ----------------------------------------------------
CUSTOM_TAPS = [
    (5, (5, 2)),
    (7, (7, 1)),
    (8, (8, 4, 3, 2)),
    (10, (10, 3)),
    (16, (16, 15, 13, 4)),
    (24, (24, 7, 2, 1)),
    (32, (32, 7, 5, 3, 2, 1)),
]


@pytest.mark.parametrize(("width", "taps"), CUSTOM_TAPS, ids=[f"w{w}-{t}" for w, t in CUSTOM_TAPS])
def test_custom_taps_are_maximal_and_accepted(width, taps):
    assert gf2_primitive(width, taps)
    if width <= 16:
        assert brute_period(width, taps) == 2**width - 1
    assert ng.component("lfsr", width=width, taps=taps).taps == taps


@pytest.mark.parametrize("seed_kind", ["default", "one", "all-ones", "random"])
@pytest.mark.parametrize("width", [3, 5, 8, 11, 16, 24, 32])
def test_compare_model_pysim(rng_seed, rng, width, seed_kind):
    seed = {
        "default": None,
        "one": 1,
        "all-ones": 2**width - 1,
        "random": int(rng.integers(1, 2**width)),
    }[seed_kind]
    enc = ng.component("lfsr", width=width, seed=seed)
    result = ng.sim.compare(enc, steps=300, n=3, seed=rng_seed)
    assert result.backends == ("model", "pysim")
    assert result.seed == rng_seed
    bit, state = ref_run(width, MAXIMAL_TAPS[width], enc.seed, result.inputs["x"])
    np.testing.assert_array_equal(result.outputs["pysim"]["bit"], bit)
    np.testing.assert_array_equal(result.outputs["pysim"]["state"], state)


@pytest.mark.parametrize(("width", "taps"), CUSTOM_TAPS, ids=[f"w{w}-{t}" for w, t in CUSTOM_TAPS])
def test_compare_model_pysim_custom_taps(rng_seed, rng, width, taps):
    seed = int(rng.integers(1, 2**width))
    enc = ng.component("lfsr", width=width, taps=taps, seed=seed)
    result = ng.sim.compare(enc, steps=300, n=2, seed=rng_seed)
    bit, state = ref_run(width, taps, seed, result.inputs["x"])
    np.testing.assert_array_equal(result.outputs["model"]["bit"], bit)
    np.testing.assert_array_equal(result.outputs["model"]["state"], state)


def test_taps_accept_numpy_ints_and_reject_repeats():
    assert ng.component("lfsr", taps=[np.int64(11), 13, 14, 16]).taps == (16, 14, 13, 11)
    with pytest.raises(
        ValueError,
        match=_exact("lfsr.taps must be distinct bit positions, not (16, 14, 14, 13, 11)"),
    ):
        ng.component("lfsr", taps=(16, 14, 14, 13, 11))
