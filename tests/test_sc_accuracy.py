"""Second tier (tolerances from theory): SC accuracy of the encoders, beside the bit-true tests.

The bounds below are proven, not fitted: the Sobol pair is a (0, m, 2)-net and the Halton pair
obeys Niederreiter's star-discrepancy bound, so no seed can make these tests flaky; the
pseudo-random rows use fixed seeds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import neurogate as ng

W = 10  # encoder width: periods up to 2**10 keep the tests fast


def product_counts(enc_a, enc_b, xa, xb, steps):
    """Ones of and_mul(enc_a(xa), enc_b(xb)) after 1..steps steps, per operand pair."""

    def run(enc, x):
        return enc.model(x.size).run({"x": np.broadcast_to(x, (steps, x.size))})["bit"]

    gate = ng.component("and_mul", registered=False)
    y = gate.model(xa.size).run({"a": run(enc_a, xa), "b": run(enc_b, xb)})["y"]
    return np.cumsum(y, axis=0)


def operands(rng, pairs=300):
    full = 1 << W
    xa = rng.integers(0, full + 1, pairs).clip(max=full - 1)
    xb = rng.integers(0, full + 1, pairs).clip(max=full - 1)
    return xa, xb


def test_sobol_pair_product_error_is_within_the_net_bound(rng):
    """Dimensions 1 and 2 of Sobol form a (0, m, 2)-net in base 2 for every N = 2^m, so the
    ones of a AND b differ from N * alpha * beta by less than m + 1 (one per 1-bit of alpha's
    first m bits, plus one for the rest)."""
    xa, xb = operands(rng)
    full = 1 << W
    counts = product_counts(
        ng.component("sobol", width=W, dimension=1),
        ng.component("sobol", width=W, dimension=2),
        xa, xb, full,
    )  # fmt: skip
    for m in range(1, W + 1):
        n = 1 << m
        err = np.abs(counts[n - 1] - n * (xa / full) * (xb / full))
        assert err.max() < m + 1, (m, err.max())


def test_halton_pair_product_error_is_within_niederreiter_bound(rng):
    """Halton in bases 2 and 3: N * D*_N < s + prod((b-1)/(2 ln b) ln N + (b+1)/2) (Niederreiter,
    Random Number Generation and Quasi-Monte Carlo Methods, 1992, Thm 3.6); the comparator
    is exact on the radical inverse, so a AND b counts an anchored box of that sequence."""
    xa, xb = operands(rng)
    full = 1 << W
    digits3 = math.ceil(W / math.log2(3))
    counts = product_counts(
        ng.component("halton", width=W, base=2, digits=W),
        ng.component("halton", width=W, base=3, digits=digits3),
        xa, xb, full,
    )  # fmt: skip
    for n in (7, 16, 100, 243, 512, 1000, full):
        bound = 2 + math.prod((b - 1) / (2 * math.log(b)) * math.log(n) + (b + 1) / 2
                              for b in (2, 3))  # fmt: skip
        err = np.abs(counts[n - 1] - n * (xa / full) * (xb / full))
        assert err.max() < bound, (n, err.max(), bound)


def mean_error_slope(counts, exact, lengths):
    errs = [np.mean(np.abs(counts[n - 1] / n - exact)) for n in lengths]
    return np.polyfit(np.log(lengths), np.log(errs), 1)[0]


def test_error_falls_as_one_over_sqrt_n_for_lfsr_and_about_one_over_n_for_sobol():
    rng = np.random.default_rng(20261124)  # fixed: the slopes are statistics of this draw
    xa, xb = operands(rng, pairs=400)
    full = 1 << W
    exact = (xa / full) * (xb / full)
    # Up to a quarter period: over a whole period each LFSR stream's count is exact, which
    # would steepen the pseudo-random slope at the last point.
    lengths = [1 << k for k in range(4, W - 1)]
    lfsr = ng.component("lfsr", width=W)
    pseudo = product_counts(lfsr.allocate_seed(0), lfsr.allocate_seed(1), xa, xb, full)
    sobol = product_counts(
        ng.component("sobol", width=W, dimension=1),
        ng.component("sobol", width=W, dimension=2),
        xa, xb, full,
    )  # fmt: skip
    assert -0.75 < mean_error_slope(pseudo, exact, lengths) < -0.3
    assert mean_error_slope(sobol, exact, lengths) < -0.85


def test_shared_sequence_is_fully_correlated_and_allocations_are_not(rng):
    scc = pytest.importorskip("neurogate.sc").scc
    full = 1 << W
    xa = rng.integers(full // 8, full - full // 8, 100)
    xb = rng.integers(full // 8, full - full // 8, 100)
    lfsr = ng.component("lfsr", width=W)
    steps = full - 1

    def run(enc, x):
        return enc.model(x.size).run({"x": np.broadcast_to(x, (steps, x.size))})["bit"]

    a = run(lfsr, xa)
    # The same random numbers compared with two values: one stream's ones contain the other's.
    np.testing.assert_array_equal(scc(a, run(lfsr, xb)), 1.0)
    independent = scc(a, run(lfsr.allocate_seed(1), xb))
    assert abs(np.mean(independent)) < 0.1
