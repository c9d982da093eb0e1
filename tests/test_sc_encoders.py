"""Encoders ``vdc``, ``sobol``, ``halton`` and ``bernoulli`` against independent references.

Semantics under test (each module's docstring): a generator number ``r_t`` per step and a
registered comparator ``bit_t = r_t < x_t`` (latency 1):

- ``vdc``: ``r_t = bitreverse_w(c_t)``, ``c_t = (start + t) mod 2**w``;
- ``sobol``: ``r_t`` = XOR of the direction numbers over the set bits of ``gray(t mod 2**w)``
  (built incrementally here, as the gateware does), direction numbers checked against SciPy;
- ``halton``: ``r_t = floor(R_t * 2**w / b**D)``, ``R_t`` the base-``b`` digits of
  ``c_t = (start + t) mod b**D`` reversed;
- ``bernoulli``: ``lfsr``'s Fibonacci generator, optionally through a farthest-bit permutation.

The references below are written from those definitions with Python ints and strings, not
from the code under test.
"""

from __future__ import annotations

import itertools
import re
import zlib
from fractions import Fraction

import numpy as np
import pytest

import neurogate as ng
from neurogate.plugins.encoders.bernoulli import scramble_order
from neurogate.plugins.encoders.sobol import DIRECTIONS, direction_numbers

ENCODERS = ("vdc", "sobol", "halton", "bernoulli")


def exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


# -- independent references -----------------------------------------------------------------------
def ref_vdc(width: int, start: int, steps: int) -> list[int]:
    """Bit-reversed counter, by string reversal."""
    out = []
    for t in range(steps):
        c = (start + t) % 2**width
        out.append(int(format(c, f"0{width}b")[::-1], 2))
    return out


def ref_sobol(directions, steps: int) -> list[int]:
    """Antonov-Saleev: y_{n+1} = y_n ^ V[lowest 0 bit of n] (w-1 when bits 0..w-2 are all 1)."""
    width = len(directions)
    y, out = 0, []
    for n in range(steps):
        out.append(y)
        c = 0
        while c < width - 1 and (n >> c) & 1:
            c += 1
        y ^= directions[c]
    return out


def ref_sobol_direct(directions, indices: np.ndarray) -> np.ndarray:
    """y_n = XOR of V[k] over the set bits k of gray(n) (the direct formula)."""
    n = np.asarray(indices, dtype=np.int64) % 2 ** len(directions)
    gray = n ^ (n >> 1)
    y = np.zeros_like(gray)
    for k, v in enumerate(directions):
        y ^= np.where((gray >> k) & 1 == 1, v, 0)
    return y


def ref_halton(base: int, digits: int, width: int, start: int, steps: int) -> list[int]:
    """Radical inverse of the base-b digits, scaled to width bits with exact fractions."""
    period = base**digits
    out = []
    for t in range(steps):
        c = (start + t) % period
        ds = []
        for _ in range(digits):
            ds.append(c % base)
            c //= base
        phi = sum(Fraction(d, base ** (j + 1)) for j, d in enumerate(ds))
        out.append(int(phi * 2**width))  # floor: phi >= 0
    return out


def ref_lfsr(width: int, taps, seed: int, steps: int) -> list[int]:
    """Fibonacci LFSR: shift left, XOR of bits (tap - 1) into bit 0."""
    out, s = [], seed
    for _ in range(steps):
        out.append(s)
        fb = 0
        for t in taps:
            fb ^= (s >> (t - 1)) & 1
        s = ((s << 1) & (2**width - 1)) | fb
    return out


def ref_scramble_order(width: int) -> list[int]:
    """p_0 = w-1, p_1 = 0, then the unused position farthest from the used ones (lowest on ties)."""
    order = [width - 1]
    while len(order) < width:
        best, best_dist = None, -1
        for a in range(width):  # ascending, so a strict '>' keeps the lowest on ties
            if a in order:
                continue
            dist = min(abs(a - u) for u in order)
            if dist > best_dist:
                best, best_dist = a, dist
        order.append(best)
    return order


def ref_bernoulli(width, taps, seed, scrambled, steps) -> list[int]:
    states = ref_lfsr(width, taps, seed, steps)
    if not scrambled:
        return states
    order = ref_scramble_order(width)
    out = []
    for s in states:
        bits = "".join(str((s >> p) & 1) for p in order)  # MSB first
        out.append(int(bits, 2))
    return out


def ref_r(enc, steps: int) -> list[int]:
    """The generator numbers r_0 .. r_{steps-1} of ``enc`` by the reference of its kind."""
    if enc.name == "vdc":
        return ref_vdc(enc.width, enc.start, steps)
    if enc.name == "sobol":
        return ref_sobol(enc.directions, steps)
    if enc.name == "halton":
        return ref_halton(enc.base, enc.digits, enc.width, enc.start, steps)
    return ref_bernoulli(enc.width, enc.taps, enc.seed, enc.scramble, steps)


def ref_bits(r, x: np.ndarray) -> np.ndarray:
    return (np.asarray(r, dtype=np.int64)[:, None] < x).astype(np.int64)


def recover_r(enc, steps: int, backend: str = "model") -> list[int]:
    """Read r_t back through the comparator: one instance per x, ``r_t = 2**w - 1 - ones``."""
    full = 2**enc.width
    x = np.broadcast_to(np.arange(full, dtype=np.int64), (steps, full))
    bits = ng.sim.run(enc, {"x": x}, backend)["bit"]
    # Every instance must be a threshold of the same r_t: ones exactly for x > r_t.
    r = full - 1 - bits.sum(axis=1)
    np.testing.assert_array_equal(bits, (r[:, None] < np.arange(full)).astype(bits.dtype))
    return r.tolist()


# -- known answers --------------------------------------------------------------------------------
def test_vdc_known_answers():
    # Bit reversal by hand: 000 001 010 011 100 101 110 111 -> 000 100 010 110 001 101 011 111.
    assert ref_vdc(3, 0, 8) == [0, 4, 2, 6, 1, 5, 3, 7]
    enc = ng.component("vdc", width=3)
    for backend in ("model", "pysim"):
        assert recover_r(enc, 10, backend) == [0, 4, 2, 6, 1, 5, 3, 7, 0, 4], backend
    # width 4 from start 5: counters 5, 6, ..., 15, 0: 0101 -> 1010 = 10, 0110 -> 0110 = 6,
    # 0111 -> 1110 = 14, 1000 -> 0001 = 1, 1001 -> 1001 = 9, ... 1111 -> 15, 0000 -> 0.
    enc = ng.component("vdc", width=4, start=5)
    expected = [10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15, 0, 8]
    assert ref_vdc(4, 5, 13) == expected
    for backend in ("model", "pysim"):
        assert recover_r(enc, 13, backend) == expected, backend
    # bit = r < x, compared before the counter advances.
    out = ng.sim.run(ng.component("vdc", width=3), {"x": np.array([1, 5, 3, 7, 2, 2])}, "pysim")
    assert out["bit"][:, 0].tolist() == [1, 1, 1, 1, 1, 0]


# The first ten points of dimensions 1..3 as printed by Joe & Kuo's reference program (the
# sample output on https://web.maths.unsw.edu.au/~fkuo/sobol/).
JOE_KUO_FIRST_POINTS = [
    [0, 0, 0],
    [0.5, 0.5, 0.5],
    [0.75, 0.25, 0.25],
    [0.25, 0.75, 0.75],
    [0.375, 0.375, 0.625],
    [0.875, 0.875, 0.125],
    [0.625, 0.125, 0.875],
    [0.125, 0.625, 0.375],
    [0.1875, 0.3125, 0.9375],
    [0.6875, 0.8125, 0.4375],
]

# scipy.stats.qmc.Sobol(8, scramble=False, bits=8).random(16) * 256 (SciPy 1.17.1).
SCIPY_FIRST_16_WIDTH8 = {
    1: [0, 128, 192, 64, 96, 224, 160, 32, 48, 176, 240, 112, 80, 208, 144, 16],
    2: [0, 128, 64, 192, 96, 224, 32, 160, 80, 208, 16, 144, 48, 176, 112, 240],
    3: [0, 128, 64, 192, 160, 32, 224, 96, 240, 112, 176, 48, 80, 208, 16, 144],
    4: [0, 128, 64, 192, 224, 96, 160, 32, 112, 240, 48, 176, 144, 16, 208, 80],
    5: [0, 128, 192, 64, 96, 224, 160, 32, 144, 16, 80, 208, 240, 112, 48, 176],
    6: [0, 128, 192, 64, 32, 160, 224, 96, 80, 208, 144, 16, 112, 240, 176, 48],
    7: [0, 128, 64, 192, 96, 224, 32, 160, 112, 240, 48, 176, 16, 144, 80, 208],
    8: [0, 128, 192, 64, 224, 96, 32, 160, 240, 112, 48, 176, 16, 144, 208, 80],
}

# 32-bit direction numbers V[0..31] of dimensions 20 and 32, read off SciPy's 32-bit points
# (V[k] = y(2**k - 1) ^ y(2**k) in Gray-code order).
SCIPY_V32 = {
    20: [
        0x80000000, 0xC0000000, 0xE0000000, 0xB0000000, 0xB8000000, 0x3C000000, 0xCE000000,
        0x41000000, 0x21800000, 0x51C00000, 0x09600000, 0x85700000, 0xF2780000, 0x8E9C0000,
        0x60020000, 0x70030000, 0x58038000, 0x8C02C000, 0x7602E000, 0x7D00F000, 0xEF833800,
        0x10C10400, 0x28E08600, 0xD4B14700, 0xFB182580, 0x0BEE15C0, 0x9279C9E0, 0xFE9D3A70,
        0x38000008, 0xFC00000C, 0x2E00000E, 0xF100000B,
    ],
    32: [
        0x80000000, 0xC0000000, 0xE0000000, 0x30000000, 0x68000000, 0xEC000000, 0x22000000,
        0x2B000000, 0x36800000, 0x9D400000, 0x6A200000, 0x16700000, 0x4DE80000, 0x330C0000,
        0x936A0000, 0x824F0000, 0x3B498000, 0x8F3FC000, 0x28202000, 0xCD707000, 0xF36AA800,
        0x724FDC00, 0xB34BF200, 0x533E6900, 0x62207A80, 0x0A7140C0, 0xE7EA6520, 0xC40D90F0,
        0xEFE9FA88, 0xD80E80CC, 0x45EA452E, 0x2F0DE0F3,
    ],
}  # fmt: skip

# Per dimension 1..32, from SciPy 1.17.1 (scramble=False): CRC-32 of the first 2**16 points at
# 16 bits (little-endian uint16), and of V[0..31] at 32 bits (little-endian uint32).
SCIPY_CRC_POINTS16 = [
    0x4CF1B8CE, 0xB52C1C7A, 0xF9317745, 0x68673A64, 0x4452186C, 0x8700E4DC, 0x8CE3BFD3, 0x5C63E700,
    0x9DBC0F56, 0x321EEA0F, 0xC97C348A, 0xBF5A2027, 0x6868F99D, 0x7D0A5103, 0xE2BFB910, 0x5A0640B2,
    0x3BAF77A7, 0xB1B6BDDC, 0x89DEF25E, 0x10225DDF, 0x90B35B7B, 0xC658CAFD, 0xD33E6327, 0x816C3CDA,
    0x5EC70FE2, 0xD231250C, 0x5399A37B, 0x66A51464, 0x63C55E78, 0xAB457E0E, 0x9850A82D, 0x2A049024,
]  # fmt: skip
SCIPY_CRC_V32 = [
    0xAA842A6D, 0x9D107976, 0x3BDF4456, 0xF8F235A6, 0xC5937565, 0x56D9C7F3, 0x9C72CFB0, 0x1D79D832,
    0x6D34E67D, 0x38CBA62E, 0x98F79F22, 0x5090D17F, 0x6F27545D, 0x7C87DB55, 0xB6306175, 0xC3754182,
    0x062E7B87, 0x135D0642, 0x23B9C4F7, 0xEAE0F6F4, 0xFE5CBEDC, 0x3421BF0D, 0x345CA82C, 0xE35086FC,
    0x00DE9574, 0x3139C242, 0x5E0A9489, 0x3BA26A7C, 0x37420028, 0x2F2215AF, 0xD9D3D14B, 0xF874AF17,
]  # fmt: skip


def test_sobol_known_answers_joe_kuo():
    for dim in (1, 2, 3):
        enc = ng.component("sobol", dimension=dim, width=8)
        expected = [int(p[dim - 1] * 256) for p in JOE_KUO_FIRST_POINTS]
        assert ref_sobol(enc.directions, 10) == expected, dim
        assert recover_r(enc, 10) == expected, dim
    # pysim, through the comparator at a few thresholds: dimension 2 is 0, .5, .25, .75, ...
    enc = ng.component("sobol", dimension=2, width=3)
    assert enc.directions == (4, 6, 5)  # m = 1, 3, 5 (m_3 = m_2 ^ 2 m_2 for x + 1), by hand
    assert recover_r(enc, 9, "pysim") == [0, 4, 2, 6, 3, 7, 1, 5, 0]


@pytest.mark.parametrize("dim", sorted(SCIPY_FIRST_16_WIDTH8))
def test_sobol_known_answers_scipy(dim):
    enc = ng.component("sobol", dimension=dim, width=8)
    assert recover_r(enc, 16) == SCIPY_FIRST_16_WIDTH8[dim]


def test_sobol_direction_numbers_match_scipy():
    for dim, v in SCIPY_V32.items():
        assert list(direction_numbers(dim, 32)) == v, dim
    for dim in range(1, 33):
        v32 = np.array(direction_numbers(dim, 32), dtype="<u4")
        assert zlib.crc32(v32.tobytes()) == SCIPY_CRC_V32[dim - 1], dim
        points = ref_sobol_direct(direction_numbers(dim, 16), np.arange(2**16)).astype("<u2")
        assert zlib.crc32(points.tobytes()) == SCIPY_CRC_POINTS16[dim - 1], dim


def test_sobol_narrow_direction_numbers_are_truncations():
    # V[k] = m_{k+1} << (w - 1 - k): the width-w numbers are the top bits of the 32-bit ones.
    for dim in range(1, 33):
        v32 = direction_numbers(dim, 32)
        for width in range(1, 33):
            assert direction_numbers(dim, width) == tuple(v >> (32 - width) for v in v32[:width])


def _gf2_mulmod(a: int, b: int, poly: int) -> int:
    """``a * b mod poly`` over GF(2), polynomials as bit masks (``a`` already reduced)."""
    deg = poly.bit_length() - 1
    r = 0
    while b:
        if b & 1:
            r ^= a
        b >>= 1
        a <<= 1
        if (a >> deg) & 1:
            a ^= poly
    return r


def _is_primitive(poly: int) -> bool:
    """Whether ``x`` has multiplicative order exactly ``2**deg - 1`` modulo ``poly``."""
    deg = poly.bit_length() - 1
    order = 2**deg - 1

    def x_pow(e: int) -> int:
        result, base = 1, 2 if deg > 1 else 1  # x mod (x + 1) = 1
        while e:
            if e & 1:
                result = _gf2_mulmod(result, base, poly)
            base = _gf2_mulmod(base, base, poly)
            e >>= 1
        return result

    primes = [q for q in range(2, order + 1) if order % q == 0 and all(q % d for d in range(2, q))]
    return x_pow(order) == 1 and all(x_pow(order // q) != 1 for q in primes)


def _primitive_polynomials():
    """``(degree, a)`` of the GF(2) primitive polynomials ``x**s + (a << 1) + 1``, in order."""
    for deg in range(1, 8):
        for a in range(2 ** (deg - 1)):
            if _is_primitive((1 << deg) | (a << 1) | 1):
                yield deg, a


def test_sobol_table_polynomials_are_the_first_primitive_ones():
    table = [(s, a) for s, a, _ in DIRECTIONS[1:]]
    expected = list(_primitive_polynomials())[: len(table)]
    assert table == expected
    assert len(DIRECTIONS) == 32
    for s, _, m in DIRECTIONS[1:]:
        assert len(m) == s
        assert all(mj % 2 == 1 and mj < 2 ** (j + 1) for j, mj in enumerate(m)), m


def test_sobol_dimensions_1_and_2_form_a_0_m_2_net():
    # The first 2**m points of Sobol dimensions 1 and 2 put exactly one point in every
    # elementary box of area 2**-m (a (0, m, 2)-net): the 2-D uniformity AND gates rely on.
    width = 8
    y1 = np.array(recover_r(ng.component("sobol", dimension=1, width=width), 2**width))
    y2 = np.array(recover_r(ng.component("sobol", dimension=2, width=width), 2**width))
    for m in range(1, width + 1):
        for a in range(m + 1):
            box = (y1[: 2**m] >> (width - a)) * 2 ** (m - a) + (y2[: 2**m] >> (width - m + a))
            assert sorted(box.tolist()) == list(range(2**m)), (m, a)


def test_halton_known_answers():
    # Base 3, 2 digits: radical inverses 0, 1/3, 2/3, 1/9, 4/9, 7/9, 2/9, 5/9, 8/9; times 256,
    # floored: 0, 85.3, 170.7, 28.4, 113.8, 199.1, 56.9, 142.2, 227.6.
    expected = [0, 85, 170, 28, 113, 199, 56, 142, 227]
    assert ref_halton(3, 2, 8, 0, 9) == expected
    enc = ng.component("halton", base=3, digits=2, width=8)
    assert enc.period == 9
    assert recover_r(enc, 11) == [*expected, 0, 85]
    # The same at width 4: floor(R * 16 / 9) for R = 0, 3, 6, 1, 4, 7, 2, 5, 8.
    expected = [0, 5, 10, 1, 7, 12, 3, 8, 14]
    for backend in ("model", "pysim"):
        assert recover_r(enc.replace(width=4), 11, backend) == [*expected, 0, 5], backend
    # Base 5, 2 digits, width 4, from start 23: digits d_0 = 3, d_1 = 4, so R = 3*5 + 4 = 19 and
    # r = floor(19 * 16 / 25) = floor(12.2); then c = 24: R = 24 -> 15.4; c = 0 (wrap) -> 0;
    # c = 1: R = 5 -> 3.2; c = 2: R = 10 -> 6.4.
    enc = ng.component("halton", base=5, digits=2, width=4, start=23)
    for backend in ("model", "pysim"):
        assert recover_r(enc, 5, backend) == [12, 15, 0, 3, 6], backend
    # Base 2 with digits = width is the Van der Corput sequence.
    assert recover_r(ng.component("halton", base=2, width=5, start=9), 40) == ref_vdc(5, 9, 40)


def test_halton_default_digits():
    # The largest D with b**D <= 2**width, at least 1.
    for width, base, digits in [(8, 2, 8), (8, 3, 5), (8, 5, 3), (8, 7, 2), (8, 11, 2), (8, 13, 2),
                                (16, 3, 10), (16, 13, 4), (1, 13, 1), (2, 3, 1), (32, 3, 20),
                                (32, 13, 8), (32, 2, 32)]:  # fmt: skip
        enc = ng.component("halton", base=base, width=width)
        assert (enc.digits, enc.period) == (digits, base**digits), (width, base)


def test_bernoulli_known_answers():
    # width 4, taps (4, 3): feedback = bit 3 ^ bit 2; from 0001 by hand:
    # 0001 -> 0010 -> 0100 -> 1001 -> 0011 -> 0110 -> 1101.
    states = [1, 2, 4, 9, 3, 6, 13]
    assert ref_lfsr(4, (4, 3), 1, 7) == states
    assert scramble_order(4) == (3, 0, 1, 2)
    # Scrambled: r = s3 s0 s1 s2 (MSB first): 0100, 0010, 0001, 1100, 0110, 0011, 1101.
    scrambled = [4, 2, 1, 12, 6, 3, 13]
    assert ref_bernoulli(4, (4, 3), 1, True, 7) == scrambled
    for backend in ("model", "pysim"):
        enc = ng.component("bernoulli", width=4, seed=1)
        assert recover_r(enc, 7, backend) == scrambled, backend
        assert recover_r(enc.replace(scramble=False), 7, backend) == states, backend


def test_scramble_order_width16():
    # By hand: 15, 0, then 7 (8 away from 15... 7 from 0; 8 ties at 7 and loses), 11, 3 (3 ties
    # with 4), 5, 9, 13 (distance 2), then the distance-1 positions in ascending order.
    expected = (15, 0, 7, 11, 3, 5, 9, 13, 1, 2, 4, 6, 8, 10, 12, 14)
    assert scramble_order(16) == expected
    assert tuple(ref_scramble_order(16)) == expected
    for width in range(3, 33):
        order = scramble_order(width)
        assert list(order) == ref_scramble_order(width), width
        assert sorted(order) == list(range(width)), width


# -- exact ones count per period and on aligned windows -------------------------------------------
def _xs(rng, width: int) -> list[int]:
    top = 2**width - 1
    fixed = {v for v in (0, 1, 2, 2 ** (width - 1), top - 1, top) if 0 <= v <= top}
    return sorted(fixed | {int(v) for v in rng.integers(0, top + 1, size=6)})


def _counts(enc, xs, steps):
    x = np.broadcast_to(np.array(xs, dtype=np.int64), (steps, len(xs)))
    return enc.model(n=len(xs)).run({"x": x})["bit"]


@pytest.mark.parametrize(("width", "start"), [(1, 0), (1, 1), (3, 5), (8, 0), (8, 77), (12, 4000)])
def test_vdc_count_per_period_and_window(rng, width, start):
    xs = _xs(rng, width)
    period = 2**width
    bits = _counts(ng.component("vdc", width=width, start=start), xs, 2 * period)
    # Any 2**w consecutive steps: exactly x ones.
    for offset in (0, 1, period // 3, period - 1):
        assert bits[offset : offset + period].sum(axis=0).tolist() == xs
    # Windows of 2**k steps aligned to the counter: x >> (w - k) ones, or one more.
    for k in range(width + 1):
        first = (-start) % 2**k  # first step where the counter is a multiple of 2**k
        for s0 in range(first, period, 2**k):
            counts = bits[s0 : s0 + 2**k].sum(axis=0)
            for x, cnt in zip(xs, counts, strict=True):
                lo = x >> (width - k)
                assert cnt in (lo, lo + (x % 2 ** (width - k) != 0)), (k, s0, x, cnt)


@pytest.mark.parametrize(("width", "dim"), [(1, 1), (2, 3), (5, 7), (8, 2), (8, 19), (11, 32)])
def test_sobol_count_per_period_and_window(rng, width, dim):
    xs = _xs(rng, width)
    period = 2**width
    bits = _counts(ng.component("sobol", width=width, dimension=dim), xs, 2 * period)
    for offset in (0, 1, period // 3, period - 1):
        assert bits[offset : offset + period].sum(axis=0).tolist() == xs
    for k in range(width + 1):
        for s0 in range(0, period, 2**k):
            counts = bits[s0 : s0 + 2**k].sum(axis=0)
            for x, cnt in zip(xs, counts, strict=True):
                lo = x >> (width - k)
                assert cnt in (lo, lo + (x % 2 ** (width - k) != 0)), (k, s0, x, cnt)


HALTON_COUNT_CASES = [
    (2, None, 6, 0), (2, 4, 6, 3), (2, 7, 5, 100), (3, None, 8, 0), (3, 3, 8, 26), (3, 6, 4, 0),
    (5, None, 10, 7), (5, 2, 12, 0), (7, None, 8, 11), (11, 2, 7, 0), (13, None, 9, 5),
    (13, 1, 1, 0),
]  # fmt: skip


@pytest.mark.parametrize(("base", "digits", "width", "start"), HALTON_COUNT_CASES)
def test_halton_count_per_period_and_window(rng, base, digits, width, start):
    enc = ng.component("halton", base=base, digits=digits, width=width, start=start)
    xs = _xs(rng, width)
    period = enc.period
    bits = _counts(enc, xs, 2 * period)
    expected = [-(-x * period // 2**width) for x in xs]  # ceil(x * P / 2**w)
    for offset in (0, 1, period // 3, period - 1):
        assert bits[offset : offset + period].sum(axis=0).tolist() == expected
    # Windows of b**k steps aligned to the counter: within 1 of x * b**k / 2**w.
    for k in range(enc.digits + 1):
        first = (-start) % base**k
        for s0 in range(first, period, base**k):
            counts = bits[s0 : s0 + base**k].sum(axis=0)
            for x, cnt in zip(xs, counts, strict=True):
                assert abs(Fraction(int(cnt)) - Fraction(x * base**k, 2**width)) < 1, (k, s0, x)


@pytest.mark.parametrize("scrambled", [True, False])
@pytest.mark.parametrize("width", [3, 4, 7, 10, 13])
def test_bernoulli_count_per_period(rng, width, scrambled):
    xs = _xs(rng, width)
    period = 2**width - 1
    enc = ng.component(
        "bernoulli", width=width, scramble=scrambled, seed=int(rng.integers(1, period))
    )
    bits = _counts(enc, xs, 2 * period)
    for offset in (0, 1, period // 2):
        assert bits[offset : offset + period].sum(axis=0).tolist() == [max(x - 1, 0) for x in xs]


def test_count_per_period_pysim():
    cases = [
        (ng.component("vdc", width=4, start=3), 16, lambda x: x),
        (ng.component("sobol", width=4, dimension=6), 16, lambda x: x),
        (ng.component("halton", base=3, digits=2, width=4, start=4), 9, lambda x: -(-x * 9 // 16)),
        (ng.component("bernoulli", width=4, seed=7), 15, lambda x: max(x - 1, 0)),
    ]
    xs = list(range(16))
    for enc, period, count in cases:
        x = np.broadcast_to(np.array(xs), (period, 16))
        out = ng.sim.run(enc, {"x": x}, "pysim")
        assert out["bit"].sum(axis=0).tolist() == [count(v) for v in xs], enc


# -- model against the references ----------------------------------------------------------------
MODEL_CASES = [
    ("vdc", {"width": 1}), ("vdc", {"width": 7, "start": 100}), ("vdc", {"width": 16}),
    ("vdc", {"width": 32, "start": 2**32 - 300}),
    ("sobol", {"width": 1}), ("sobol", {"width": 4, "dimension": 9}),
    ("sobol", {"width": 16, "dimension": 2}), ("sobol", {"width": 32, "dimension": 32}),
    ("sobol", {"width": 20, "dimension": 14}),
    ("halton", {"base": 3, "width": 16}), ("halton", {"base": 5, "digits": 4, "width": 9}),
    ("halton", {"base": 7, "width": 32, "start": 7**11 - 500}),
    ("halton", {"base": 11, "digits": 9, "width": 32, "start": 12345}),
    ("halton", {"base": 13, "digits": 1, "width": 3}),
    ("halton", {"base": 2, "digits": 20, "width": 12, "start": 2**20 - 700}),
    ("bernoulli", {"width": 3}), ("bernoulli", {"width": 16}),
    ("bernoulli", {"width": 16, "scramble": False}),
    ("bernoulli", {"width": 32, "seed": 0xDEADBEEF}),
    ("bernoulli", {"width": 24, "taps": (24, 7, 2, 1)}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "params"), MODEL_CASES, ids=repr)
def test_model_matches_reference(rng, name, params):
    enc = ng.component(name, **params)
    steps = 1000
    x = rng.integers(0, 2**enc.width, size=(steps, 3), dtype=np.int64)
    x[::7, 0] = 2**enc.width - 1
    x[::5, 1] = 0
    out = enc.model(n=3).run({"x": x})
    np.testing.assert_array_equal(out["bit"], ref_bits(ref_r(enc, steps), x))


def test_sobol_reference_constructions_agree():
    # The incremental (Gray-code) reference and the direct formula give the same points.
    for width, dim in [(1, 1), (3, 2), (8, 5), (12, 31)]:
        v = direction_numbers(dim, width)
        steps = 2**width + 37
        assert ref_sobol(v, steps) == ref_sobol_direct(v, np.arange(steps)).tolist()


# -- model against pysim, bit for bit -------------------------------------------------------------
PYSIM_CASES = [
    ("vdc", {"width": 1}), ("vdc", {"width": 5, "start": 17}), ("vdc", {"width": 16}),
    ("vdc", {"width": 32, "start": 2**32 - 150}),
    ("sobol", {"width": 1}), ("sobol", {"width": 3, "dimension": 4}),
    ("sobol", {"width": 7, "dimension": 13}), ("sobol", {"width": 16, "dimension": 2}),
    ("sobol", {"width": 32, "dimension": 32}),
    ("halton", {"base": 2, "digits": 3, "width": 5, "start": 6}),
    ("halton", {"base": 2, "digits": 12, "width": 8, "start": 2**12 - 150}),
    ("halton", {"base": 3, "digits": 3, "width": 8, "start": 20}),
    ("halton", {"base": 3, "width": 16, "start": 3**10 - 150}),
    ("halton", {"base": 5, "digits": 13, "width": 32, "start": 5**13 - 150}),
    ("halton", {"base": 7, "digits": 2, "width": 3}),
    ("halton", {"base": 11, "width": 12, "start": 100}),
    ("halton", {"base": 13, "width": 1}),
    ("halton", {"base": 13, "digits": 8, "width": 20, "start": 13**8 - 150}),
    ("bernoulli", {"width": 3}), ("bernoulli", {"width": 8, "seed": 0x80}),
    ("bernoulli", {"width": 16, "scramble": False}), ("bernoulli", {"width": 32}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "params"), PYSIM_CASES, ids=repr)
def test_compare_model_pysim(rng_seed, name, params):
    enc = ng.component(name, **params)
    result = ng.sim.compare(enc, steps=300, n=2, seed=rng_seed)
    assert result.backends == ("model", "pysim")
    x = result.inputs["x"]
    np.testing.assert_array_equal(result.outputs["pysim"]["bit"], ref_bits(ref_r(enc, 300), x))


# -- state across runs ---------------------------------------------------------------------------
CONTINUE_CASES = [
    ("vdc", {"width": 3, "start": 2}), ("sobol", {"width": 3, "dimension": 5}),
    ("halton", {"base": 3, "digits": 2, "width": 4, "start": 7}),
    ("bernoulli", {"width": 3, "seed": 5}), ("bernoulli", {"width": 12, "scramble": False}),
    ("sobol", {"width": 12, "dimension": 20}), ("halton", {"base": 13, "width": 16}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "params"), CONTINUE_CASES, ids=repr)
def test_model_continues_across_runs(rng, name, params):
    enc = ng.component(name, **params)
    x = rng.integers(0, 2**enc.width, size=(60, 2), dtype=np.int64)
    model = enc.model(n=2)
    parts = [model.run({"x": x[a:b]}) for a, b in [(0, 5), (5, 11), (11, 11), (11, 26), (26, 60)]]
    expected = ref_bits(ref_r(enc, 60), x)
    np.testing.assert_array_equal(np.concatenate([p["bit"] for p in parts]), expected)
    model.reset()
    np.testing.assert_array_equal(model.run({"x": x[:9]})["bit"], expected[:9])


def test_model_continues_over_many_periods():
    enc = ng.component("halton", base=5, digits=1, width=3)  # period 5
    model = enc.model()
    x = np.full(7, 4)  # r = floor(R * 8 / 5) for R = 0..4: 0, 1, 3, 4, 6 -> bits 1, 1, 1, 0, 0
    runs = np.concatenate([model.run({"x": x})["bit"][:, 0] for _ in range(3)])
    cycle = [1, 1, 1, 0, 0]
    assert runs.tolist() == [cycle[t % 5] for t in range(21)]


# -- the random-source protocol ------------------------------------------------------------------
def test_sequence_keys():
    # vdc and halton base 2 (digits = width) generate the same sequence and say so.
    vdc = ng.component("vdc", width=8, start=3)
    halton = ng.component("halton", base=2, width=8, start=3)
    assert vdc.sequence_key() == halton.sequence_key()
    assert recover_r(vdc, 20) == recover_r(halton, 20)
    assert halton.replace(digits=9).sequence_key() != vdc.sequence_key()
    # bernoulli shares lfsr's generator and key, whatever the scramble.
    lfsr = ng.component("lfsr", width=12, seed=99)
    bern = ng.component("bernoulli", width=12, seed=99)
    assert bern.sequence_key() == lfsr.sequence_key() == bern.replace(scramble=False).sequence_key()
    assert bern.replace(seed=98).sequence_key() != lfsr.sequence_key()
    assert bern.allocate_seed(3).sequence_key() == lfsr.allocate_seed(3).sequence_key()
    # sobol: the key is the truncated direction numbers; at width 1 every dimension is alike.
    assert ng.component("sobol", width=1, dimension=5).sequence_key() == (
        ng.component("sobol", width=1, dimension=1).sequence_key()
    )
    assert (
        len({ng.component("sobol", width=8, dimension=d).sequence_key() for d in range(1, 33)})
        == 32
    )


def test_allocations():
    sobol = ng.component("sobol", width=10)
    assert [sobol.allocate_seed(i).dimension for i in range(32)] == list(range(1, 33))
    # width 3: dimensions with equal truncated direction numbers are skipped.
    narrow = ng.component("sobol", width=3)
    dims = [narrow.allocate_seed(i).dimension for i in range(8)]
    keys = [ng.component("sobol", width=3, dimension=d).sequence_key() for d in dims]
    assert len(set(keys)) == 8
    assert (
        len({ng.component("sobol", width=3, dimension=d).sequence_key() for d in range(1, 33)}) == 8
    )
    halton = ng.component("halton", width=8, base=3, digits=3)
    firsts = [halton.allocate_seed(i) for i in range(6)]
    assert [h.base for h in firsts] == [2, 3, 5, 7, 11, 13]
    assert all(h.start == 0 for h in firsts)
    assert firsts[1].digits == 3  # kept for the same base, default otherwise
    assert [h.digits for h in firsts] == [8, 3, 3, 2, 2, 2]
    later = [halton.allocate_seed(i) for i in range(6, 60)]
    assert all(h.start != 0 for h in later)
    keys = [h.sequence_key() for h in firsts + later]
    assert len(set(keys)) == len(keys)
    vdc = ng.component("vdc", width=6)
    starts = [vdc.allocate_seed(i).start for i in range(64)]
    assert sorted(starts) == list(range(64))  # every offset once, 0 first
    assert starts[0] == 0
    assert min(abs(a - b) for a, b in itertools.pairwise(starts)) > 8  # successive: far apart


@pytest.mark.parametrize(
    ("name", "params", "index", "msg"),
    [
        ("vdc", {"width": 2}, 4, "index must be an int in 0..3 (vdc width 2 has 4 distinct "
         "allocations), not 4"),
        ("sobol", {"width": 3}, 8, "index must be an int in 0..7 (sobol width 3 has 8 distinct "
         "allocations), not 8"),
        ("sobol", {"width": 16}, 32, "index must be an int in 0..31 (sobol width 16 has 32 "
         "distinct allocations), not 32"),
        ("halton", {"width": 1}, 12, "index must be an int with index // 6 below the period 2 "
         "of halton base 2, not 12"),
        ("vdc", {}, -1, "index must be a non-negative int, not -1"),
        ("sobol", {}, True, "index must be a non-negative int, not True"),
        ("halton", {}, 1.0, "index must be a non-negative int, not 1.0"),
        ("bernoulli", {}, -2, "index must be a non-negative int, not -2"),
    ],
)  # fmt: skip
def test_allocation_errors(name, params, index, msg):
    with pytest.raises(ValueError, match=exact(msg)):
        ng.component(name, **params).allocate_seed(index)


# -- ports, parameters, bad input ------------------------------------------------------------------
@pytest.mark.parametrize("name", ENCODERS)
def test_ports_and_latency(name):
    enc = ng.component(name, width=11)
    assert enc.kind == "encoder"
    assert enc.latency == 1
    ports = {k: (p.direction, p.width, p.signed) for k, p in enc.ports.items()}
    assert ports == {"x": ("in", 11, False), "bit": ("out", 1, False)}


def test_defaults():
    assert ng.component("vdc").params == {"width": 16, "start": 0}
    assert ng.component("sobol").params == {"width": 16, "dimension": 1}
    assert ng.component("halton").params == {"width": 16, "base": 2, "digits": 16, "start": 0}
    bern = ng.component("bernoulli")
    assert bern.params == {"width": 16, "seed": 0xACE1, "taps": (16, 14, 13, 11), "scramble": True}
    assert ng.component("halton", base=3).replace(width=8).digits == 5  # default follows width


@pytest.mark.parametrize(
    ("name", "params", "exc", "msg"),
    [
        ("vdc", {"width": 0}, ValueError, "vdc.width must be an int in 1..32, not 0"),
        ("vdc", {"width": 33}, ValueError, "vdc.width must be an int in 1..32, not 33"),
        ("vdc", {"width": 8.0}, TypeError, "vdc.width must be an int, not 8.0"),
        ("vdc", {"start": -1}, ValueError, "vdc.start must be an int >= 0, not -1"),
        ("vdc", {"width": 8, "start": 256}, ValueError,
         "vdc.start must be an int in 0..255 for width 8, not 256"),
        ("vdc", {"seed": 1}, TypeError, "vdc has no parameter 'seed'; its parameters are: width, "
         "start"),
        ("sobol", {"dimension": 0}, ValueError, "sobol.dimension must be an int in 1..32, not 0"),
        ("sobol", {"dimension": 33}, ValueError, "sobol.dimension must be an int in 1..32, not 33"),
        ("sobol", {"dimension": "2"}, TypeError, "sobol.dimension must be an int, not '2'"),
        ("sobol", {"width": 0}, ValueError, "sobol.width must be an int in 1..32, not 0"),
        ("sobol", {"width": 64}, ValueError, "sobol.width must be an int in 1..32, not 64"),
        ("halton", {"base": 4}, ValueError,
         "halton.base must be one of 2, 3, 5, 7, 11, 13, not 4"),
        ("halton", {"base": 17}, ValueError,
         "halton.base must be one of 2, 3, 5, 7, 11, 13, not 17"),
        ("halton", {"digits": 0}, ValueError, "halton.digits must be None or an int >= 1, not 0"),
        ("halton", {"digits": 2.0}, TypeError, "halton.digits must be None or an int, not 2.0"),
        ("halton", {"base": 3, "digits": 21}, ValueError,
         "halton.digits must be an int in 1..20 for base 3 (period at most 2**32), not 21"),
        ("halton", {"base": 13, "digits": 9}, ValueError,
         "halton.digits must be an int in 1..8 for base 13 (period at most 2**32), not 9"),
        ("halton", {"digits": 33}, ValueError,
         "halton.digits must be an int in 1..32 for base 2 (period at most 2**32), not 33"),
        ("halton", {"base": 3, "digits": 2, "start": 9}, ValueError,
         "halton.start must be an int in 0..8 for period 3**2, not 9"),
        ("halton", {"start": -3}, ValueError, "halton.start must be an int >= 0, not -3"),
        ("halton", {"width": 33}, ValueError, "halton.width must be an int in 1..32, not 33"),
        ("bernoulli", {"seed": 0}, ValueError,
         "bernoulli.seed must be nonzero (0 is the LFSR lock-up state), not 0"),
        ("bernoulli", {"width": 2}, ValueError, "bernoulli.width must be an int in 3..32, not 2"),
        ("bernoulli", {"width": 33}, ValueError,
         "bernoulli.width must be an int in 3..32, not 33"),
        ("bernoulli", {"width": 8, "seed": 256}, ValueError,
         "bernoulli.seed must fit unsigned 8-bit [0, 255], not 256"),
        ("bernoulli", {"taps": (15, 14)}, ValueError,
         "bernoulli.taps must be bit positions in 1..16 including 16, not (15, 14)"),
        ("bernoulli", {"taps": (16, 8)}, ValueError,
         "bernoulli.taps must give a maximal-length sequence (period 65535) for width 16, "
         "not (16, 8)"),
        ("bernoulli", {"taps": "16"}, TypeError,
         "bernoulli.taps must be None or a sequence of bit positions, not '16'"),
        ("bernoulli", {"scramble": 1}, TypeError, "bernoulli.scramble must be a bool, not 1"),
    ],
    ids=repr,
)  # fmt: skip
def test_parameter_errors(name, params, exc, msg):
    with pytest.raises(exc, match=exact(msg)):
        ng.component(name, **params)


@pytest.mark.parametrize("name", ENCODERS)
def test_input_out_of_range(name):
    enc = ng.component(name, width=8)
    msg = f"{name} input 'x' must fit unsigned 8-bit [0, 255], not 256 (step 3, instance 0)"
    with pytest.raises(ValueError, match=exact(msg)):
        enc.model().run({"x": [0, 1, 2, 256]})
    msg = f"{name} input 'x' must fit unsigned 8-bit [0, 255], not -1 (step 0, instance 1)"
    with pytest.raises(ValueError, match=exact(msg)):
        enc.model(n=2).run({"x": [[0, -1]]})


# -- second tier: statistics the scramble is for -------------------------------------------------
def _p_one_after_one(bits: np.ndarray, lag: int) -> float:
    ones = bits[:-lag] == 1
    return float(bits[lag:][ones].mean())


def test_bernoulli_scramble_breaks_serial_correlation():
    # x = 2**w / 4, P(bit = 1) = 1/4. Unscrambled, bit_t = 1 means the top two state bits are 0,
    # and the next state's top bit is one of them: P(1 | 1) = 1/2. Scrambled, the comparator's
    # top bits at lags 1..3 come from different state bits: P(1 | 1) = 1/4 over the period.
    width = 16
    period = 2**width - 1
    x = np.full(period, 2**width // 4)
    plain = ng.component("bernoulli", width=width, scramble=False).model().run({"x": x})["bit"]
    mixed = ng.component("bernoulli", width=width).model().run({"x": x})["bit"]
    assert plain.sum() == mixed.sum() == 2**width // 4 - 1
    assert _p_one_after_one(plain[:, 0], 1) > 0.45
    for lag in (1, 2, 3):
        assert abs(_p_one_after_one(mixed[:, 0], lag) - 0.25) < 0.01, lag
