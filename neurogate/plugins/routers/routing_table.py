"""``routing_table``: source address to a list of destinations (multicast), from block RAM.

Each input event (``i``, :func:`neurogate.gateware.aer.event_layout` with ``addr_width`` and
``ts_width``) is looked up in ``table``: ``table[addr]`` is the list of destination addresses
of source ``addr``, and the router sends one output event (``o``, ``dest_width`` address bits)
per destination, in the order of the list, each with the input's timestamp. An empty list
sends nothing (the event is consumed). Events come out in input order: all destinations of one
input event before any of the next. So the transaction-level model is exact
(:meth:`RoutingTableModel.run`)::

    out = [ {addr: d, ts: e.ts} for e in inputs for d in table[e.addr] ]

A source address beyond the table (``addr >= len(table)``, possible when ``addr_width`` has
room for more) has no destinations; it also raises ``range_error``, sticky until reset.

**Memory.** The table is two read-only memories initialised in the bitstream: an index
(``len(table)`` words of ``start`` and ``count``) and the destinations, all lists one after the
other (``sum(len(row))`` words of ``dest_width`` bits). Yosys maps them to block RAM (iCE40 EBR,
ECP5 DP16KD) when they are large enough to be worth it. ``memory`` names the budget the table
must fit in (``"ebr"``: the 30 EBR of an iCE40 UP5K; ``"bram"``: the 208 of an ECP5-85F):
a table that does not fit is refused at construction.

**Timing.** Three registered stages: the index lookup, the expander (a pointer and a count
walking through the destination list) and the destination read, whose output is ``o``. The
first destination of an input event taken at cycle ``t`` is offered at ``t + 3``; the router
sends one destination per clock while ``o.ready`` is high, and takes the next input event in
the cycle its previous one's last destination is issued, so a stream of single-destination
events also flows at one event per clock; an event without destinations leaves the lookup
stage at once, so it costs no output cycle when the router is busy. ``o.valid`` and
``o.payload`` come from flip-flops (the block RAM's output register; for a destination memory
deeper than one block, the multiplexer that picks the block follows it, a few LUT levels);
``i.ready`` depends on ``o.ready`` combinationally (a few LUT levels).

>>> import neurogate as ng
>>> rt = ng.component("routing_table", table=((1, 2), (), (0, 3, 3)))
>>> rt.addr_width, rt.dest_width
(2, 2)
>>> rt.model().run([2, 0, 1, {"addr": 0}])
[{'addr': 0}, {'addr': 3}, {'addr': 3}, {'addr': 1}, {'addr': 2}, {'addr': 1}, {'addr': 2}]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from amaranth.hdl import Module, Signal, unsigned
from amaranth.lib import data
from amaranth.lib.memory import Memory

from neurogate.core.component import (
    Choice,
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
from neurogate.gateware.neuron_core import MEMORIES, memory_blocks

from ._common import ts_width_param

__all__ = ["RoutingTable", "RoutingTableModel"]

#: Most sources and most destination entries of one table.
MAX_ENTRIES = 1 << 20


class _Table:
    """Rule: a non-empty sequence of destination lists of non-negative ints, as tuples."""

    def describe(self) -> str:
        return "a non-empty sequence of destination lists (ints >= 0)"

    def __call__(self, where: str, value):
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
            raise TypeError(f"{where} must be {self.describe()}, not {value!r}")
        if not 1 <= len(value) <= MAX_ENTRIES:
            raise ValueError(f"{where} must have 1..{MAX_ENTRIES} sources, not {len(value)}")
        rows = []
        for src, row in enumerate(value):
            if isinstance(row, int | np.integer) or not isinstance(row, Sequence | np.ndarray):
                raise TypeError(
                    f"{where}[{src}] must be a list of destinations (ints >= 0), not {row!r}"
                )
            dests = []
            for k, dest in enumerate(row):
                if isinstance(dest, bool | np.bool_) or not isinstance(dest, int | np.integer):
                    raise TypeError(f"{where}[{src}][{k}] must be an int >= 0, not {dest!r}")
                if dest < 0:
                    raise ValueError(f"{where}[{src}][{k}] must be an int >= 0, not {dest!r}")
                dests.append(int(dest))
            rows.append(tuple(dests))
        total = sum(len(row) for row in rows)
        if total > MAX_ENTRIES:
            raise ValueError(f"{where} must have at most {MAX_ENTRIES} destinations, not {total}")
        return tuple(rows)


class RoutingTable(Component):
    """Multicast routing table in block RAM (see the module docstring for the behaviour).

    Members
    -------
    i : in, stream of ``event_layout(addr_width, ts_width)``
        Source events.
    o : out, stream of ``event_layout(dest_width, ts_width)``
        One event per destination of each source event, in order.
    range_error : out, 1
        Sticky: an event's source address was beyond the table (it was dropped).
    """

    name = "routing_table"
    kind = "router"

    table = Param(
        tuple((i,) for i in range(16)),
        _Table(),
        "destinations of each source address: table[src] = (dest, ...)",
    )
    addr_width = Param(
        None, Optional(Int(1, 20)), "bits of a source address (default: enough for the table)"
    )
    dest_width = Param(
        None, Optional(Int(1, 20)), "bits of a destination (default: enough for the largest)"
    )
    ts_width = ts_width_param()
    memory = Param("ebr", Choice(*[k for k in MEMORIES if k != "spram"]), "block RAM budget")

    def validate(self):
        name, table, values = self.name, self.table, self._values
        # defaults that depend on the table (filled in here, so replace(table=...) follows)
        if values["addr_width"] is None:
            values["addr_width"] = bits_for(len(table) - 1)
        if values["dest_width"] is None:
            values["dest_width"] = bits_for(max((d for row in table for d in row), default=0))
        if len(table) > 1 << self.addr_width:
            raise ValueError(
                f"{name}.table has {len(table)} sources, more than addr_width={self.addr_width} "
                f"can address ({1 << self.addr_width})"
            )
        top = (1 << self.dest_width) - 1
        for src, row in enumerate(table):
            for k, dest in enumerate(row):
                if dest > top:
                    raise ValueError(
                        f"{name}.table[{src}][{k}] must be a destination in 0..{top} "
                        f"(dest_width={self.dest_width}), not {dest}"
                    )
        index, dests = self.blocks()
        budget = MEMORIES[self.memory][1]
        if index + dests > budget:
            raise ValueError(
                f"{name} needs {index + dests} blocks of {MEMORIES[self.memory][0]} for its "
                f"table (index {index} + destinations {dests}), more than the {budget} there are"
            )

    # -- derived sizes --------------------------------------------------------------------
    @property
    def entries(self) -> int:
        """Destinations in the table, ``sum(len(row) for row in table)``."""
        return sum(len(row) for row in self.table)

    @property
    def index_layout(self) -> data.StructLayout:
        """One index word: ``start`` (first destination's position) and ``count``."""
        start = bits_for(max(self.entries - 1, 0))
        count = bits_for(max(len(row) for row in self.table))
        return data.StructLayout({"start": unsigned(start), "count": unsigned(count)})

    def blocks(self) -> tuple[int, int]:
        """Return the block RAMs of ``memory`` the index and the destinations take."""
        index = memory_blocks(self.memory, len(self.table), self.index_layout.size)
        dests = memory_blocks(self.memory, max(self.entries, 1), self.dest_width)
        return index, dests

    @property
    def ports(self):
        return {
            "i": StreamPort("in", event_layout(self.addr_width, self.ts_width), "source events"),
            "o": StreamPort(
                "out", event_layout(self.dest_width, self.ts_width), "one event per destination"
            ),
            "range_error": Port("out", 1, False, "sticky: a source beyond the table arrived"),
        }

    @property
    def latency(self):
        """Cycles from an input transfer to its first destination offered: 3."""
        return 3

    def model(self, n=1):
        """Return the transaction-level model (:class:`RoutingTableModel`; ``n`` must be 1)."""
        if n != 1:
            raise ValueError(f"routing_table models one table, not n={n!r}")
        return RoutingTableModel(self)

    def create(self):
        return RoutingTableGateware(self)


class RoutingTableModel:
    """Exact transaction-level model of :class:`RoutingTable`.

    ``range_error`` is the sticky flag (``True`` once a source beyond the table was seen).
    """

    def __init__(self, component: RoutingTable):
        self.component = component
        self.reset()

    def reset(self) -> None:
        """Clear ``range_error``."""
        self.range_error = False

    def run(self, events: Iterable) -> list[dict]:
        """Return the output events (dicts) for the input ``events`` (ints or dicts)."""
        c = self.component
        out = []
        for k, event in enumerate(events):
            if isinstance(event, Mapping):
                addr, ts = int(event.get("addr", 0)), int(event.get("ts", 0))
            else:
                addr, ts = int(event), 0
            if not 0 <= addr < 1 << c.addr_width:
                top = (1 << c.addr_width) - 1
                raise ValueError(f"events[{k}] address must be in 0..{top}, not {addr}")
            if addr >= len(c.table):
                self.range_error = True
                continue
            for dest in c.table[addr]:
                out.append({"addr": dest, "ts": ts} if c.ts_width else {"addr": dest})
        return out


class RoutingTableGateware(Gateware):
    """Gateware of :class:`RoutingTable` (ports as in its Members section)."""

    def elaborate(self, platform):
        m = Module()
        p = self.params
        table = p.table
        layout = p.index_layout
        starts = np.concatenate([[0], np.cumsum([len(row) for row in table])[:-1]]).tolist()
        index_init = [{"start": s, "count": len(row)} for s, row in zip(starts, table, strict=True)]
        dest_init = [d for row in table for d in row] or [0]
        m.submodules.index = index = Memory(shape=layout, depth=len(table), init=index_init)
        m.submodules.dests = dests = Memory(
            shape=p.dest_width, depth=len(dest_init), init=dest_init
        )
        index_rd = index.read_port()
        dest_rd = dests.read_port()

        # stage 1: index lookup (the read port's data register is the stage's register)
        v1 = Signal(name="v1")
        bad1 = Signal(name="bad1")
        ts1 = Signal(p.ts_width, name="ts1") if p.ts_width else None
        # stage 2: the expander
        ptr = Signal(range(max(len(dest_init), 2)), name="ptr")
        left = Signal(layout["count"].shape, name="left")
        last2 = Signal(name="last2")  # left == 1
        ts2 = Signal(p.ts_width, name="ts2") if p.ts_width else None
        # stage 3: the destination read, whose data register drives o.payload.addr
        v3 = self.o.valid

        adv3 = ~v3 | self.o.ready
        issue = (left != 0) & adv3
        free2 = (left == 0) | (issue & last2)
        entry = index_rd.data
        # an event without destinations (or beyond the table) leaves stage 1 at once
        empty1 = (entry.count == 0) | bad1
        move1 = v1 & ~empty1 & free2
        m.d.comb += self.i.ready.eq(~v1 | empty1 | free2)

        in_addr = self.i.payload.addr
        if len(index_rd.addr):
            m.d.comb += index_rd.addr.eq(in_addr)
        m.d.comb += index_rd.en.eq(self.i.ready)
        taken = self.i.valid & self.i.ready
        out_of_range = in_addr >= len(table) if len(table) < 1 << p.addr_width else 0
        with m.If(self.i.ready):
            m.d.sync += [v1.eq(self.i.valid), bad1.eq(out_of_range)]
            if ts1 is not None:
                m.d.sync += ts1.eq(self.i.payload.ts)
        with m.If(taken & out_of_range):
            m.d.sync += self.range_error.eq(1)

        with m.If(move1):
            count = entry.count
            m.d.sync += [ptr.eq(entry.start), left.eq(count), last2.eq(count == 1)]
            if ts2 is not None:
                m.d.sync += ts2.eq(ts1)
        with m.Elif(issue):
            m.d.sync += [ptr.eq(ptr + 1), left.eq(left - 1), last2.eq(left == 2)]

        m.d.comb += [dest_rd.addr.eq(ptr), dest_rd.en.eq(adv3)]
        m.d.comb += self.o.payload.addr.eq(dest_rd.data)
        with m.If(adv3):
            m.d.sync += v3.eq(left != 0)
            if ts2 is not None:
                m.d.sync += self.o.payload.ts.eq(ts2)
        return m


@hookimpl
def neurogate_register_components():
    return [RoutingTable]
