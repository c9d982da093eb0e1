"""``ng.sc``: SCC (Alaghi & Hayes 2013), bitstream values and errors, SeedAllocator, scc_report.

The SCC reference below is the published formula evaluated with exact fractions; the known
answers are worked by hand (identical, complementary, nested, disjoint and
independent-by-construction streams, and two fractional cases).
"""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pytest

import neurogate as ng
import neurogate.sc as sc
from neurogate.core.component import Int, Param, Port
from neurogate.plugins.encoders.lfsr import LFSR
from neurogate.sc import SeedAllocator, SeedCollisionError


def _exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


def ref_scc(a, b) -> float:
    """SCC from its definition, with exact fractions."""
    a, b = [int(v) for v in a], [int(v) for v in b]
    n = len(a)
    pa, pb = Fraction(sum(a), n), Fraction(sum(b), n)
    pab = Fraction(sum(x & y for x, y in zip(a, b, strict=True)), n)
    delta = pab - pa * pb
    # The denominator is the largest |delta| possible in delta's direction.
    den = min(pa, pb) - pa * pb if delta > 0 else pa * pb - max(pa + pb - 1, Fraction(0))
    return 0.0 if den == 0 else float(delta / den)


def stream(text: str) -> np.ndarray:
    return np.array([int(c) for c in text.replace(" ", "")])


# -- SCC known answers ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "x", ["1010", "1100 0000", "0111 1111", "1101 0010 1", "1" + "0" * 30 + "1"]
)
def test_identical_streams_have_scc_plus_one_complementary_minus_one(x):
    a = stream(x)
    assert ng.sc.scc(a, a) == 1.0
    assert ng.sc.scc(a, 1 - a) == -1.0


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        # The classic AND-gate pictures: uncorrelated inputs multiply (4/8 * 6/8 = 3/8) ...
        ("0110 1010", "1011 1011", 0.0),
        # ... maximally overlapping ones give min(4/8, 6/8) ...
        ("1111 0000", "1111 1100", 1.0),
        # ... minimally overlapping ones give max(0, 4/8 + 6/8 - 1) = 2/8.
        ("1111 0000", "0011 1111", -1.0),
        ("1100", "1010", 0.0),  # p_ab = 1/4 = 1/2 * 1/2
        ("1000 0000", "1111 0000", 1.0),  # a's ones inside b's
        ("1000 0000", "0111 1111", -1.0),  # no common ones, p_a + p_b = 1
        ("1100 0000", "0011 0000", -1.0),  # no common ones, p_a + p_b < 1
        # p_a = p_b = 3/8, p_ab = 2/8: (16/64 - 9/64) / (24/64 - 9/64) = 7/15
        ("1110 0000", "1101 0000", 7 / 15),
        # p_a = p_b = 3/8, p_ab = 1/8: (8/64 - 9/64) / (9/64 - 0) = -1/9
        ("1110 0000", "1001 1000", -1 / 9),
        # p_a = 6/8, p_b = 4/8, p_ab = 2/8: (16/64 - 24/64) / (24/64 - 16/64) = -1
        ("1111 1100", "0011 0011", -1.0),
    ],
)
def test_known_answers(x, y, expected):
    a, b = stream(x), stream(y)
    assert ref_scc(a, b) == pytest.approx(expected, abs=1e-15)
    assert ng.sc.scc(a, b) == pytest.approx(expected, abs=1e-15)
    assert ng.sc.scc(b, a) == ng.sc.scc(a, b)


def test_constant_streams_have_scc_zero():
    a = stream("0110 1010")
    for const in (np.zeros(8, dtype=int), np.ones(8, dtype=int)):
        assert ng.sc.scc(a, const) == 0.0
        assert ng.sc.scc(const, a) == 0.0
        assert ng.sc.scc(const, const) == 0.0


def test_independent_by_construction_is_exactly_zero(rng):
    # a_t = u[t // len(v)], b_t = v[t % len(v)]: every (u_i, v_j) pair occurs exactly once, so
    # p_ab = p_a p_b exactly, whatever u and v are.
    for _ in range(50):
        u = rng.integers(0, 2, size=int(rng.integers(1, 40)))
        v = rng.integers(0, 2, size=int(rng.integers(1, 40)))
        a, b = np.repeat(u, len(v)), np.tile(v, len(u))
        assert ng.sc.scc(a, b) == 0.0
        assert ng.sc.scc(b, a) == 0.0


def test_matches_the_definition_on_random_streams(rng):
    for _ in range(300):
        n = int(rng.integers(1, 120))
        pa, pb = rng.random(2)
        a = (rng.random(n) < pa).astype(np.int64)
        b = (rng.random(n) < pb).astype(np.int64)
        if rng.random() < 0.3:
            b = a if rng.random() < 0.5 else 1 - a
        got = ng.sc.scc(a, b)
        assert got == ref_scc(a, b)  # exact integer arithmetic, one rounding
        assert -1.0 <= got <= 1.0
        assert ng.sc.scc(a, 1 - b) == -got  # SCC(a, NOT b) = -SCC(a, b)


def test_python_integer_path_for_very_long_streams(monkeypatch, rng):
    a = rng.integers(0, 2, size=(500, 3))
    b = rng.integers(0, 2, size=(500, 3))
    fast = ng.sc.scc(a, b)
    monkeypatch.setattr(sc, "_INT64_MAX_LENGTH", 10)
    np.testing.assert_array_equal(ng.sc.scc(a, b), fast)


# -- vectorisation --------------------------------------------------------------------------------
def test_time_is_axis_0_instances_the_others(rng):
    a = rng.integers(0, 2, size=(64, 5))
    b = rng.integers(0, 2, size=(64, 5))
    got = ng.sc.scc(a, b)
    assert got.shape == (5,)
    assert got.tolist() == [ref_scc(a[:, i], b[:, i]) for i in range(5)]
    # The same with time last.
    np.testing.assert_array_equal(ng.sc.scc(a.T, b.T, axis=-1), got)
    np.testing.assert_array_equal(ng.sc.scc(a.T, b.T, axis=1), got)
    # Broadcasting: one stream against many.
    one = ng.sc.scc(a[:, :1], b)
    assert one.tolist() == [ref_scc(a[:, 0], b[:, i]) for i in range(5)]
    # Several instance axes.
    c = rng.integers(0, 2, size=(64, 2, 3))
    d = rng.integers(0, 2, size=(64, 2, 3))
    got = ng.sc.scc(c, d)
    assert got.shape == (2, 3)
    assert got[1, 2] == ref_scc(c[:, 1, 2], d[:, 1, 2])


def test_one_dimensional_streams_give_a_scalar():
    got = ng.sc.scc([1, 0, 1, 0], [True, True, False, False])
    assert isinstance(got, np.float64)
    assert np.ndim(got) == 0


def test_scc_of_model_outputs():
    enc = ng.component("lfsr", width=8)
    x = enc.model(2).run({"x": np.broadcast_to([64, 200], (255, 2))})["bit"]
    y = enc.model(2).run({"x": np.broadcast_to([128, 30], (255, 2))})["bit"]
    # One generator: every pair of its comparator streams is nested, SCC = +1.
    np.testing.assert_array_equal(ng.sc.scc(x, y), [1.0, 1.0])


# -- errors ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b", "kwargs", "exc", "msg"),
    [
        ([1, 0, 1], [1, 0], {}, ValueError, "scc: a and b must have the same length, not 3 and 2"),
        (np.zeros((8, 2), int), np.zeros((7, 2), int), {}, ValueError,
         "scc: a and b must have the same length, not 8 and 7"),
        (np.zeros((2, 8), int), np.zeros((2, 9), int), {"axis": -1}, ValueError,
         "scc: a and b must have the same length, not 8 and 9"),
        ([1, 2, 0], [1, 0, 1], {}, ValueError, "scc: a must hold only 0s and 1s, not 2"),
        ([1, 0, 1], [1, -1, 0], {}, ValueError, "scc: b must hold only 0s and 1s, not -1"),
        ([1, 0], [0.0, 1.0], {}, TypeError,
         "scc: b must be an integer or bool array, not dtype float64"),
        ([], [], {}, TypeError, "scc: a must be an integer or bool array, not dtype float64"),
        (np.array([], dtype=int), np.array([], dtype=int), {}, ValueError,
         "scc: a must be a non-empty bitstream, not length 0"),
        (1, [1], {}, ValueError,
         "scc: a must be a bitstream (an array with a time axis), not 1"),
        (np.zeros((8, 2), int), np.zeros((8, 3), int), {}, ValueError,
         "scc: the instance axes of a and b must broadcast, not shapes (8, 2) and (8, 3)"),
    ],
)  # fmt: skip
def test_scc_errors(a, b, kwargs, exc, msg):
    with pytest.raises(exc, match=_exact(msg)):
        ng.sc.scc(a, b, **kwargs)


# -- values and errors ----------------------------------------------------------------------------
def test_values():
    x = stream("0111")
    assert ng.sc.value(x) == 0.75
    assert ng.sc.bipolar_value(x) == 0.5
    assert ng.sc.value(x.astype(bool)) == 0.75
    assert ng.sc.bipolar_value(np.zeros(4, dtype=int)) == -1.0
    assert ng.sc.bipolar_value(np.ones(4, dtype=int)) == 1.0
    two = np.array([[0, 1], [1, 1], [0, 1], [0, 0]])  # (T, n)
    assert ng.sc.value(two).tolist() == [0.25, 0.75]
    assert ng.sc.value(two.T, axis=1).tolist() == [0.25, 0.75]
    assert ng.sc.bipolar_value(two).tolist() == [-0.5, 0.5]


def test_errors_of_estimates():
    two = np.array([[0, 1], [1, 1], [0, 1], [0, 0]])  # values 0.25, 0.75
    assert ng.sc.error(two, [0.5, 0.5]).tolist() == [-0.25, 0.25]
    assert ng.sc.error(two, 0.25).tolist() == [0.0, 0.5]
    assert ng.sc.error(two, [0.0, 0.0], bipolar=True).tolist() == [-0.5, 0.5]
    assert ng.sc.mae(two, [0.5, 0.5]) == 0.25
    assert ng.sc.mae(two, 0.25) == 0.25
    assert ng.sc.rmse(two, 0.25) == pytest.approx(np.sqrt(0.125))
    assert ng.sc.rmse(two, [0.0, 0.0], bipolar=True) == 0.5


@pytest.mark.parametrize(
    ("func", "bits", "exc", "msg"),
    [
        (ng.sc.value, [0, 3], ValueError, "value: bits must hold only 0s and 1s, not 3"),
        (ng.sc.bipolar_value, [0.5], TypeError,
         "bipolar_value: bits must be an integer or bool array, not dtype float64"),
        (ng.sc.value, np.zeros(0, int), ValueError,
         "value: bits must be a non-empty bitstream, not length 0"),
    ],
)  # fmt: skip
def test_value_errors(func, bits, exc, msg):
    with pytest.raises(exc, match=_exact(msg)):
        func(bits)


def test_error_checks_its_bits():
    with pytest.raises(ValueError, match=_exact("error: bits must hold only 0s and 1s, not 2")):
        ng.sc.error([2], 0.5)


# -- SeedAllocator ---------------------------------------------------------------------------------
def lfsr_seeds(indices, width=16):
    return [LFSR(width=width).allocate_seed(i).seed for i in indices]


def test_allocations_are_distinct_and_in_order():
    alloc = SeedAllocator()
    for i in range(5):
        alloc.add(f"enc{i}", ng.component("lfsr"))
    comps = alloc.components
    assert list(comps) == [f"enc{i}" for i in range(5)]
    assert [c.seed for c in comps.values()] == lfsr_seeds(range(5))
    assert len({c.sequence_key() for c in comps.values()}) == 5
    assert alloc.allocations == {f"enc{i}": i for i in range(5)}
    assert len(alloc) == 5
    assert "enc3" in alloc
    assert "enc9" not in alloc


def test_thousand_lfsr_allocations_have_distinct_keys():
    alloc = SeedAllocator()
    for i in range(1000):
        alloc.add(f"enc{i}", ng.component("lfsr"))
    keys = [c.sequence_key() for c in alloc.components.values()]
    assert len(set(keys)) == 1000


def test_pinned_seeds_are_kept_and_avoided():
    taken = lfsr_seeds([1])[0]
    for pinned_first in (True, False):
        alloc = SeedAllocator()
        if pinned_first:
            alloc.add("mine", ng.component("lfsr", seed=taken), pin=True)
        for i in range(3):
            alloc.add(f"enc{i}", ng.component("lfsr"))
        if not pinned_first:
            alloc.add("mine", ng.component("lfsr", seed=taken), pin=True)
        comps = alloc.components
        assert comps["mine"] == ng.component("lfsr", seed=taken)
        # Allocation 1 is the pinned seed, so the others take 0, 2 and 3, wherever it was added.
        assert [comps[f"enc{i}"].seed for i in range(3)] == lfsr_seeds([0, 2, 3])
        assert alloc.allocations["mine"] is None


def test_pinned_collision_names_both():
    alloc = SeedAllocator()
    alloc.add("enc0", ng.component("lfsr"), pin=True)
    alloc.add("other", ng.component("lfsr", seed=5), pin=True)
    msg = (
        "enc1 would produce the same sequence as enc0: lfsr width=16 taps=(16, 14, 13, 11) "
        "seed=0xace1 (add it with share=True if that is intended)"
    )
    with pytest.raises(SeedCollisionError, match=_exact(msg)) as info:
        alloc.add("enc1", ng.component("lfsr"), pin=True)
    assert isinstance(info.value, ValueError)
    assert (info.value.name, info.value.other) == ("enc1", "enc0")
    assert info.value.key == ng.component("lfsr").sequence_key()
    assert "enc1" not in alloc  # the failed add changed nothing
    assert list(alloc.components) == ["enc0", "other"]


def test_collision_across_component_kinds():
    # A shuffle buffer whose LFSR is an lfsr encoder's: the same sequence.
    alloc = SeedAllocator()
    alloc.add("enc", ng.component("lfsr", width=12, seed=77), pin=True)
    msg = (
        "buf would produce the same sequence as enc: lfsr width=12 taps=(12, 6, 4, 1) "
        "seed=0x4d (add it with share=True if that is intended)"
    )
    with pytest.raises(SeedCollisionError, match=_exact(msg)):
        alloc.add("buf", ng.component("shuffle", lfsr_width=12, seed=77), pin=True)


def test_share_allows_an_intended_collision():
    alloc = SeedAllocator()
    alloc.add("x", ng.component("lfsr"), pin=True)
    alloc.add("y", ng.component("lfsr"), share=True)
    alloc.add("z", ng.component("lfsr"))
    comps = alloc.components
    assert comps["x"] == comps["y"] == ng.component("lfsr")
    assert comps["z"].seed == lfsr_seeds([1])[0]  # avoids the shared sequence
    assert alloc.allocations == {"x": None, "y": None, "z": 1}
    # share=True keeps the seed even when nothing else uses it.
    alloc.add("w", ng.component("lfsr", seed=9), share=True)
    assert alloc.components["w"].seed == 9


def test_components_without_random_source_pass_through():
    alloc = SeedAllocator()
    lif, iso = ng.component("lif"), ng.component("isolator", delay=4)
    alloc.add("neuron", lif)
    alloc.add("iso", iso, pin=True)
    alloc.add("enc", ng.component("lfsr"))
    assert alloc.components["neuron"] is lif
    assert alloc.components["iso"] is iso
    assert alloc.allocations == {"neuron": None, "iso": None, "enc": 0}


def test_families_share_a_counter():
    # Every 16-bit LFSR user draws from one counter; an 8-bit LFSR from its own.
    alloc = SeedAllocator()
    alloc.add("enc", ng.component("lfsr"))
    alloc.add("buf", ng.component("shuffle"))
    alloc.add("small", ng.component("lfsr", width=8))
    alloc.add("regen", ng.component("regen", width=8))
    alloc.add("mix", ng.component("rescramble"))
    assert alloc.allocations == {"enc": 0, "buf": 1, "small": 0, "regen": 1, "mix": 2}
    comps = alloc.components
    assert comps["regen"].seed == lfsr_seeds([1], width=8)[0]
    assert comps["mix"].seed == lfsr_seeds([2])[0]


def test_every_registered_random_source_gets_distinct_sequences():
    alloc = SeedAllocator()
    for name, cls in ng.components().items():
        if cls().sequence_key() is None:
            continue
        for i in range(3):
            alloc.add(f"{name}{i}", cls())
    keys = [c.sequence_key() for c in alloc.components.values()]
    assert len(keys) >= 3 * 5
    assert len(set(keys)) == len(keys)


def test_adding_after_reading_reallocates():
    alloc = SeedAllocator()
    alloc.add("a", ng.component("lfsr"))
    assert alloc.components["a"].seed == 0xACE1
    alloc.add("p", ng.component("lfsr"), pin=True)  # the default seed, now reserved
    assert alloc.components["a"].seed == lfsr_seeds([1])[0]


class Stubborn(ng.Component):
    """A broken random source: every allocation is the same sequence."""

    name = "stubborn"
    kind = "encoder"
    width = Param(4, Int(1, 8), "bits")

    @property
    def ports(self):
        return {"bit": Port("out", 1)}

    def sequence_key(self):
        return ("stubborn", self.width)

    def allocate_seed(self, index):
        return self


def test_broken_allocate_seed_is_reported():
    alloc = SeedAllocator()
    alloc.add("s0", Stubborn())
    alloc.add("s1", Stubborn())
    msg = (
        "s1: stubborn.allocate_seed gave 2 sequences in a row that other sources use; "
        "its allocations must differ pairwise"
    )
    with pytest.raises(RuntimeError, match=_exact(msg)):
        dict(alloc.components)


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "msg"),
    [
        ((3, None), {}, TypeError, "SeedAllocator.add: name must be a non-empty str, not 3"),
        (("", None), {}, TypeError, "SeedAllocator.add: name must be a non-empty str, not ''"),
        (("x", "lfsr"), {}, TypeError,
         "SeedAllocator.add: component must be a neurogate Component, not 'lfsr'"),
        (("x", LFSR()), {"pin": 1}, TypeError, "SeedAllocator.add: pin must be a bool, not 1"),
        (("x", LFSR()), {"share": "yes"}, TypeError,
         "SeedAllocator.add: share must be a bool, not 'yes'"),
        (("enc0", LFSR()), {}, ValueError,
         "SeedAllocator.add: a source named 'enc0' was already added"),
    ],
)  # fmt: skip
def test_add_errors(args, kwargs, exc, msg):
    alloc = SeedAllocator()
    alloc.add("enc0", LFSR())
    with pytest.raises(exc, match=_exact(msg)):
        alloc.add(*args, **kwargs)


def test_describe_sequence():
    assert sc.describe_sequence(("lfsr", 16, (16, 14, 13, 11), 0xACE1)) == (
        "lfsr width=16 taps=(16, 14, 13, 11) seed=0xace1"
    )
    assert sc.describe_sequence(("radical-inverse", 3, 16, 10, 0)) == "radical-inverse 3 16 10 0"
    assert sc.describe_sequence(42) == "42"


# -- scc_report ------------------------------------------------------------------------------------
def test_scc_report_rows_and_table():
    x, y, z = stream("1100"), stream("1010"), stream("0011")
    report = ng.sc.scc_report(
        {"x": x, "y": y, "z": z},
        {"mul": ("x", "y"), "mux": ("x", "y", "z"), "square": ("x", "x"), "buf": ("z",)},
    )
    assert [tuple(r) for r in report] == [
        ("mul", "x", "y", 0.0),
        ("mux", "x", "y", 0.0),
        ("mux", "x", "z", -1.0),
        ("mux", "y", "z", 0.0),
        ("square", "x", "x", 1.0),
    ]
    assert len(report) == 5
    assert report.rows[2].scc == ng.sc.scc(x, z)
    assert [(r.gate, r.a, r.b) for r in report.flagged] == [("mux", "x", "z"), ("square", "x", "x")]
    assert (
        str(report)
        == report.format()
        == "\n".join(
            [
                "gate    a  b     scc",
                "------  -  -  ------",
                "mul     x  y  +0.000",
                "mux     x  y  +0.000",
                "mux     x  z  -1.000  |scc| > 0.1",
                "mux     y  z  +0.000",
                "square  x  x  +1.000  |scc| > 0.1",
            ]
        )
    )
    assert repr(report) == "<SCCReport: 5 pairs, 2 flagged>"


def test_scc_report_threshold_and_instances(rng):
    a = rng.integers(0, 2, size=(256, 4))
    b = a.copy()
    b[:, :3] = rng.integers(0, 2, size=(256, 3))  # instance 3 is a copy: SCC +1
    report = ng.sc.scc_report({"a": a, "b": b}, {"g": ["a", "b"]}, threshold=0.5)
    (row,) = report.rows
    assert row.scc == 1.0  # the instance of largest |SCC|
    assert report.threshold == 0.5
    assert report.flagged == [row]
    low = ng.sc.scc_report({"a": a[:, :3], "b": b[:, :3]}, {"g": ["a", "b"]}, threshold=0.5)
    per = ng.sc.scc(a[:, :3], b[:, :3])
    assert low.rows[0].scc == per[np.argmax(np.abs(per))]
    assert low.flagged == []
    # Time along another axis.
    t = ng.sc.scc_report({"a": a.T, "b": b.T}, {"g": ["a", "b"]}, axis=1)
    assert t.rows == report.rows


def test_scc_report_without_pairs():
    report = ng.sc.scc_report({"x": [1, 0]}, {"buf": ["x"]})
    assert report.rows == []
    assert str(report).splitlines()[-1] == "(no two streams meet in a gate)"


@pytest.mark.parametrize(
    ("gates", "exc", "msg"),
    [
        ({"g": ("x", "w")}, ValueError,
         "scc_report: gate 'g' reads stream 'w', which is not in streams"),
        ({"g": "xy"}, TypeError,
         "scc_report: the inputs of gate 'g' must be a sequence of stream names, not 'xy'"),
        ({"g": 3}, TypeError,
         "scc_report: the inputs of gate 'g' must be a sequence of stream names, not 3"),
    ],
)  # fmt: skip
def test_scc_report_errors(gates, exc, msg):
    with pytest.raises(exc, match=_exact(msg)):
        ng.sc.scc_report({"x": [1, 0], "y": [0, 1]}, gates)


def test_scc_report_length_mismatch_names_lengths():
    msg = "scc: a and b must have the same length, not 2 and 3"
    with pytest.raises(ValueError, match=_exact(msg)):
        ng.sc.scc_report({"x": [1, 0], "y": [0, 1, 1]}, {"g": ("x", "y")})
