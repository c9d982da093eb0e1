"""FixedFormat: ranges, NumPy and Python overflow policies, and the Amaranth ``fit_value``.

Every overflow result is checked against an independent Python-int reference written here
(``_wrap_ref``/``_sat_ref``), never against another FixedFormat method alone.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from amaranth.hdl import Module, Shape, Signal, signed, unsigned
from amaranth.sim import Simulator

from neurogate.core.fixed import OVERFLOW_POLICIES, FixedFormat


# -- independent references ---------------------------------------------------------------------
def _range_ref(width: int, is_signed: bool) -> tuple[int, int]:
    if is_signed:
        return -(2 ** (width - 1)), 2 ** (width - 1) - 1
    return 0, 2**width - 1


def _wrap_ref(v: int, width: int, is_signed: bool) -> int:
    if is_signed:
        return ((v + 2 ** (width - 1)) % 2**width) - 2 ** (width - 1)
    return v % 2**width


def _sat_ref(v: int, width: int, is_signed: bool) -> int:
    lo, hi = _range_ref(width, is_signed)
    return lo if v < lo else hi if v > hi else v


def _fit_ref(v: int, fmt: FixedFormat) -> int:
    if fmt.overflow == "wrap":
        return _wrap_ref(v, fmt.width, fmt.signed)
    return _sat_ref(v, fmt.width, fmt.signed)


def _exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


def _interesting_ints(rng, lo: int, hi: int, count: int) -> list[int]:
    """Edge values of [lo, hi] and of nearby power-of-two boundaries, plus uniform draws."""
    edges = {lo, hi, lo + 1, hi - 1, 0, 1, -1}
    for k in range(max(abs(lo), abs(hi)).bit_length() + 1):
        edges |= {2**k, 2**k - 1, -(2**k), -(2**k) + 1}
    picked = [v for v in edges if lo <= v <= hi]
    span = hi - lo + 1
    # Python-int uniform draws (spans can exceed 64 bits).
    words = (span.bit_length() + 63) // 64 + 1
    for _ in range(count):
        r = 0
        for w in rng.integers(0, 2**63, size=words, dtype=np.int64).tolist():
            r = (r << 63) | w
        picked.append(lo + r % span)
    return picked


WIDTHS_SAMPLE = (1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 63, 64)


# -- construction and ranges ----------------------------------------------------------------------
@pytest.mark.parametrize("is_signed", [True, False], ids=["signed", "unsigned"])
def test_ranges_every_width(is_signed):
    for width in range(1, 65):
        fmt = FixedFormat(width, 0, is_signed)
        lo, hi = _range_ref(width, is_signed)
        assert (fmt.min, fmt.max) == (lo, hi), width
        assert fmt.shape == (signed(width) if is_signed else unsigned(width))
        assert [fmt.contains(v) for v in (lo - 1, lo, hi, hi + 1)] == [False, True, True, False]
        kind = "signed" if is_signed else "unsigned"
        assert fmt.describe() == f"{kind} {width}-bit [{lo}, {hi}]"


def test_defaults_and_known_values():
    q = FixedFormat(16, fraction=8)
    assert (q.width, q.fraction, q.signed, q.overflow) == (16, 8, True, "saturate")
    assert (q.min, q.max) == (-32768, 32767)
    assert q.describe() == "signed 16-bit [-32768, 32767]"
    assert FixedFormat(8, signed=False).describe() == "unsigned 8-bit [0, 255]"
    assert OVERFLOW_POLICIES == ("saturate", "wrap")


def test_to_float_and_from_float():
    q = FixedFormat(16, fraction=8)
    assert q.to_float(384) == 1.5
    assert q.to_float(-1) == -1 / 256
    assert q.to_float([256, -512]).tolist() == [1.0, -2.0]
    assert q.from_float(1.5) == 384
    # Round half to even on the raw value: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> 0, -1.5 -> -2.
    lsb = 1 / 256
    raws = q.from_float(np.array([0.5, 1.5, 2.5, -0.5, -1.5]) * lsb).tolist()
    assert raws == [0, 2, 2, 0, -2]
    # Then the overflow policy: 200.0 * 256 = 51200 saturates to 32767, or wraps to -14336.
    assert q.from_float(200.0) == 32767
    assert q.from_float(-200.0) == -32768
    assert FixedFormat(16, 8, overflow="wrap").from_float([200.0]).tolist() == [51200 - 65536]


def test_scalar_inputs_wrap():
    """A scalar (0-d) value goes through every policy, as ``from_float``'s docstring promises."""
    wrap = FixedFormat(16, 8, overflow="wrap")
    assert wrap.from_float(200.0) == 51200 - 65536
    assert int(wrap.fit_array(40000)) == 40000 - 65536
    assert int(wrap.fit_array(np.int64(-40000))) == -40000 + 65536
    assert int(FixedFormat(16, 8).fit_array(40000)) == 32767


@pytest.mark.parametrize(
    ("kwargs", "exc", "msg"),
    [
        ({"width": 0}, ValueError, "width must be in 1..64, not 0"),
        ({"width": 65}, ValueError, "width must be in 1..64, not 65"),
        ({"width": True}, TypeError, "width must be an int, not True"),
        ({"width": 8.0}, TypeError, "width must be an int, not 8.0"),
        ({"width": "8"}, TypeError, "width must be an int, not '8'"),
        ({"width": 8, "fraction": -1}, ValueError, "fraction must be in 0..127, not -1"),
        ({"width": 8, "fraction": 128}, ValueError, "fraction must be in 0..127, not 128"),
        ({"width": 8, "fraction": False}, TypeError, "fraction must be an int, not False"),
        ({"width": 8, "fraction": 1.5}, TypeError, "fraction must be an int, not 1.5"),
        (
            {"width": 8, "overflow": "clip"},
            ValueError,
            "overflow must be 'saturate' or 'wrap', not 'clip'",
        ),
        (
            {"width": 8, "overflow": None},
            ValueError,
            "overflow must be 'saturate' or 'wrap', not None",
        ),
    ],
    ids=lambda v: repr(v) if isinstance(v, dict) else None,
)
def test_constructor_errors(kwargs, exc, msg):
    with pytest.raises(exc, match=_exact(msg)):
        FixedFormat(**kwargs)


def test_frozen():
    fmt = FixedFormat(8)
    with pytest.raises(AttributeError):
        fmt.width = 9


def test_check():
    fmt = FixedFormat(8)
    assert fmt.check("p", 127) == 127
    assert fmt.check("p", np.int16(-128)) == -128
    assert type(fmt.check("p", np.int64(5))) is int
    with pytest.raises(ValueError, match=_exact("p must fit signed 8-bit [-128, 127], not 128")):
        fmt.check("p", 128)
    with pytest.raises(ValueError, match=_exact("q must fit unsigned 4-bit [0, 15], not -1")):
        FixedFormat(4, signed=False).check("q", -1)
    for bad in (True, np.bool_(False), 1.0, "1", None):
        with pytest.raises(TypeError, match=_exact(f"p must be an int, not {bad!r}")):
            fmt.check("p", bad)


# -- fit_int / fit_array ---------------------------------------------------------------------------
@pytest.mark.parametrize("overflow", OVERFLOW_POLICIES)
@pytest.mark.parametrize("is_signed", [True, False], ids=["signed", "unsigned"])
def test_fit_int_matches_reference(rng, overflow, is_signed):
    for width in WIDTHS_SAMPLE:
        fmt = FixedFormat(width, 3, is_signed, overflow)
        lo, hi = _range_ref(width, is_signed)
        # Values far outside the range, including beyond 64 bits.
        for v in _interesting_ints(rng, 8 * lo - 2**70, 8 * hi + 2**70, 200):
            assert fmt.fit_int(v) == _fit_ref(v, fmt), (width, v)
        for v in _interesting_ints(rng, 2 * lo - 3, 2 * hi + 3, 200):
            assert fmt.fit_int(v) == _fit_ref(v, fmt), (width, v)


def test_fit_known_values():
    assert FixedFormat(16, 8).fit_array([40000, -5, -40000]).tolist() == [32767, -5, -32768]
    assert FixedFormat(16, 8, overflow="wrap").fit_array([40000]).tolist() == [-25536]
    assert FixedFormat(4, overflow="wrap").fit_int(8) == -8
    assert FixedFormat(4, overflow="wrap").fit_int(-9) == 7
    assert FixedFormat(4, signed=False, overflow="wrap").fit_int(-1) == 15
    assert FixedFormat(4, signed=False).fit_int(-1) == 0


def _int64_stimulus(rng, width: int, is_signed: bool) -> np.ndarray:
    """int64 values: the whole int64 range, near the format's range, and its edges."""
    lo, hi = _range_ref(width, is_signed)
    span_lo, span_hi = max(-(2**63), 4 * lo - 4), min(2**63 - 1, 4 * hi + 4)
    parts = [
        rng.integers(-(2**63), 2**63 - 1, size=300, endpoint=True, dtype=np.int64),
        rng.integers(span_lo, span_hi, size=300, endpoint=True, dtype=np.int64),
        np.array(
            [
                v
                for v in (lo - 1, lo, lo + 1, hi - 1, hi, hi + 1, 0, -1, 1)
                if -(2**63) <= v < 2**63
            ],
            dtype=np.int64,
        ),
    ]
    return np.concatenate(parts)


@pytest.mark.parametrize("overflow", OVERFLOW_POLICIES)
@pytest.mark.parametrize("is_signed", [True, False], ids=["signed", "unsigned"])
def test_fit_array_int64_matches_reference(rng, overflow, is_signed):
    # An int64 input can hold every unsigned result only up to 63 bits.
    widths = range(1, 65) if is_signed else range(1, 64)
    for width in widths:
        fmt = FixedFormat(width, 0, is_signed, overflow)
        raw = _int64_stimulus(rng, width, is_signed)
        before = raw.copy()
        expected = [_fit_ref(v, fmt) for v in raw.tolist()]
        got = fmt.fit_array(raw)
        assert got.shape == raw.shape
        assert got.tolist() == expected, width
        # The input is not modified unless it is also ``out``.
        assert np.array_equal(raw, before)
        # In place.
        buf = raw.copy()
        res = fmt.fit_array(buf, out=buf)
        assert buf.tolist() == expected, width
        assert res is buf


@pytest.mark.parametrize("overflow", OVERFLOW_POLICIES)
@pytest.mark.parametrize("is_signed", [True, False], ids=["signed", "unsigned"])
def test_fit_array_int32_matches_reference(rng, overflow, is_signed):
    for width in range(1, 33 if is_signed else 32):
        fmt = FixedFormat(width, 0, is_signed, overflow)
        raw = rng.integers(-(2**31), 2**31 - 1, size=(20, 7), endpoint=True, dtype=np.int32)
        got = fmt.fit_array(raw)
        expected = [[_fit_ref(v, fmt) for v in row] for row in raw.tolist()]
        assert got.tolist() == expected, width


@pytest.mark.parametrize("overflow", OVERFLOW_POLICIES)
@pytest.mark.parametrize("is_signed", [True, False], ids=["signed", "unsigned"])
def test_fit_array_object_matches_reference(rng, overflow, is_signed):
    """Python-int (object) arrays hold exact results wider than 64 bits."""
    for width in WIDTHS_SAMPLE:
        fmt = FixedFormat(width, 0, is_signed, overflow)
        lo, hi = _range_ref(width, is_signed)
        values = _interesting_ints(rng, 4 * lo - 2**100, 4 * hi + 2**100, 150)
        raw = np.array(values, dtype=object)
        got = fmt.fit_array(raw)
        assert [int(v) for v in got.tolist()] == [_fit_ref(v, fmt) for v in values], width


# -- fit_value in the Amaranth simulator -----------------------------------------------------------
FORMATS = [(w, s) for w in (1, 2, 5, 8, 13, 16, 32) for s in (True, False)]


def _input_shape(kind: str, width: int) -> Shape | None:
    """The shape of the exact value fed to fit_value, relative to the format width."""
    return {
        "wider-signed": signed(width + 3),
        "wider-unsigned": unsigned(width + 3),
        "much-wider-signed": signed(2 * width + 2),
        "same-signed": signed(width),
        "same-unsigned": unsigned(width),
        "narrower-signed": signed(width - 2) if width > 3 else None,
        "narrower-unsigned": unsigned(width - 2) if width > 3 else None,
    }[kind]


INPUT_KINDS = (
    "wider-signed",
    "wider-unsigned",
    "much-wider-signed",
    "same-signed",
    "same-unsigned",
    "narrower-signed",
    "narrower-unsigned",
)


@pytest.mark.parametrize("overflow", OVERFLOW_POLICIES)
@pytest.mark.parametrize("kind", INPUT_KINDS)
def test_fit_value_matches_fit_int_in_simulation(rng, kind, overflow):
    """``fit_value`` of any exact value, simulated, equals ``fit_int`` and the reference.

    The input value's shape may be wider or narrower than the format: it holds the exact
    result either way.
    """
    m = Module()
    probes = []  # (fmt, input signal, output signal, values)
    for width, is_signed in FORMATS:
        shape = _input_shape(kind, width)
        if shape is None:
            continue
        fmt = FixedFormat(width, 2, is_signed, overflow)
        a = Signal(shape, name=f"a_{width}_{int(is_signed)}")
        o = Signal(fmt.shape, name=f"o_{width}_{int(is_signed)}")
        m.d.comb += o.eq(fmt.fit_value(a))
        in_lo = -(2 ** (shape.width - 1)) if shape.signed else 0
        in_hi = 2 ** (shape.width - 1) - 1 if shape.signed else 2**shape.width - 1
        values = _interesting_ints(rng, in_lo, in_hi, 60)
        probes.append((fmt, a, o, values))

    got: list[tuple[FixedFormat, int, int]] = []

    async def testbench(ctx):
        for fmt, a, o, values in probes:
            for v in values:
                ctx.set(a, v)
                got.append((fmt, v, ctx.get(o)))

    sim = Simulator(m)
    sim.add_testbench(testbench)
    sim.run()

    assert len(got) == sum(len(p[3]) for p in probes)
    bad = [
        f"{fmt.describe()} {fmt.overflow}: fit_value({v}) = {out}, expected {_fit_ref(v, fmt)}"
        for fmt, v, out in got
        if out != _fit_ref(v, fmt) or fmt.fit_int(v) != _fit_ref(v, fmt)
    ]
    assert not bad, f"{len(bad)} wrong results, e.g. " + "; ".join(bad[:4])


def _shape_mismatches(kinds) -> list[str]:
    bad = []
    for overflow in OVERFLOW_POLICIES:
        for width, is_signed in FORMATS:
            fmt = FixedFormat(width, 0, is_signed, overflow)
            for kind in kinds:
                shape = _input_shape(kind, width)
                if shape is None:
                    continue
                result = fmt.fit_value(Signal(shape)).shape()
                if result != fmt.shape:
                    bad.append(f"{fmt.describe()} {overflow} from {shape!r}: {result!r}")
    return bad


def test_fit_value_has_format_shape_from_wider_or_same_inputs():
    """The docstring promises: "the result has :attr:`shape`"."""
    bad = _shape_mismatches([k for k in INPUT_KINDS if not k.startswith("narrower")])
    assert not bad, "fit_value shape differs from the format's: " + "; ".join(bad)


def test_fit_value_has_format_shape_from_narrower_inputs():
    """A narrower exact value is still "wide enough"; the result must have :attr:`shape`."""
    bad = _shape_mismatches([k for k in INPUT_KINDS if k.startswith("narrower")])
    assert not bad, f"{len(bad)} shapes differ from the format's, e.g. " + "; ".join(bad[:4])


@pytest.mark.parametrize("overflow", OVERFLOW_POLICIES)
def test_fit_array_unsigned_dtype_into_signed_format(overflow):
    fmt = FixedFormat(4, 0, True, overflow)
    raw = np.arange(256, dtype=np.uint8)
    assert fmt.fit_array(raw).tolist() == [_fit_ref(v, fmt) for v in range(256)]
