"""``dense`` synapses: model against a plain-Python reference, gateware against the model."""

from __future__ import annotations

import re

import numpy as np
import pytest
from amaranth.hdl import ClockDomain, Module
from amaranth.sim import Simulator

import neurogate as ng
from neurogate.core.component import bits_for
from neurogate.sim.backends import reset


def exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


def reference_step(weights, events, weight_bits, max_events, acc_bits, overflow):
    """One step from the docstring, in Python ints: exact sums in sum_width bits, then readout."""
    n_in, n_out = len(weights), len(weights[0])
    width = weight_bits + (max_events - 1).bit_length()
    out = []
    for j in range(n_out):
        total = sum(weights[i][j] for i in events if i < n_in)
        total &= (1 << width) - 1  # the accumulator keeps width bits, two's complement
        if total >= 1 << (width - 1):
            total -= 1 << width
        if acc_bits < width:
            lo, hi = -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1
            if overflow == "saturate":
                total = min(hi, max(lo, total))
            else:
                total &= (1 << acc_bits) - 1
                if total > hi:
                    total -= 1 << acc_bits
        out.append(total)
    return out


def random_weights(rng, n_in, n_out, weight_bits):
    lo, hi = -(1 << (weight_bits - 1)), (1 << (weight_bits - 1)) - 1
    w = rng.integers(lo, hi + 1, size=(n_in, n_out))
    # the extremes, often
    corners = rng.random((n_in, n_out))
    w[corners < 0.15] = lo
    w[corners > 0.85] = hi
    return w


# -- parameters -----------------------------------------------------------------------------------
def test_sizes_and_defaults():
    syn = ng.component("dense", weights=np.zeros((300, 37), dtype=np.int8))
    assert (syn.n_in, syn.n_out, syn.weight_bits, syn.acc_bits) == (300, 37, 8, 16)
    assert (syn.max_events, syn.lanes, syn.words_per_row) == (300, 2, 19)
    assert syn.sum_width == 8 + 9  # 300 events of 8-bit weights: |sum| <= 300 * 128 < 2**16
    assert syn.in_addr_width == 9
    assert syn.flush_cycles == 37 + 6
    ports = syn.ports
    assert ports["aer"].width == 9
    assert (ports["w_addr"].width, ports["w_data"].width) == (bits_for(300 * 19 - 1), 16)
    assert (ports["out_addr"].width, ports["out_data"].width, ports["out_data"].signed) == (
        6,
        16,
        True,
    )
    assert ng.component("dense", weights=[[1]], weight_bits=16).lanes == 1
    assert ng.component("dense", weights=np.zeros((2, 9), int), weight_bits=5).lanes == 3
    assert ng.component("dense", weights=np.zeros((2, 3), int), weight_bits=2).lanes == 3
    empty = ng.component("dense")
    assert (empty.n_in, empty.n_out, empty.weights) == (1, 1, None)
    zeros = ng.component("dense", n_in=3, n_out=4)
    assert zeros.weight_matrix().tolist() == [[0] * 4] * 3
    assert ng.component("dense", weights=[[1, 2]], max_events=5).sum_width == 8 + 3


def test_equal_hashable_and_short_repr():
    a = ng.component("dense", weights=[[1, 2], [3, 4]])
    b = ng.component("dense", weights=np.array([[1, 2], [3, 4]], dtype=np.int16))
    c = ng.component("dense", weights=[[1, 2], [3, 5]])
    assert a == b
    assert hash(a) == hash(b)
    assert a != c
    assert len({a, b, c}) == 2
    assert repr(a).startswith("dense(weights=IntArray(2x2, blake2b ")
    assert a.replace(acc_bits=9).weights == a.weights
    w = np.array([[1, 2]])
    syn = ng.component("dense", weights=w)
    w[0, 0] = 99  # the component took a copy
    assert syn.weight_matrix().tolist() == [[1, 2]]
    with pytest.raises(ValueError, match="read-only"):
        syn.weights.array[0, 0] = 5


@pytest.mark.parametrize(
    ("params", "exc", "msg"),
    [
        (
            {"weights": [[1, 2], [3, 128]]},
            ValueError,
            "dense.weights must fit signed 8-bit [-128, 127], not 128 at (i, j) = (1, 1)",
        ),
        (
            {"weights": [[0, -3, 2]], "weight_bits": 2},
            ValueError,
            "dense.weights must fit signed 2-bit [-2, 1], not -3 at (i, j) = (0, 1)",
        ),
        (
            {"weights": [[1, 0]], "weight_bits": 1},
            ValueError,
            "dense.weights must fit signed 1-bit [-1, 0], not 1 at (i, j) = (0, 0)",
        ),
        (
            {"weights": [[1.0, 2.0]]},
            TypeError,
            "dense.weights must be None or an integer array, not dtype float64",
        ),
        (
            {"weights": [1, 2, 3]},
            ValueError,
            "dense.weights must be None or a 2-D array (n_in, n_out), not shape (3,)",
        ),
        (
            {"weights": np.zeros((0, 3), int)},
            ValueError,
            "dense.weights must have 1..65536 n_in (shape (0, 3)), not 0",
        ),
        (
            {"weights": np.zeros((2, 3), int), "n_out": 4},
            ValueError,
            "dense.weights must have shape (n_in, n_out) = (2, 4), not (2, 3)",
        ),
        (
            {"weights": np.zeros((2, 3), int), "lanes": 4},
            ValueError,
            "dense.lanes must be an int in 1..n_out = 3, not 4",
        ),
        ({"weight_bits": 17}, ValueError, "dense.weight_bits must be an int in 1..16, not 17"),
        ({"acc_bits": 0}, ValueError, "dense.acc_bits must be an int in 1..32, not 0"),
        (
            {"overflow": "clip"},
            ValueError,
            "dense.overflow must be one of 'saturate', 'wrap', not 'clip'",
        ),
        (
            {"max_events": 0},
            ValueError,
            "dense.max_events must be None or an int in 1..16777216, not 0",
        ),
        ({"n_in": 65537}, ValueError, "dense.n_in must be None or an int in 1..65536, not 65537"),
        ({"strict": 1}, TypeError, "dense.strict must be a bool, not 1"),
    ],
)
def test_parameter_errors(params, exc, msg):
    with pytest.raises(exc, match=exact(msg)):
        ng.component("dense", **params)


def test_clip_with_a_warning_when_not_strict():
    msg = (
        "dense.weights: 3 value(s) outside signed 4-bit [-8, 7] clipped "
        "(the first: 9 at (i, j) = (0, 2))"
    )
    with pytest.warns(UserWarning, match=exact(msg)):
        syn = ng.component("dense", weights=[[1, 2, 9], [-9, 0, 100]], weight_bits=4, strict=False)
    assert syn.weight_matrix().tolist() == [[1, 2, 7], [-8, 0, 7]]


def test_pack_and_unpack_words():
    syn = ng.component("dense", weights=np.zeros((2, 5), int), weight_bits=5)  # 3 lanes
    assert syn.pack_word([1, -1, -16]) == 1 | (31 << 5) | (16 << 10)
    assert syn.unpack_word(1 | (31 << 5) | (16 << 10)) == [1, -1, -16]
    assert syn.pack_word([3]) == 3
    msg = "dense weight (lane 1) must fit signed 5-bit [-16, 15], not 16"
    with pytest.raises(ValueError, match=exact(msg)):
        syn.pack_word([0, 16])
    with pytest.raises(ValueError, match=exact("dense word holds 3 weights, not 4")):
        syn.pack_word([0, 0, 0, 0])
    w = np.arange(10).reshape(2, 5) - 5
    words = syn.replace(weights=w).packed_words()
    assert len(words) == 2 * 2
    assert [syn.unpack_word(x) for x in words] == [[-5, -4, -3], [-2, -1, 0], [0, 1, 2], [3, 4, 0]]


# -- model ----------------------------------------------------------------------------------------
def test_model_known_answers():
    # Worked by hand: 8-bit readout of the rows [1, -2, 3] and [100, 100, -100].
    w = [[1, -2, 3], [100, 100, -100]]
    sat = ng.component("dense", weights=w, acc_bits=8).model()
    assert sat.step([1, 1]).tolist() == [101, 98, -97]
    assert sat.step([0, 2]).tolist() == [127, 127, -128]  # 200, 200, -200 saturate
    assert sat.step([0, 0]).tolist() == [0, 0, 0]
    assert not sat.overrun  # max_events is n_in = 2: two events are fine
    wrap = ng.component("dense", weights=w, acc_bits=8, overflow="wrap").model()
    assert wrap.step([0, 2]).tolist() == [-56, -56, 56]  # 200 - 256, -200 + 256
    assert wrap.step_events([1, 0, 1]).tolist() == [-55, -58, 59]  # 201, 198, -197
    assert wrap.overrun  # three events, max_events 2
    # sum_width = 8 + 1 = 9 bits; 3 x 100 = 300 leaves it and wraps to 300 - 512 = -212, which
    # the 16-bit readout passes through unchanged.
    wide = ng.component("dense", weights=w, acc_bits=16).model()
    assert wide.step_events([1, 1, 1]).tolist() == [-212, -212, 212]
    assert wide.overrun


def test_model_extreme_weights_by_hand():
    # 1-bit weights are -1 or 0; 16-bit weights reach -32768 and 32767.
    one = ng.component("dense", weights=[[-1, 0], [-1, -1], [0, -1]], weight_bits=1, acc_bits=2)
    assert one.sum_width == 3
    assert one.model().step([1, 1, 1]).tolist() == [-2, -2]
    column = ng.component("dense", weights=[[-1], [-1], [-1]], weight_bits=1, acc_bits=2)
    assert column.model().step([1, 1, 1]).tolist() == [-2]  # -3 saturates to the 2-bit minimum
    big = [[-32768, 32767], [-32768, 32767], [-32768, 32767]]
    syn = ng.component("dense", weights=big, weight_bits=16, acc_bits=32)
    assert syn.sum_width == 18
    assert syn.model().step([1, 1, 1]).tolist() == [-98304, 98301]
    syn16 = syn.replace(acc_bits=16)
    assert syn16.model().step([1, 1, 0]).tolist() == [-32768, 32767]
    assert syn16.replace(overflow="wrap").model().step([1, 1, 0]).tolist() == [0, -2]


@pytest.mark.parametrize(
    ("n_in", "n_out", "weight_bits", "acc_bits", "overflow", "max_events"),
    [
        (1, 1, 8, 16, "saturate", None),
        (7, 3, 4, 5, "saturate", None),
        (7, 3, 4, 5, "wrap", None),
        (13, 29, 16, 17, "saturate", 3),
        (5, 1, 1, 1, "saturate", 2),
        (40, 9, 8, 8, "wrap", 6),
    ],
)
def test_model_matches_reference(rng, n_in, n_out, weight_bits, acc_bits, overflow, max_events):
    w = random_weights(rng, n_in, n_out, weight_bits)
    syn = ng.component(
        "dense",
        weights=w,
        weight_bits=weight_bits,
        acc_bits=acc_bits,
        overflow=overflow,
        max_events=max_events,
    )
    model = syn.model()
    wl = w.tolist()
    for _ in range(20):
        events = rng.integers(0, n_in, size=int(rng.integers(0, 2 * n_in + 1))).tolist()
        expected = reference_step(wl, events, weight_bits, syn.max_events, acc_bits, overflow)
        assert model.step_events(events).tolist() == expected
    assert model.overrun == (syn.max_events < 2 * n_in)  # some step had too many events (seeded)


def test_run_equals_steps_in_every_arithmetic(rng):
    # float32 (small bound), float64 (bound >= 2**24) and int64 (bound >= 2**53) paths.
    w = random_weights(rng, 30, 11, 16)
    syn = ng.component("dense", weights=w, weight_bits=16, acc_bits=20)
    for high in (2, 2000, 1 << 40):
        spikes = rng.integers(0, high, size=(6, 30)) * (rng.random((6, 30)) < 0.5)
        model = syn.model()
        batch = model.run(spikes)
        step = syn.model()
        assert batch.tolist() == [step.step(row).tolist() for row in spikes]
        exact_sums = [[sum(int(c) * int(x) for c, x in zip(row, col, strict=True)) for col in w.T]
                      for row in spikes]  # fmt: skip
        width = syn.sum_width
        wrapped = [[((s + (1 << (width - 1))) % (1 << width)) - (1 << (width - 1)) for s in r]
                   for r in exact_sums]  # fmt: skip
        assert batch.tolist() == [[min(2**19 - 1, max(-(2**19), s)) for s in r] for r in wrapped]
    assert model.overrun


@pytest.mark.parametrize("weight_bits", [8, 16])
def test_run_gathers_rows_when_the_input_is_sparse(rng, weight_bits):
    # A wide layer and few events: run adds the selected rows step by step (the narrow int8 /
    # int16 copy of the weights), not a matrix product; both must equal step and the reference.
    w = random_weights(rng, 400, 300, weight_bits)
    syn = ng.component("dense", weights=w, weight_bits=weight_bits, acc_bits=weight_bits + 2)
    spikes = (rng.random((10, 400)) < 0.01).astype(np.uint8)
    spikes[3] = 0  # a step without events
    spikes[4, :5] = 3  # repeated events
    model = syn.model()
    batch = model.run(spikes)
    assert "float32" not in model._cache  # the gather path ran
    stepper = syn.model()
    assert batch.tolist() == [stepper.step(row).tolist() for row in spikes]
    wl = w.tolist()
    for t in (0, 4):
        events = [i for i in range(400) for _ in range(int(spikes[t, i]))]
        assert batch[t].tolist() == reference_step(
            wl, events, weight_bits, 400, weight_bits + 2, "saturate"
        )


def test_model_write_word_and_reset():
    syn = ng.component("dense", weights=[[1, 2, 3], [4, 5, 6]], weight_bits=8)  # 2 lanes
    model = syn.model()
    model.write_word(3, syn.pack_word([-7, 99]))  # row 1, word 1: column 2 (lane 1 is padding)
    assert model.weights.tolist() == [[1, 2, 3], [4, 5, -7]]
    assert model.step([0, 1]).tolist() == [4, 5, -7]
    model.reset()
    assert model.weights.tolist() == [[1, 2, 3], [4, 5, 6]]
    msg = "dense weight word address must be in 0..3, not 4"
    with pytest.raises(ValueError, match=exact(msg)):
        model.write_word(4, 0)


def test_model_input_errors():
    model = ng.component("dense", weights=np.zeros((3, 2), int)).model()
    with pytest.raises(ValueError, match=exact("dense spikes must have shape (3,), not (2, 3)")):
        model.step(np.zeros((2, 3), int))
    msg = "dense spikes must have 3 source(s) on the last axis, not shape (4,)"
    with pytest.raises(ValueError, match=exact(msg)):
        model.step([0, 0, 0, 1])
    with pytest.raises(ValueError, match=exact("dense spikes must count events (>= 0), not -1")):
        model.step([0, -1, 0])
    with pytest.raises(
        TypeError, match=exact("dense spikes must be an integer array, not dtype float64")
    ):
        model.run(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=exact("dense spikes must have shape (T, 3), not (3,)")):
        model.run([0, 0, 1])
    msg = "dense event address must fit unsigned 2-bit, not 4"
    with pytest.raises(ValueError, match=exact(msg)):
        model.step_events([0, 4])
    assert model.step_events([3, 3]).tolist() == [0, 0]  # 3 >= n_in: dropped, flagged
    assert model.bad_addr
    msg = "dense models one layer: n must be 1, not 2"
    with pytest.raises(ValueError, match=exact(msg)):
        ng.component("dense").model(2)
    assert model.step(np.array([True, False, True])).tolist() == [0, 0]


# -- gateware -------------------------------------------------------------------------------------
def simulate(syn, steps, rng, *, p_valid=0.7, writes=None, poke_busy=False, model=None):
    """Run the gateware for ``steps`` (a list of event lists) and check it against the model.

    Events are offered with random gaps (valid high with probability ``p_valid``); the flush is
    strobed after the last event, sometimes in the cycle that transfers it. Every readout must
    equal ``model.step_events(events)``, in target order, and the flags the model's. ``writes``
    maps a step to ``[(addr, word), ...]`` weight (or connection) writes before it. With
    ``poke_busy``, ``w_we`` is pulsed with random words while busy, and ``flush`` too during a
    flush (all ignored). Returns
    ``(cycles from the flush strobe to done, cycles from the first to the last transfer)`` of
    each step.
    """
    dut = syn.create()
    top = Module()
    top.domains.sync = domain = ClockDomain("sync")
    top.submodules.dut = dut
    model = model or syn.model()
    writes = writes or {}
    outputs = []
    flush_cycles, event_cycles = [], []
    max_addr = (1 << syn.in_addr_width) - 1
    w_addr_top = 1 << syn.ports["w_addr"].width
    w_data_top = 1 << syn.ports["w_data"].width
    write = model.write_word if hasattr(model, "write_word") else model.write_connection

    async def monitor(ctx):
        async for *_, we, addr, value in ctx.tick().sample(dut.out_we, dut.out_addr, dut.out_data):
            if we:
                outputs.append((addr, value))

    def poke(ctx, flush=True):
        """Pulse w_we (and flush, during a flush) with random values: all ignored while busy."""
        ctx.set(dut.flush, int(rng.integers(2)) if flush else 0)
        ctx.set(dut.w_addr, int(rng.integers(w_addr_top)))
        ctx.set(dut.w_data, int(rng.integers(w_data_top)))
        ctx.set(dut.w_we, int(rng.integers(2)))

    def unpoke(ctx):
        ctx.set(dut.flush, 0)
        ctx.set(dut.w_we, 0)

    async def bench(ctx):
        await reset(ctx, domain)
        for t, events in enumerate(steps):
            for addr, word in writes.get(t, ()):
                ctx.set(dut.w_addr, addr)
                ctx.set(dut.w_data, word)
                ctx.set(dut.w_we, 1)
                await ctx.tick()
                write(addr, word)
            ctx.set(dut.w_we, 0)
            expected = model.step_events(events).tolist()
            flushed = False
            first = last = None
            cycle = 0
            for e, addr in enumerate(events):
                while rng.random() >= p_valid:  # a gap
                    ctx.set(dut.aer.valid, 0)
                    ctx.set(dut.aer.payload.addr, int(rng.integers(max_addr + 1)))
                    if poke_busy and ctx.get(dut.busy):
                        poke(ctx, flush=False)
                    await ctx.tick()
                    unpoke(ctx)
                    cycle += 1
                ctx.set(dut.aer.valid, 1)
                ctx.set(dut.aer.payload.addr, addr)
                while True:
                    ready = ctx.get(dut.aer.ready)
                    if ready and e == len(events) - 1 and rng.random() < 0.5:
                        ctx.set(dut.flush, 1)  # strobed in the cycle of the last transfer
                        flushed = True
                    elif poke_busy and ctx.get(dut.busy):
                        poke(ctx, flush=False)
                    await ctx.tick()
                    unpoke(ctx)
                    cycle += 1
                    if ready:
                        first = cycle if first is None else first
                        last = cycle
                        break
            ctx.set(dut.aer.valid, 0)
            event_cycles.append(None if first is None else last - first)
            start = len(outputs)
            count = 1
            if not flushed:
                for _ in range(int(rng.integers(0, 3))):
                    await ctx.tick()
                ctx.set(dut.flush, 1)
                await ctx.tick()
                ctx.set(dut.flush, 0)
            # from the strobe: count cycles until done
            while not ctx.get(dut.done):
                if poke_busy:
                    poke(ctx)
                await ctx.tick()
                unpoke(ctx)
                count += 1
                assert count < 50 * (syn.n_out + 10) * (len(events) + 1), f"step {t} never finished"
            count += 1  # the done cycle
            assert not ctx.get(dut.busy)
            await ctx.tick()
            flush_cycles.append(count)
            got = outputs[start:]
            assert [a for a, _ in got] == list(range(syn.n_out)), f"step {t}: readout order"
            assert [v for _, v in got] == expected, f"step {t} ({len(events)} events)"
            assert ctx.get(dut.overrun) == model.overrun, f"overrun after step {t}"
            assert ctx.get(dut.bad_addr) == model.bad_addr, f"bad_addr after step {t}"

    sim = Simulator(top)
    sim.add_clock(1e-6)
    sim.add_testbench(monitor, background=True)
    sim.add_testbench(bench)
    sim.run()
    return flush_cycles, event_cycles


def random_steps(rng, n_in, n_steps, max_per_step, bad=False):
    """Event lists: sources drawn with repeats; with ``bad``, some addresses >= n_in."""
    top = (1 << max(1, (n_in - 1).bit_length())) if bad else n_in
    return [
        rng.integers(0, top, size=int(rng.integers(0, max_per_step + 1))).tolist()
        for _ in range(n_steps)
    ]


@pytest.mark.parametrize(
    ("n_in", "n_out", "weight_bits", "lanes", "acc_bits", "overflow"),
    [
        (1, 1, 8, None, 16, "saturate"),  # 1 x 1: every event hits the same word
        (3, 2, 8, None, 8, "saturate"),  # one-word rows: forwarding from both stages
        (5, 4, 8, 2, 7, "wrap"),  # two-word rows
        (6, 7, 5, None, 6, "saturate"),  # 3 lanes, a padding lane in the last word
        (5, 13, 16, 1, 12, "saturate"),  # one weight per word, 13-word rows
        (11, 3, 1, None, 2, "saturate"),  # 1-bit weights: -1 or 0
        (2, 9, 16, 4, 32, "wrap"),  # 64-bit words, readout wider than the sum
    ],
)
def test_gateware_matches_model(rng, n_in, n_out, weight_bits, lanes, acc_bits, overflow):
    w = random_weights(rng, n_in, n_out, weight_bits)
    syn = ng.component(
        "dense",
        weights=w,
        weight_bits=weight_bits,
        lanes=lanes,
        acc_bits=acc_bits,
        overflow=overflow,
    )
    steps = random_steps(rng, n_in, 5, 2 * n_in + 2, bad=True)
    steps.insert(1, [])  # a step without events reads out zeros
    flush, _ = simulate(syn, steps, rng)
    assert flush[1] == syn.flush_cycles  # no event in flight


def test_gateware_overrun_and_saturation_corners(rng):
    # Every weight at an extreme, many repeated events: saturation at both ends, then wrap of
    # the accumulator beyond max_events (overrun).
    w = np.array([[127, -128, 127, -128], [127, -128, -128, 127]])
    syn = ng.component("dense", weights=w, acc_bits=9, max_events=3)  # sum_width 10
    steps = [[0, 0, 1], [0, 1], [0, 0, 0], [1, 1, 1, 1, 1]]
    model = syn.model()
    simulate(syn, steps, rng, model=model)
    assert model.overrun
    # and the same by hand: 3 x 127 = 381 > 255 saturates, 2 x -128 + 127 = -129 fits; five
    # events of 127: 635 wraps in 10
    # bits to -389, saturated to -256.
    hand = syn.model()
    assert hand.step_events([0, 0, 1]).tolist() == [255, -256, 126, -129]
    assert hand.step_events([1, 1, 1, 1, 1]).tolist() == [-256, 255, 255, -256]


def test_gateware_back_to_back_events_one_word_per_clock(rng):
    syn = ng.component("dense", weights=random_weights(rng, 8, 10, 8), lanes=2)  # 5-word rows
    events = [3, 3, 0, 7, 1, 5]
    _, spans = simulate(syn, [events, events[:1]], rng, p_valid=1.0)
    # with valid always high, event e transfers 5 cycles after event e - 1
    assert spans[0] == (len(events) - 1) * syn.words_per_row


def test_gateware_weight_writes_and_ignored_pokes(rng):
    w = random_weights(rng, 4, 5, 6)
    syn = ng.component("dense", weights=w, weight_bits=6, lanes=2)  # 3-word rows
    words = syn.n_in * syn.words_per_row
    writes = {
        t: [
            (int(rng.integers(words)), syn.pack_word(random_weights(rng, 1, 2, 6)[0]))
            for _ in range(3)
        ]
        for t in (1, 3)
    }
    steps = random_steps(rng, 4, 5, 9)
    simulate(syn, steps, rng, writes=writes, poke_busy=True)


def test_gateware_zero_weights_loaded_at_runtime(rng):
    w = random_weights(rng, 3, 4, 8)
    loaded = ng.component("dense", weights=w)
    syn = ng.component("dense", n_in=3, n_out=4)
    writes = {0: list(enumerate(loaded.packed_words()))}
    steps = random_steps(rng, 3, 3, 5)
    model = syn.model()
    simulate(syn, steps, rng, writes=writes, model=model)
    assert model.weights.tolist() == w.tolist()


def test_rtl_converts_for_odd_sizes():
    from amaranth.back import verilog

    for weights, lanes in (([[1]], None), (np.ones((3, 5), int), 3), (np.ones((5, 3), int), 1)):
        text = verilog.convert(ng.component("dense", weights=weights, lanes=lanes).create())
        assert "module" in text
        assert "[-1:0]" not in text  # no zero-width signals (Verilog would read 2 bits)


# -- memories -------------------------------------------------------------------------------------
def test_blocks_and_capacity():
    syn = ng.component("dense", weights=np.zeros((128, 96), int))  # 2 lanes: 48-word rows
    # weights 6144 x 16 bits: 24 EBR of 256 x 16; accumulators 48 x 30 bits: 2 EBR
    assert syn.blocks() == {"ebr": 26}
    syn.check_capacity()
    big = ng.component("dense", weights=np.zeros((256, 256), int))
    assert big.blocks() == {"ebr": 128 + 2}
    msg = (
        "dense needs 130 blocks of iCE40 UP5K EBR (30 x 4 kbit) for 32768 weight words of "
        "16 bits and 128 accumulator words of 32 bits, more than its 30"
    )
    with pytest.raises(ValueError, match=exact(msg)):
        big.create()
    assert big.model().step(np.ones(256, int)).tolist() == [0] * 256  # the model has no limit
    spram = big.replace(memory="spram")
    assert spram.blocks() == {"spram": 2, "ebr": 2}
    spram.check_capacity()
    # ECP5: 32768 x 16 bits in 1024 x 18 blocks, 128 x 32 bits in one 512 x 36
    assert big.replace(memory="bram").blocks() == {"bram": 32 + 1}
    msg = (
        "dense needs 5 blocks of iCE40 UP5K SPRAM (4 x 256 kbit) for 65664 weight words of "
        "16 bits, more than its 4"
    )
    ng.component("dense", n_in=512, n_out=256, memory="spram").check_capacity()  # 4 blocks
    with pytest.raises(ValueError, match=exact(msg)):
        ng.component("dense", n_in=513, n_out=256, memory="spram").create()


@pytest.mark.parametrize(
    ("n_in", "n_out", "weight_bits", "lanes"), [(3, 4, 8, None), (6, 5, 12, 2)]
)
def test_gateware_spram_banks(rng, monkeypatch, n_in, n_out, weight_bits, lanes):
    # SPRAM has no initial contents: the weights are written through w_* first. Blocks of 16
    # words (instead of 16384) exercise the bank select in a small simulation: 3 x 2 words take
    # one bank, 6 x 3 words of 24 bits two blocks side by side in each of two banks.
    from neurogate.plugins.synapses import dense

    monkeypatch.setattr(dense, "SPRAM_DEPTH", 16)
    monkeypatch.setattr(dense, "SPRAM_ADDR_BITS", 4)
    w = random_weights(rng, n_in, n_out, weight_bits)
    syn = ng.component("dense", weights=w, weight_bits=weight_bits, lanes=lanes, memory="spram")
    writes = {0: list(enumerate(syn.packed_words()))}
    steps = random_steps(rng, n_in, 5, 2 * n_in)
    simulate(syn, steps, rng, writes=writes)


def test_spram_instances_with_a_platform():
    from amaranth.back import verilog

    class Platform:
        pass

    syn = ng.component("dense", weights=np.ones((256, 256), int), memory="spram")
    text = verilog.convert(syn.create(), platform=Platform(), emit_src=False)
    assert text.count("SB_SPRAM256KA ") == 2


def test_with_the_shared_stream_bench(rng, rng_seed):
    # One timestep through neurogate.sim.streams (seeded random valid), flush strobed late.
    from neurogate.sim import streams

    w = random_weights(rng, 9, 6, 8)
    syn = ng.component("dense", weights=w, acc_bits=10)
    events = rng.integers(0, 9, size=12).tolist()
    flush_at = 12 * syn.words_per_row * 8 + 40
    res = streams.run(
        syn,
        {"aer": [{"addr": a} for a in events]},
        {"flush": [0] * flush_at + [1]},
        p_valid=0.5,
        seed=rng_seed,
    )
    assert res.payloads("aer") == [{"addr": a} for a in events]
    assert max(res.cycles_of("aer")) < flush_at
    we = res.values["out_we"].astype(bool)
    assert res.values["out_addr"][we].tolist() == list(range(6))
    got = res.values["out_data"][we].tolist()
    assert got == syn.model().step_events(events).tolist()
    assert res.values["done"].sum() == 1
