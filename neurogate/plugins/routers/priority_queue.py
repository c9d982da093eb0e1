"""``priority_queue``: a finite strict-priority queue of address-events, FIFO among equals.

Each input (``i``) carries an event (``event``: :func:`neurogate.gateware.aer.event_layout`)
and a priority (``prio``, ``0 .. levels - 1``; lower is more urgent; a larger value counts as
``levels - 1``). The queue keeps one FIFO of at most ``depth`` events per priority level and
never stalls its input (``i.ready`` is always high):

* **drop**: an event whose level already holds ``depth`` events (at the start of the cycle it
  arrives) is dropped; ``dropped`` rises and stays high (sticky, until reset) and
  ``drop_count`` counts the dropped events (saturating at ``2**count_width - 1``);
* **strict priority**: each cycle in which the output register is free (empty, or taken:
  ``o.ready``), it takes the oldest event of the most urgent non-empty level, where a level
  holds the events taken in earlier cycles (an event arriving in cycle ``a`` can leave from
  cycle ``a + 1``), and offers it on ``o`` in the next cycle. An event on ``o`` is not
  overtaken by a more urgent one that arrives while it waits for ``o.ready``;
* **FIFO among equals**: events of one level leave in the order they arrived;
* **deadline**: with ``max_latency`` set, ``deadline`` rises (sticky) in the cycle after an
  event has waited ``max_latency + 1`` cycles, counted from the cycle it arrived to the cycle
  it is taken from ``o`` (it is still in the queue or on ``o`` then): so ``deadline`` is high
  iff some event took longer than ``max_latency`` cycles, including events still waiting.

That is the whole behaviour, and :meth:`PriorityQueueModel.cycles` models it exactly given the
input and ``o.ready`` of each cycle. With ``o.ready`` high and a backlog, the queue sends one
event per clock. An event that arrives at an empty queue is offered at ``a + 2`` (latency 2).

**Gateware.** Each level is a head register plus a ring of ``depth - 1`` entries in one memory
shared by all levels (one write per cycle for the input, one read per cycle to refill the head
just taken), so the level choice is a priority encoder over the head registers and a
multiplexer, and a head is refilled from the memory without a gap. The deadline check compares
the age of each level's head and of the output register with ``max_latency``: a level's other
events are younger than its head.

>>> import neurogate as ng
>>> pq = ng.component("priority_queue", levels=4, depth=2, addr_width=4)
>>> ev = lambda addr, prio: {"event": {"addr": addr}, "prio": prio}
>>> arrivals = {0: ev(1, 3), 1: ev(2, 3), 2: ev(3, 0), 3: ev(4, 3), 4: ev(5, 3)}
>>> out = pq.model().cycles(arrivals, ready=[0] * 6 + [1] * 6)

Event 1 takes the free output register at cycle 1; level 3 then holds 2 and 4 (its depth) when
5 arrives, so 5 is dropped. From cycle 6 ``o.ready`` is high: 1, then 3 (priority 0) before
2 and 4.

>>> [(cycle, event["addr"]) for cycle, event in out["transfers"]]
[(6, 1), (7, 3), (8, 2), (9, 4)]
>>> out["drop_count"].tolist()
[0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1]
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence

import numpy as np
from amaranth.hdl import Cat, Const, Module, Mux, Signal, unsigned
from amaranth.lib import data
from amaranth.lib.memory import Memory

from neurogate.core.component import (
    Component,
    Gateware,
    Int,
    Optional,
    Param,
    Port,
    StreamPort,
    bits_for,
)
from neurogate.core.hookspecs import hookimpl
from neurogate.gateware.aer import event_layout

from ._common import (
    addr_width_param,
    count_width_param,
    lowest_one_hot,
    one_hot_index,
    saturating_increment,
    ts_width_param,
)

__all__ = ["PriorityQueue", "PriorityQueueModel"]


class PriorityQueue(Component):
    """Strict-priority AER queue (see the module docstring for the behaviour).

    Members
    -------
    i : in, stream of ``{event: event_layout(addr_width, ts_width), prio: bits_for(levels - 1)}``
        Events with their priority; always ready.
    o : out, stream of ``event_layout(addr_width, ts_width)``
        Events, most urgent first; registered.
    dropped : out, 1
        Sticky: an event arrived at a full level (and was dropped).
    drop_count : out, ``count_width``
        Dropped events, saturating.
    deadline : out, 1
        Sticky: an event waited longer than ``max_latency`` cycles (0 without ``max_latency``).
    """

    name = "priority_queue"
    kind = "router"

    levels = Param(4, Int(2, 16), "priority levels (0 is the most urgent)")
    depth = Param(16, Int(2, 1024), "events each level holds")
    addr_width = addr_width_param()
    ts_width = ts_width_param()
    max_latency = Param(
        None, Optional(Int(1, 1 << 20)), "cycles an event may wait before deadline rises"
    )
    count_width = count_width_param()

    @property
    def prio_width(self) -> int:
        """Bits of the priority field, ``bits_for(levels - 1)``."""
        return bits_for(self.levels - 1)

    @property
    def age_width(self) -> int:
        """Bits of the arrival time stored with each event (0 without ``max_latency``)."""
        return 0 if self.max_latency is None else bits_for(self.max_latency + 1)

    @property
    def input_layout(self) -> data.StructLayout:
        """The input payload: ``event`` and ``prio``."""
        return data.StructLayout(
            {
                "event": event_layout(self.addr_width, self.ts_width),
                "prio": unsigned(self.prio_width),
            }
        )

    @property
    def ports(self):
        return {
            "i": StreamPort("in", self.input_layout, "events with priorities"),
            "o": StreamPort(
                "out", event_layout(self.addr_width, self.ts_width), "most urgent first"
            ),
            "dropped": Port("out", 1, False, "sticky: an event arrived at a full level"),
            "drop_count": Port("out", self.count_width, False, "dropped events (saturating)"),
            "deadline": Port("out", 1, False, "sticky: an event waited over max_latency"),
        }

    @property
    def latency(self):
        """Cycles from an input transfer to its event offered, through an empty queue: 2."""
        return 2

    def model(self, n=1):
        """Return the cycle-exact model (:class:`PriorityQueueModel`; ``n`` must be 1)."""
        if n != 1:
            raise ValueError(f"priority_queue models one queue, not n={n!r}")
        return PriorityQueueModel(self)

    def create(self):
        return PriorityQueueGateware(self)


class PriorityQueueModel:
    """Cycle-exact model of :class:`PriorityQueue`, written from its rules (one FIFO per level).

    The state (queued events, the output register, the flags) carries over between calls.
    """

    def __init__(self, component: PriorityQueue):
        self.component = component
        self.reset()

    def reset(self) -> None:
        """Empty the queue and clear the flags; the cycle count starts again at 0."""
        self.fifos = [deque() for _ in range(self.component.levels)]  # (arrival, event)
        self.out = None  # (arrival, event) on o
        self.dropped = False
        self.drop_count = 0
        self.deadline = False
        self.now = 0

    def cycles(self, inputs: Mapping[int, object], ready: Sequence[int]) -> dict[str, object]:
        """Run ``len(ready)`` cycles and return what the queue shows and sends.

        Parameters
        ----------
        inputs : dict
            ``{cycle: payload}``, the input transfers (the queue is always ready), cycles
            counted from this call; a payload is a dict ``{"event": ..., "prio": p}``.
        ready : sequence of int
            ``o.ready`` of each cycle.

        Returns
        -------
        dict
            ``"transfers"``: ``[(cycle, event), ...]``; ``"dropped"``, ``"drop_count"``,
            ``"deadline"``, ``"valid"``: int arrays, the value during each cycle.
        """
        c = self.component
        steps = len(ready)
        trace = {k: np.zeros(steps, dtype=np.int64) for k in ("valid", "dropped", "deadline")}
        trace["drop_count"] = np.zeros(steps, dtype=np.int64)
        transfers = []
        top = (1 << c.count_width) - 1
        for t in range(steps):
            trace["valid"][t] = self.out is not None
            trace["dropped"][t] = self.dropped
            trace["drop_count"][t] = self.drop_count
            trace["deadline"][t] = self.deadline
            now = self.now + t
            # deadline: an event queued or on o has waited max_latency + 1 cycles
            if c.max_latency is not None:
                waiting = [f[0][0] for f in self.fifos if f]
                if self.out is not None:
                    waiting.append(self.out[0])
                if any(now - a > c.max_latency for a in waiting):
                    self.deadline = True
            sizes = [len(f) for f in self.fifos]  # at the start of the cycle
            if self.out is not None and ready[t]:
                transfers.append((t, self.out[1]))
                self.out = None
            if self.out is None:
                level = next((k for k, f in enumerate(self.fifos) if f), None)
                if level is not None:
                    self.out = self.fifos[level].popleft()
            if t in inputs:
                payload = inputs[t]
                level = min(int(payload.get("prio", 0)), c.levels - 1)
                if sizes[level] >= c.depth:
                    self.dropped = True
                    self.drop_count = min(self.drop_count + 1, top)
                else:
                    self.fifos[level].append((now, payload.get("event", {})))
        self.now += steps
        return {"transfers": transfers, **trace}


class PriorityQueueGateware(Gateware):
    """Gateware of :class:`PriorityQueue` (ports as in its Members section)."""

    def elaborate(self, platform):
        m = Module()
        p = self.params
        nl, ring = p.levels, p.depth - 1
        ev_w = event_layout(p.addr_width, p.ts_width).size
        age_w = p.age_width
        entry_w = ev_w + age_w
        ptr_w = bits_for(ring - 1)
        lvl_w = bits_for(nl - 1)
        m.submodules.ring = mem = Memory(shape=entry_w, depth=nl << ptr_w, init=[])
        wr, rd = mem.write_port(), mem.read_port()

        now = Signal(max(age_w, 1), name="now")
        if age_w:
            m.d.sync += now.eq(now + 1)

        hv = Signal(nl, name="hv")  # level l has a head (in its register, or being read)
        pend = Signal(nl, name="pend")  # level l's head is on the memory's read port
        heads = [Signal(entry_w, name=f"head{k}") for k in range(nl)]
        rps = [Signal(range(ring), name=f"rp{k}") for k in range(nl)]
        wps = [Signal(range(ring), name=f"wp{k}") for k in range(nl)]
        cnts = [Signal(range(ring + 1), name=f"cnt{k}") for k in range(nl)]
        head_data = [Mux(pend[k], rd.data, heads[k]) for k in range(nl)]

        def step(ptr):
            return Mux(ptr == ring - 1, 0, ptr + 1)

        # -- the output register takes the head of the most urgent non-empty level
        ov = self.o.valid
        out_arrival = Signal(max(age_w, 1), name="out_arrival")
        take = ~ov | self.o.ready
        sel = Signal(nl, name="sel")
        m.d.comb += sel.eq(lowest_one_hot(hv))
        chosen = Const(0, entry_w)
        for k in range(nl):
            chosen = chosen | (head_data[k] & sel[k].replicate(entry_w))
        with m.If(take):
            m.d.sync += [ov.eq(hv.any()), self.o.payload.eq(chosen[:ev_w])]
            if age_w:
                m.d.sync += out_arrival.eq(chosen[ev_w:])
        consume = Signal(nl, name="consume")
        m.d.comb += consume.eq(Mux(take, sel, 0))
        sel_index = one_hot_index(sel)
        rp_sel = Const(0, len(rps[0]))
        for k in range(nl):
            rp_sel = rp_sel | (rps[k] & sel[k].replicate(len(rps[k])))
        m.d.comb += rd.addr.eq(Cat(rp_sel, sel_index) if ptr_w else sel_index)

        # -- the input: drop at a full level, else to the head register or the ring
        prio = self.i.payload.prio
        level_in = Mux(prio >= nl, nl - 1, prio) if (1 << p.prio_width) > nl else prio
        m.d.comb += self.i.ready.eq(1)
        entry_in = (
            Cat(self.i.payload.event.as_value(), now[:age_w])
            if age_w
            else (self.i.payload.event.as_value())
        )
        wp_in = Const(0, len(wps[0]))
        drop = Const(0, 1)
        to_ring_any = Const(0, 1)
        for k in range(nl):
            arrive = self.i.valid & (level_in == k)
            full = hv[k] & (cnts[k] == ring)
            accept = arrive & ~full
            to_head = accept & (cnts[k] == 0) & (~hv[k] | consume[k])
            to_ring = accept & ~to_head
            refill = consume[k] & (cnts[k] != 0)
            drop = drop | (arrive & full)
            to_ring_any = to_ring_any | to_ring
            wp_in = wp_in | (wps[k] & (level_in == k).replicate(len(wps[k])))
            with m.If(to_head):
                m.d.sync += [heads[k].eq(entry_in), hv[k].eq(1), pend[k].eq(0)]
            with m.Elif(consume[k]):
                m.d.sync += [hv[k].eq(refill), pend[k].eq(refill)]
            with m.Elif(pend[k]):
                m.d.sync += [heads[k].eq(rd.data), pend[k].eq(0)]
            with m.If(refill):
                m.d.sync += rps[k].eq(step(rps[k]))
            with m.If(to_ring):
                m.d.sync += wps[k].eq(step(wps[k]))
            m.d.sync += cnts[k].eq(cnts[k] - refill + to_ring)
        m.d.comb += [
            wr.addr.eq(Cat(wp_in, level_in[:lvl_w]) if ptr_w else level_in[:lvl_w]),
            wr.data.eq(entry_in),
            wr.en.eq(to_ring_any),
        ]
        with m.If(drop):
            m.d.sync += self.dropped.eq(1)
        saturating_increment(m, self.drop_count, drop)

        # -- deadline: the heads and the output register are the oldest events there are
        if age_w:
            late = Const(0, 1)
            for k in range(nl):
                age = (now - head_data[k][ev_w:])[:age_w]
                late = late | (hv[k] & (age > p.max_latency))
            late = late | (ov & ((now - out_arrival)[:age_w] > p.max_latency))
            with m.If(late):
                m.d.sync += self.deadline.eq(1)
        return m


@hookimpl
def neurogate_register_components():
    return [PriorityQueue]
