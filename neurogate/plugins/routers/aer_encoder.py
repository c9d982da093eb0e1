"""``aer_encoder``: spike vector to address-event stream, one event per clock, no spike lost unseen.

A population of ``n`` neurons updated in parallel shows its spikes as an ``n``-bit vector
(``spikes``, bit ``i`` = neuron ``i``). On a cycle with ``strobe`` high the encoder takes the
vector; it then sends one address-event per spike on the ``aer`` stream
(:func:`neurogate.gateware.aer.event_layout` with ``addr_width = bits_for(n - 1)``), one per
clock while ``aer.ready`` is high. ``strobe`` marks the cycles that carry a new vector (tie it
high to take the vector on every cycle).

**Pending spikes.** A taken vector goes through an input register into the pending vector
(one cycle later). The encoder works through the pending vector a *word* of neurons at a time
(``word`` is the smallest power of two that is at least ``sqrt(n)`` and at least ``n / 8``, so
there are at most 8 words: 4 neurons for ``n = 16``, 8 for 64, 16 for 128, 32 for 256, 128 for
1024): when its current word has been sent (or is about to be), it moves the next
non-empty word of the pending vector into the current word (clearing it there) in the same
cycle, so back-to-back events never leave a gap, however sparse the spikes. Within a word,
events go out in increasing address order. Which word is next is the ``arbiter``'s choice:

* ``"priority"``: the lowest non-empty word (low addresses first; high ones can starve while
  low ones keep firing);
* ``"round_robin"``: the first non-empty word after the last word moved (cyclically; word 0
  first after reset), so a pending word waits for at most ``words - 1`` others to be moved.

So a vector taken while the encoder is idle (``busy`` low) comes out as: with ``"priority"``,
its addresses in increasing order; with ``"round_robin"``, its words in round-robin order from
the word after the last one moved, each word's addresses in increasing order
(:meth:`AerEncoderModel.run`).

**Overflow.** A spike entering the pending vector (the cycle after its strobe) for a neuron
whose previous spike is still there, in a word that does not move to the current word in that
cycle, cannot be held: it is dropped. Then ``overflow`` rises and stays high (sticky, until
reset) and ``overflow_count`` counts the vectors that lost at least one spike (saturating at
``2**count_width - 1``; counting the vectors, not the spikes, avoids an ``n``-bit population
count); both change 3 cycles after the strobe. Nothing else is ever dropped: a spike for a
neuron whose event is in the current word or on the output is held as a new pending spike.
``busy`` is high while a vector is in the input register or any event is pending, in the
current word or on the output; a producer that strobes only while ``busy`` is low never loses
a spike.

**Latency.** The first event of a vector is offered 4 cycles after the ``strobe`` cycle (input
register, pending vector, current word, output register); with ``aer.ready`` high, a vector of
``k`` spikes strobed at cycle ``t`` while idle is sent in cycles ``t + 4 .. t + k + 3``. The
``aer`` outputs come straight from flip-flops, the arbiter picks the next word a cycle ahead
and the decision to load it reads registers that summarise the words, so the encoder's own
logic is a few LUTs deep (one event per clock at 40 MHz or more up to ``n = 256`` on an iCE40
UP5K; ``benchmarks/README.md``).

:meth:`AerEncoderModel.cycles` is the cycle-exact model (given ``spikes``, ``strobe`` and
``aer.ready`` per cycle); :meth:`AerEncoderModel.run` the transaction-level one.

>>> import neurogate as ng
>>> enc = ng.component("aer_encoder", n=40)     # 5 words of 8: 0..7, 8..15, ..., 32..39
>>> enc.word, enc.words
(8, 5)
>>> model = enc.model()
>>> model.run([{3, 20, 33}, {5, 17, 18}, {2, 35, 30}])  # the 3rd starts after word 2
[[3, 20, 33], [5, 17, 18], [30, 35, 2]]
>>> ng.component("aer_encoder", n=40, arbiter="priority").model().run([{2, 35, 30}])
[[2, 30, 35]]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from amaranth.hdl import Cat, Const, Module, Mux, Signal

from neurogate.core.component import (
    Choice,
    Component,
    Gateware,
    Int,
    Param,
    Port,
    StreamPort,
    bits_for,
)
from neurogate.core.hookspecs import hookimpl
from neurogate.gateware.aer import event_layout

from ._common import (
    at_least,
    count_width_param,
    lowest_one_hot,
    one_hot_index,
    prefix_any,
    saturating_increment,
)

__all__ = ["AerEncoder", "AerEncoderModel"]


class AerEncoder(Component):
    """Spike vector to AER stream (see the module docstring for the behaviour).

    Members
    -------
    spikes : in, ``n``
        The spike vector, bit ``i`` = neuron ``i``; taken on cycles with ``strobe`` high.
    strobe : in, 1
        High on cycles that carry a new spike vector.
    aer : out, stream of ``event_layout(bits_for(n - 1))``
        One address-event per spike.
    busy : out, 1
        Events are pending (in the pending vector, the current word or on the output).
    overflow : out, 1
        Sticky: a spike was dropped (its neuron's previous spike was still pending).
    overflow_count : out, ``count_width``
        Vectors that lost at least one spike, saturating.
    """

    name = "aer_encoder"
    kind = "router"

    n = Param(64, Int(1, 4096), "neurons (bits of the spike vector)")
    arbiter = Param(
        "round_robin", Choice("round_robin", "priority"), "which pending word goes next"
    )
    count_width = count_width_param()

    @property
    def addr_width(self) -> int:
        """Bits of an event's address, ``bits_for(n - 1)``."""
        return bits_for(self.n - 1)

    @property
    def word(self) -> int:
        """Neurons per word: the smallest power of two >= ``sqrt(n)`` and >= ``n / 8``."""
        if self.n == 1:
            return 1
        bits = bits_for(self.n - 1)
        return 1 << max(-(-bits // 2), bits - 3)

    @property
    def words(self) -> int:
        """Words in the spike vector, ``ceil(n / word)``."""
        return -(-self.n // self.word)

    @property
    def ports(self):
        return {
            "spikes": Port("in", self.n, False, "spike vector, bit i = neuron i"),
            "strobe": Port("in", 1, False, "take the spike vector this cycle"),
            "aer": StreamPort("out", event_layout(self.addr_width), "one event per spike"),
            "busy": Port("out", 1, False, "events pending"),
            "overflow": Port("out", 1, False, "sticky: a spike was dropped"),
            "overflow_count": Port(
                "out", self.count_width, False, "vectors that lost a spike (saturating)"
            ),
        }

    @property
    def latency(self):
        """Cycles from a ``strobe`` to the first event offered: 4."""
        return 4

    def model(self, n=1):
        """Return the model (:class:`AerEncoderModel`; ``n`` must be 1)."""
        if n != 1:
            raise ValueError(f"aer_encoder models one encoder, not n={n!r}")
        return AerEncoderModel(self)

    def create(self):
        return AerEncoderGateware(self)


def _bits(vector, n: int, where: str) -> int:
    """Return a spike vector (an int bit mask, a set of indices or a 0/1 row) as an int."""
    if isinstance(vector, int | np.integer) and not isinstance(vector, bool):
        value = int(vector)
    elif isinstance(vector, set | frozenset):
        value = sum(1 << int(i) for i in vector)
        bad = [i for i in vector if not 0 <= i < n]
        if bad:
            raise ValueError(f"{where} names neuron {bad[0]}, outside 0..{n - 1}")
        return value
    else:
        row = np.asarray(vector)
        if row.shape != (n,):
            raise ValueError(f"{where} must have {n} entries, not shape {row.shape}")
        value = sum(1 << int(i) for i in np.flatnonzero(row))
    if not 0 <= value < 1 << n:
        raise ValueError(f"{where} must fit {n} bits, not {value}")
    return value


class AerEncoderModel:
    """Model of :class:`AerEncoder`, transaction-level (:meth:`run`) and cycle-exact
    (:meth:`cycles`).

    Both continue from the state the last call left (the pending spikes and the round-robin
    pointer); :meth:`reset` returns to the reset state.
    """

    def __init__(self, component: AerEncoder):
        self.component = component
        self.reset()

    def reset(self) -> None:
        """Return to the reset state: nothing pending, word 0 next, flags clear."""
        c = self.component
        self.in_vec = 0  # the input register (int bit mask, bit i = neuron i)
        self.pending = 0  # the pending vector
        self.current = 0  # the current word's bits
        self.current_word = 0
        self.out_valid = False
        self.out_addr = 0
        self.above = (1 << c.words) - 1  # round robin: words after the last one moved
        self.lost_words = 0
        self.overflow = False
        self.overflow_count = 0

    def _flags(self, vector: int) -> int:
        c = self.component
        mask = (1 << c.word) - 1
        return sum(1 << w for w in range(c.words) if (vector >> (w * c.word)) & mask)

    def _next_word(self, flags: int) -> int:
        high = flags & self.above if self.component.arbiter == "round_robin" else 0
        req = high or flags
        return (req & -req).bit_length() - 1

    def run(self, vectors: Iterable) -> list[list[int]]:
        """Return the events of each vector, each vector taken while the encoder is idle.

        ``vectors`` holds spike vectors: sets of neuron indices, int bit masks or ``(n,)`` 0/1
        arrays. Each is taken with nothing pending, and all its events are sent before the
        next (so no spike is lost); the round-robin pointer carries over between vectors.
        """
        c = self.component
        if self.in_vec or self.pending or self.current or self.out_valid:
            raise ValueError(
                "aer_encoder model: run() needs an idle encoder (cycles() left events)"
            )
        mask = (1 << c.word) - 1
        out = []
        for k, vector in enumerate(vectors):
            bits = _bits(vector, c.n, f"vectors[{k}]")
            flags = sum(1 << w for w in range(c.words) if (bits >> (w * c.word)) & mask)
            events = []
            while flags:
                w = self._next_word(flags)
                flags &= ~(1 << w)
                self.above = ((1 << c.words) - 1) & ~((2 << w) - 1)
                word = (bits >> (w * c.word)) & mask
                events += [w * c.word + b for b in range(c.word) if word >> b & 1]
            out.append(events)
        return out

    def cycles(
        self, spikes: Sequence, strobe: Sequence[int], ready: Sequence[int]
    ) -> dict[str, object]:
        """Run cycle by cycle; return what the gateware shows and sends.

        Parameters
        ----------
        spikes : sequence
            The ``spikes`` input of each cycle (int bit masks or 0/1 rows); shorter than
            ``ready`` means 0 after its end.
        strobe : sequence of int
            The ``strobe`` input of each cycle (0 after its end).
        ready : sequence of int
            ``aer.ready`` of each cycle; its length is the number of cycles.

        Returns
        -------
        dict
            ``"transfers"``: ``[(cycle, addr), ...]``; ``"valid"``, ``"busy"``, ``"overflow"``,
            ``"overflow_count"``: int arrays, the value during each cycle.
        """
        c = self.component
        steps = len(ready)
        g, mask = c.word, (1 << c.word) - 1
        trace = {k: np.zeros(steps, dtype=np.int64) for k in ("valid", "busy", "overflow")}
        trace["overflow_count"] = np.zeros(steps, dtype=np.int64)
        transfers = []
        top = (1 << c.count_width) - 1
        for t in range(steps):
            vec = _bits(spikes[t], c.n, f"spikes[{t}]") if t < len(spikes) else 0
            stb = bool(strobe[t]) if t < len(strobe) else False
            flags = self._flags(self.pending)
            trace["valid"][t] = self.out_valid
            trace["busy"][t] = bool(self.in_vec or flags or self.current or self.out_valid)
            trace["overflow"][t] = self.overflow
            trace["overflow_count"][t] = self.overflow_count
            if self.lost_words:
                self.overflow = True
                self.overflow_count = min(self.overflow_count + 1, top)
            # the output register takes the lowest bit of the current word
            take = not self.out_valid or bool(ready[t])
            if self.out_valid and ready[t]:
                transfers.append((t, self.out_addr))
            current = self.current
            if take:
                if current:
                    low = current & -current
                    self.out_addr = self.current_word * g + low.bit_length() - 1
                    current &= ~low
                self.out_valid = bool(self.current)
            # the picked word moves to the current word when that is done
            pending, moved = self.pending, 0
            if not current and flags:
                w = self._next_word(flags)
                current, self.current_word = (pending >> (w * g)) & mask, w
                moved = mask << (w * g)
                pending &= ~moved
                if c.arbiter == "round_robin":
                    self.above = ((1 << c.words) - 1) & ~((2 << w) - 1)
            # the input register joins the pending vector; a neuron still pending loses it
            self.lost_words = self._flags(self.in_vec & pending)
            self.pending = pending | self.in_vec
            self.current = current
            self.in_vec = vec if stb else 0
        return {"transfers": transfers, **trace}


class AerEncoderGateware(Gateware):
    """Gateware of :class:`AerEncoder` (ports as in its Members section).

    The choice of the next word is made a cycle ahead (``sel`` is a register, kept equal to the
    arbiter's pick over the pending words), and the load decision reads only registers that
    summarise the current word (``cur_any``: it is non-empty, ``cur_multi``: it holds two or
    more spikes) and the pending words (``flags_any``; ``pend_multi``: per word, two or more
    spikes), so it is two LUTs deep. These registers are kept equal to the functions of
    ``current`` and ``pending`` they name; the cycle behaviour is the model's.
    """

    def elaborate(self, platform):
        m = Module()
        p = self.params
        g, nw = p.word, p.words
        rr = p.arbiter == "round_robin"

        def words_of(value):
            return [value[w * g : (w + 1) * g] for w in range(nw)]

        def any_per_word(value):
            return Cat(*[word.any() for word in words_of(value)])

        def multi_per_word(value):
            return Cat(*[at_least(word, 2) for word in words_of(value)])

        def pick(req, above):
            """(one-hot pick, the words strictly above it) of the arbiter over ``req``."""
            if not rr:
                return lowest_one_hot(req), None
            high = req & above
            first_high, first = prefix_any(high), prefix_any(req)
            use_high = high.any()
            return (
                Mux(use_high, high & ~first_high, req & ~first),
                Mux(use_high, first_high, first),
            )

        # -- input register: the strobed vector, its non-empty words and its multi-spike words
        in_vec = Signal(nw * g, name="in_vec")
        in_flags = Signal(nw, name="in_flags")
        in_multi = Signal(nw, name="in_multi")
        strobed = Signal(nw * g, name="strobed")
        m.d.comb += strobed.eq(Mux(self.strobe, self.spikes, 0))
        m.d.sync += [
            in_vec.eq(strobed),
            in_flags.eq(any_per_word(strobed)),
            in_multi.eq(multi_per_word(strobed)),
        ]

        pending = Signal(nw * g, name="pending")  # padded to whole words; the pad stays 0
        flags = Signal(nw, name="flags")  # word w of pending is non-empty
        flags_any = Signal(name="flags_any")  # flags.any()
        pend_multi = Signal(nw, name="pend_multi")  # word w of pending has >= 2 spikes
        sel = Signal(nw, name="sel")  # one-hot: the arbiter's pick over flags
        current = Signal(g, name="current")
        cur_any = Signal(name="cur_any")  # current.any()
        cur_multi = Signal(name="cur_multi")  # current has >= 2 spikes
        current_word = Signal(range(nw), name="current_word")
        ov = self.aer.valid

        # -- the output register takes the lowest bit of the current word
        take = ~ov | self.aer.ready
        low = Signal(g, name="low")
        below = Signal(g, name="below")  # bits of current below each position
        m.d.comb += [below.eq(prefix_any(current)), low.eq(current & ~below)]
        emit = take & cur_any
        with m.If(take):
            m.d.sync += ov.eq(cur_any)
        with m.If(emit):
            addr = Cat(one_hot_index(low), current_word) if nw > 1 else one_hot_index(low)
            m.d.sync += self.aer.payload.addr.eq(addr)

        # -- load the picked word when the current one is done (after this cycle's event)
        load = Signal(name="load")
        m.d.comb += load.eq(flags_any & ~cur_multi & (take | ~cur_any))
        chosen = Const(0, g)
        for w, word in enumerate(words_of(pending)):
            chosen = chosen | (word & sel[w].replicate(g))
        after = current & (below | ~emit.replicate(g))  # the current word after this cycle
        m.d.sync += current.eq(Mux(load, chosen, after))
        m.d.sync += [
            cur_any.eq(load | Mux(emit, cur_multi, cur_any)),
            cur_multi.eq(
                Mux(load, (sel & pend_multi).any(), Mux(emit, at_least(current, 3), cur_multi))
            ),
        ]
        with m.If(load):
            if nw > 1:
                m.d.sync += current_word.eq(one_hot_index(sel))

        # -- pending vector and flags; the next pick, for either outcome of load
        moved = Signal(nw, name="moved")  # the word leaving pending this cycle
        m.d.comb += moved.eq(Mux(load, sel, 0))
        clear = Cat(*[moved[w].replicate(g) for w in range(nw)])
        m.d.sync += pending.eq((pending & ~clear) | in_vec)
        # a moved word keeps only the input register's spikes
        m.d.sync += pend_multi.eq((moved & in_multi) | (~moved & multi_per_word(pending | in_vec)))
        flags_load = (flags & ~sel) | in_flags
        flags_stay = flags | in_flags
        m.d.sync += [
            flags.eq(Mux(load, flags_load, flags_stay)),
            flags_any.eq(Mux(load, flags_load.any(), flags_stay.any())),
        ]
        if rr:
            above = Signal(nw, init=(1 << nw) - 1, name="above")  # words after the last load
            sel_above = Signal(nw, name="sel_above")  # words after sel
            pick_load, above_load = pick(flags_load, sel_above)
            pick_stay, above_stay = pick(flags_stay, above)
            with m.If(load):
                m.d.sync += [above.eq(sel_above), sel.eq(pick_load), sel_above.eq(above_load)]
            with m.Else():
                m.d.sync += [sel.eq(pick_stay), sel_above.eq(above_stay)]
        else:
            m.d.sync += sel.eq(Mux(load, pick(flags_load, None)[0], pick(flags_stay, None)[0]))

        # -- a spike for a neuron still pending (and staying so) is lost
        lost_words = Signal(nw, name="lost_words")
        m.d.sync += lost_words.eq(any_per_word(in_vec & pending) & ~moved)
        lost = lost_words.any()
        with m.If(lost):
            m.d.sync += self.overflow.eq(1)
        saturating_increment(m, self.overflow_count, lost)
        m.d.comb += self.busy.eq(in_flags.any() | flags_any | cur_any | ov)
        return m


@hookimpl
def neurogate_register_components():
    return [AerEncoder]
