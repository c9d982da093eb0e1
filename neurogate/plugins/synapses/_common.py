"""What the synapse layers share: array parameters, the accumulator width and the readout rule.

Every event-driven synapse layer (``dense``, ``sparse``) keeps one accumulator per target
neuron. Within a timestep it adds the weights of each incoming event **exactly**, in an
accumulator of :func:`sum_width` bits, wide enough for ``max_events`` events of the widest
weights; at the end of the step it hands each target's sum to the next population through
:func:`readout_np` / :func:`readout_hdl`: saturated (or wrapped) **once**, to ``acc_bits``.
So the result does not depend on the order the events arrived in (a saturation after every add
would). More than ``max_events`` events in one step can leave the accumulator's range; it wraps
(two's complement, still independent of the order) and the layer's sticky ``overrun`` flag
says so.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass

import numpy as np
from amaranth.hdl import Signal, Value, signed, unsigned
from amaranth.lib import data
from amaranth.lib.memory import Memory

from neurogate.core.component import Bool, Choice, Int, Optional, Param
from neurogate.core.fixed import FixedFormat

__all__ = [
    "IntArray",
    "int_array_rule",
    "readout_hdl",
    "readout_np",
    "sum_width",
]

#: Most neurons on either side of a synapse layer (addresses are at most 16 bits).
MAX_NEURONS = 65536
#: Most events per timestep a layer can promise exact sums for.
MAX_EVENTS = 1 << 24


class IntArray:
    """A read-only ``int64`` array with value equality and a hash (an array parameter).

    Component parameters are frozen and hashable; a NumPy array is neither, so array-valued
    parameters are held as an :class:`IntArray`. ``np.asarray(x)`` and :attr:`array` give the
    (read-only) array; ``repr`` shows the shape and a digest of the contents, not the values.
    """

    __slots__ = ("_array", "_digest")

    def __init__(self, array):
        arr = np.array(array, dtype=np.int64)  # a copy: the caller's array may change later
        arr.setflags(write=False)
        self._array = arr
        self._digest = hashlib.blake2b(
            repr(arr.shape).encode() + arr.tobytes(), digest_size=8
        ).hexdigest()

    @property
    def array(self) -> np.ndarray:
        """The values (read-only)."""
        return self._array

    @property
    def shape(self) -> tuple[int, ...]:
        """The array's shape."""
        return self._array.shape

    def __array__(self, dtype=None, copy=None):
        if dtype is None or np.dtype(dtype) == self._array.dtype:
            return self._array.copy() if copy else self._array
        return self._array.astype(dtype)

    def __eq__(self, other):
        return (
            isinstance(other, IntArray)
            and self._digest == other._digest
            and (
                self._array.shape == other._array.shape
                and np.array_equal(self._array, other._array)
            )
        )

    def __hash__(self):
        return hash(self._digest)

    def __repr__(self):
        shape = "x".join(str(s) for s in self.shape)
        return f"IntArray({shape}, blake2b {self._digest})"


def int_array_rule(ndim: int, what: str):
    """Return a :class:`Param` rule: ``None`` or an integer array of ``ndim`` dimensions.

    ``what`` names the axes in the error message, e.g. ``"(n_in, n_out)"``.
    """

    def rule(where, value):
        if value is None:
            return None
        if isinstance(value, IntArray):
            value = value.array
        arr = np.asarray(value)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{where} must be None or an integer array, not dtype {arr.dtype}")
        if arr.ndim != ndim:
            raise ValueError(
                f"{where} must be None or a {ndim}-D array {what}, not shape {arr.shape}"
            )
        if arr.dtype.kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
            raise ValueError(f"{where} must fit int64, not {int(arr.max())}")
        return IntArray(arr)

    return rule


def fit_weights(component, key: str, fmt: FixedFormat, strict: bool, where_axes: str):
    """Check (``strict``) or clip an :class:`IntArray` parameter to ``fmt``, in place.

    ``where_axes`` names the index in messages, e.g. ``"(i, j)"``. Raises ``ValueError`` naming
    the first offending index and value; otherwise clips and warns (``UserWarning``) with the
    count and the first offender.
    """
    arr = component._values[key].array
    bad = (arr < fmt.min) | (arr > fmt.max)
    if not bad.any():
        return
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    index = first[0] if len(first) == 1 else first
    value = int(arr[first])
    name = f"{component.name}.{key}"
    if strict:
        raise ValueError(f"{name} must fit {fmt.describe()}, not {value} at {where_axes} = {index}")
    count = int(bad.sum())
    warnings.warn(
        f"{name}: {count} value(s) outside {fmt.describe()} clipped (the first: {value} at "
        f"{where_axes} = {index})",
        UserWarning,
        stacklevel=4,
    )
    component._values[key] = IntArray(np.clip(arr, fmt.min, fmt.max))


def sum_width(weight_bits: int, max_events: int) -> int:
    """Return the bits of an exact signed sum of ``max_events`` ``weight_bits``-bit weights.

    >>> sum_width(8, 1), sum_width(8, 2), sum_width(8, 256), sum_width(8, 257)
    (8, 9, 16, 17)
    """
    return weight_bits + (max_events - 1).bit_length()


def readout_format(acc_bits: int, overflow: str) -> FixedFormat:
    """Return the format of a readout value: signed ``acc_bits`` with ``overflow``."""
    return FixedFormat(acc_bits, 0, True, overflow)


def readout_np(sums: np.ndarray, width: int, acc_bits: int, overflow: str) -> np.ndarray:
    """Return the readout of exact sums (``int64``, exact modulo ``2**64``).

    The accumulator keeps the low ``width`` bits (two's complement); the readout then
    saturates or wraps that value to ``acc_bits`` (a narrower or equal ``width`` is
    sign-extended, no policy needed).
    """
    acc = FixedFormat(width, 0, True, "wrap").wrap_array(np.asarray(sums, dtype=np.int64))
    if acc_bits >= width:
        return acc
    return readout_format(acc_bits, overflow).fit_array(acc)


def readout_hdl(value, acc_bits: int, overflow: str):
    """Return the Amaranth expression of :func:`readout_np` on one ``width``-bit accumulator."""
    return readout_format(acc_bits, overflow).fit_value(value)


# -- parameters every event-driven layer has ----------------------------------------------------
def weight_bits_param():
    return Param(8, Int(1, 16), "bits of a signed weight")


def acc_bits_param():
    return Param(16, Int(1, 32), "bits of a signed readout current (the next population's input)")


def overflow_param():
    return Param(
        "saturate",
        Choice("saturate", "wrap"),
        "policy of the readout when a sum leaves acc_bits (applied once per step)",
    )


def max_events_param():
    return Param(
        None,
        Optional(Int(1, MAX_EVENTS)),
        "most events per step with an exact sum (default n_in: each source once)",
    )


def strict_param():
    return Param(
        True, Bool(), "out-of-range weights raise ValueError (False: clip them with a warning)"
    )


def size_param(side: str):
    return Param(
        None,
        Optional(Int(1, MAX_NEURONS)),
        f"neurons of the {side} population (default: from the weights, or 1)",
    )


# -- gateware -------------------------------------------------------------------------------------
def index(n: int) -> Signal:
    """Return a register counting ``0 .. n - 1``, at least one bit wide (no ``[-1:0]`` in RTL)."""
    return Signal(range(max(2, n)))


@dataclass
class BackEnd:
    """What :func:`accumulate_and_flush` gives the front end that feeds it."""

    #: High in the accumulate phase: the front end may accept events.
    accepting: Value
    #: High in the cycle the flush's readout starts (the step's event count may be cleared).
    sweep_start: Value
    #: The layer's ``busy`` (front end, pipeline or flush).
    busy: Value


def accumulate_and_flush(
    m,
    gw,
    *,
    words: int,
    lanes: int,
    width: int,
    n_out: int,
    acc_bits: int,
    overflow: str,
    forward: int,
    issue_valid,
    issue_addr,
    weight,
    front_busy,
) -> BackEnd:
    """Build the accumulators, their read-add-write pipeline and the flush; return the handles.

    The accumulator memory has ``words`` words of ``lanes`` signed ``width``-bit accumulators;
    target ``j`` is lane ``j % lanes`` of word ``j // lanes``. The front end issues one word per
    cycle: ``issue_valid`` and ``issue_addr`` (the word) in the *issue* cycle, the ``lanes``
    weights to add (``weight``, an :class:`~amaranth.lib.data.ArrayLayout` view) in the next
    (the *read* cycle, when the accumulator word comes out of the memory); the sums are written
    back in the cycle after (the *add* cycle). The word of an add cycle was read before the
    two add cycles before it wrote theirs; when one of them had the same word, its sum is
    forwarded. ``forward`` says which can: 0, neither (a front end that never issues a word
    again within three cycles); 1, only the one two cycles before (never the same word twice
    in a row); 2, both.

    The phases drive ``gw.flush``, ``gw.busy``, ``gw.done`` and ``gw.out_addr`` /
    ``gw.out_data`` / ``gw.out_we`` as the synapse modules document: a ``flush`` strobe while
    accumulating ends the step; once ``front_busy`` is low and the pipeline empty, the targets
    ``0 .. n_out - 1`` are read (one per cycle, through the same pipeline), saturated or
    wrapped to ``acc_bits`` into registered writes, and cleared; ``done`` follows the last.
    """
    a_layout = data.ArrayLayout(signed(width), lanes)
    m.submodules.acc_mem = acc_mem = Memory(
        shape=unsigned(a_layout.size), depth=max(2, words), init=[]
    )
    a_rd, a_wr = acc_mem.read_port(), acc_mem.write_port()

    accum, drain, sweep, tail = range(4)
    phase = Signal(2)  # accum: events; drain: wait for the pipeline; sweep/tail: readout
    busy = Signal()
    # readout sweep: target j is lane `lane` of accumulator word `sk`
    j, sk, lane = index(n_out), index(words), index(lanes)
    # read cycle
    m_valid, m_sweep, m_k = Signal(), Signal(), index(words)
    m_j, m_lane, m_clear = index(n_out), index(lanes), Signal()
    # add cycle
    c_valid, c_sweep, c_k = Signal(), Signal(), index(words)
    c_j, c_lane, c_clear = index(n_out), index(lanes), Signal()
    c_w = Signal(weight.shape())
    c_a = Signal(a_layout)
    total = Signal(a_layout)  # the new sums of the word in the add cycle

    # -- phases ---------------------------------------------------------------------------------
    sweeping = phase == sweep
    sweep_start = Signal()
    m.d.comb += sweep_start.eq((phase == drain) & ~front_busy & ~m_valid & ~c_valid)
    m.d.sync += gw.done.eq(0)
    with m.Switch(phase):
        with m.Case(accum), m.If(gw.flush):
            m.d.sync += phase.eq(drain)
        with m.Case(drain), m.If(sweep_start):
            m.d.sync += [phase.eq(sweep), j.eq(0), sk.eq(0), lane.eq(0)]
        with m.Case(sweep):
            m.d.sync += j.eq(j + 1)
            with m.If(lane == lanes - 1):
                m.d.sync += [lane.eq(0), sk.eq(sk + 1)]
            with m.Else():
                m.d.sync += lane.eq(lane + 1)
            with m.If(j == n_out - 1):
                m.d.sync += phase.eq(tail)
        with m.Case(tail), m.If(gw.out_we & (gw.out_addr == n_out - 1)):
            m.d.sync += [phase.eq(accum), gw.done.eq(1)]
    m.d.comb += [busy.eq(front_busy | m_valid | c_valid | (phase != accum)), gw.busy.eq(busy)]

    # -- issue -> read -> add ---------------------------------------------------------------------
    m.d.comb += a_rd.addr.eq(issue_addr)
    with m.If(sweeping):
        m.d.comb += a_rd.addr.eq(sk)
    m.d.sync += [
        m_valid.eq(issue_valid),
        m_sweep.eq(sweeping),
        m_k.eq(a_rd.addr),
        m_j.eq(j),
        m_lane.eq(lane),
        m_clear.eq((lane == lanes - 1) | (j == n_out - 1)),
        c_valid.eq(m_valid),
        c_sweep.eq(m_sweep),
        c_k.eq(m_k),
        c_j.eq(m_j),
        c_lane.eq(m_lane),
        c_clear.eq(m_clear),
        c_w.eq(weight),
        c_a.eq(a_rd.data),
    ]

    # Forwarding: the add cycle's word was read before the one or two add cycles before it
    # wrote theirs.
    before = c_a
    if forward:
        f1_valid, f1_k, f1_sum = Signal(), index(words), Signal(a_layout)
        f2_valid, f2_k, f2_sum = Signal(), index(words), Signal(a_layout)
        c_fwd1, c_fwd2 = Signal(), Signal()
        m.d.sync += [
            f1_valid.eq(c_valid),
            f1_k.eq(c_k),
            f1_sum.eq(total),
            f2_valid.eq(f1_valid),
            f2_k.eq(f1_k),
            f2_sum.eq(f1_sum),
            # decided one cycle early, from registers: which add cycle wrote this word last
            c_fwd2.eq(m_valid & f1_valid & (m_k == f1_k)),
        ]
        if forward > 1:
            m.d.sync += c_fwd1.eq(m_valid & c_valid & (m_k == c_k))
        before = Signal(a_layout)
        with m.If(c_fwd1):
            m.d.comb += before.eq(f1_sum)
        with m.Elif(c_fwd2):
            m.d.comb += before.eq(f2_sum)
        with m.Else():
            m.d.comb += before.eq(c_a)
    for lane_index in range(lanes):
        m.d.comb += total[lane_index].eq(before[lane_index] + c_w[lane_index])

    # -- add cycle: write back (or clear), readout -------------------------------------------------
    m.d.comb += [a_wr.addr.eq(c_k), a_wr.en.eq(c_valid | (c_sweep & c_clear))]
    with m.If(~c_sweep):
        m.d.comb += a_wr.data.eq(total)
    m.d.sync += [
        gw.out_we.eq(c_sweep),
        gw.out_addr.eq(c_j),
        gw.out_data.eq(readout_hdl(c_a[c_lane], acc_bits, overflow)),
    ]
    return BackEnd(accepting=phase == accum, sweep_start=sweep_start, busy=busy)


def count_events(m, gw, accept, max_events: int, clear) -> None:
    """Count a step's events (``accept``); past ``max_events`` raise the sticky ``gw.overrun``."""
    count = Signal(range(max_events + 1))
    with m.If(accept):
        with m.If(count == max_events):
            m.d.sync += gw.overrun.eq(1)
        with m.Else():
            m.d.sync += count.eq(count + 1)
    with m.If(clear):
        m.d.sync += count.eq(0)


# -- models -------------------------------------------------------------------------------------
class EventSynapseModel:
    """Base of the synapse layers' bit-true models: one :meth:`step` per timestep.

    A model holds what the layer's memories hold (loaded by :meth:`_load` from the parameters
    on :meth:`reset`) and the sticky ``overrun`` and ``bad_addr`` flags. :meth:`step`,
    :meth:`step_events` and :meth:`run` return the readout currents, as the gateware's flush
    writes them. Subclasses implement :meth:`_load` and :meth:`_sums`.
    """

    def __init__(self, synapse):
        self._syn = synapse
        self.reset()

    def reset(self) -> None:
        """Return to the configured state: the parameters' weights, flags low."""
        syn = self._syn
        self._fmt = readout_format(syn.acc_bits, syn.overflow)
        self._cache: dict = {}
        self.overrun = False
        self.bad_addr = False
        self._load()

    def _load(self) -> None:
        raise NotImplementedError

    def _sums(self, counts: np.ndarray) -> tuple[np.ndarray, int]:
        """Return one step's exact sums (any int dtype, exact modulo ``2**64``) and events."""
        raise NotImplementedError

    def _counts(self, spikes) -> np.ndarray:
        name = self._syn.name
        arr = np.asarray(spikes)
        if arr.dtype == np.bool_:
            arr = arr.astype(np.int64)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{name} spikes must be an integer array, not dtype {arr.dtype}")
        n_in = self._syn.n_in
        if arr.shape[-1:] != (n_in,):
            raise ValueError(
                f"{name} spikes must have {n_in} source(s) on the last axis, not shape {arr.shape}"
            )
        if arr.dtype.kind == "i" and arr.size and arr.min() < 0:
            raise ValueError(f"{name} spikes must count events (>= 0), not {int(arr.min())}")
        return arr

    def _readout(self, sums: np.ndarray, totals) -> np.ndarray:
        """Apply the accumulator width and the readout policy to exact (or int64-wrapped) sums."""
        syn = self._syn
        totals = np.asarray(totals)
        if totals.size and totals.max() > syn.max_events:
            self.overrun = True
            sums = readout_np(sums, syn.sum_width, syn.sum_width, "wrap")  # the accumulator wraps
        sums = sums.astype(np.int64, copy=False)
        if syn.acc_bits >= syn.sum_width:
            return sums
        return self._fmt.fit_array(sums, out=sums)

    def step(self, spikes) -> np.ndarray:
        """Run one timestep; return the ``(n_out,)`` readout currents (``int64``).

        ``spikes`` is ``(n_in,)``: the events of each source in the step (0/1 or bool from a
        neuron core; a larger count adds the source's weights that many times, as repeated
        events do).
        """
        counts = self._counts(spikes)
        if counts.ndim != 1:
            raise ValueError(
                f"{self._syn.name} spikes must have shape ({self._syn.n_in},), not {counts.shape}"
            )
        sums, total = self._sums(counts)
        return self._readout(sums, total)

    def step_events(self, addrs) -> np.ndarray:
        """Run one timestep from its events (source addresses, in any order); return currents.

        Addresses ``>= n_in`` (up to the address width) are dropped and raise ``bad_addr``,
        as in the gateware.
        """
        addrs = np.asarray(addrs, dtype=np.int64).reshape(-1)
        syn = self._syn
        top = 1 << syn.in_addr_width
        if addrs.size and (addrs.min() < 0 or addrs.max() >= top):
            bad = addrs[(addrs < 0) | (addrs >= top)][0]
            raise ValueError(
                f"{syn.name} event address must fit unsigned {syn.in_addr_width}-bit, "
                f"not {int(bad)}"
            )
        good = addrs < syn.n_in
        if not good.all():
            self.bad_addr = True
        return self.step(np.bincount(addrs[good], minlength=syn.n_in))

    def run(self, spikes) -> np.ndarray:
        """Run ``T`` timesteps at once: ``spikes`` ``(T, n_in)`` -> currents ``(T, n_out)``.

        The same as ``T`` calls of :meth:`step`.
        """
        counts = self._run_counts(spikes)
        out = np.empty((counts.shape[0], self._syn.n_out), dtype=np.int64)
        for t in range(counts.shape[0]):
            out[t] = self._sums(counts[t])[0]
        return self._readout(out, counts.sum(axis=1, dtype=np.int64))

    def _run_counts(self, spikes) -> np.ndarray:
        counts = self._counts(spikes)
        if counts.ndim != 2:
            raise ValueError(
                f"{self._syn.name} spikes must have shape (T, {self._syn.n_in}), not {counts.shape}"
            )
        return counts
