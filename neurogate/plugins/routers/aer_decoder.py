"""``aer_decoder``: address-event stream to a spike vector or to synapse-row lookups.

Two modes (``mode``): ``"spikes"`` (the default) collects each timestep's events into a spike
vector; ``"rows"`` looks up each event's synapse row and streams it out, one synapse a beat.

**Spike vector** (``mode="spikes"``). The decoder takes one event per clock (``i.ready`` is
always high) and sets bit ``addr`` of an accumulator. A ``strobe`` ends the timestep: the
accumulator, with the event taken in the same cycle, becomes the ``spikes`` output (registered,
held until the next strobe) and the accumulator starts again from zero. So ``spikes`` shows, for
the whole of the next timestep, which neurons had at least one event in the last one (several
events of one neuron in one timestep set its bit once), ready to drive a population updated in
parallel::

    spikes after the strobe at cycle s = OR of onehot(addr) over the events taken in cycles
                                         (previous strobe, s]

Latency 1: ``spikes`` changes the cycle after a strobe; the decoder never stalls its input.
Timestamps (``ts_width``) are accepted and ignored: the strobe defines the timestep.

**Synapse rows** (``mode="rows"``). ``connections`` lists the synapses as rows
``(source, target, weight)``, the format of the ``sparse`` synapse layer
(:func:`neurogate.plugins.synapses.sparse.connections_from_matrix` makes it from a weight
matrix); source ``s``'s *row* is its synapses in the order given. For each input event the
decoder sends one beat on ``o`` per synapse of the event's row, ``target`` and ``weight``
(:func:`synapse_layout`, plus the event's ``ts`` when ``ts_width > 0``), all beats of one event
before any of the next; a source without synapses sends nothing. So the transaction-level
model is exact (:meth:`AerDecoderModel.rows`)::

    o = [(target, weight, e.ts) for e in i for (source, target, weight) in connections
         if source == e.addr]

The rows are compressed sparse rows (:class:`neurogate.plugins.synapses.sparse.CSR`) in two
read-only memories initialised in the bitstream (block RAM when large enough): an index of
``n`` words (``start``, ``count``) and the synapses (``target``, ``weight``). Three registered
stages: the index read, a pointer walking through the row, the synapse read whose output is
``o``. The first beat of an event taken at cycle ``t`` is offered at ``t + 3``; the decoder
sends one beat per clock while ``o.ready`` is high and takes the next event in the cycle the
previous one's last synapse is issued (so one-synapse rows also flow at one beat per clock); an
event with an empty row leaves the index stage at once. ``o.valid`` and ``o.payload`` come from
flip-flops; ``i.ready`` depends on ``o.ready`` through a few LUTs. :meth:`AerDecoderModel.cycles`
is cycle-exact given the input's offers and ``o.ready`` per cycle.

A table that does not fit is refused at construction: a source outside ``0..n - 1``, a target
outside ``0..n_out - 1``, a weight outside signed ``weight_bits``, or memories larger than the
``memory`` budget (no weight is clipped: use the ``sparse`` layer's rules to quantise first).

**Range check** (both modes). An event with ``addr >= n`` (possible when ``addr_width`` has room
for more) is dropped: ``range_error`` rises and stays high (sticky, until reset) and ``dropped``
counts such events (saturating at ``2**count_width - 1``); both change the cycle after the event
is taken.

The spike-vector model is cycle-exact given the cycles of the transfers and strobes
(:meth:`AerDecoderModel.cycles`), and exact at timestep level (:meth:`AerDecoderModel.run`).

>>> import neurogate as ng
>>> dec = ng.component("aer_decoder", n=6, addr_width=3)
>>> out = dec.model().run([[1, 4, 1], [], [7, 0]])   # three timesteps of events
>>> out["spikes"].tolist()
[[0, 1, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0]]
>>> out["dropped"].tolist()                          # address 7 is beyond the 6 neurons
[0, 0, 1]
>>> rows = ng.component("aer_decoder", mode="rows", n=3,
...                     connections=[[2, 0, -5], [0, 4, 7], [2, 1, 3]])
>>> rows.n_out, rows.weight_bits
(5, 8)
>>> rows.model().rows([2, 1, 0])
[{'target': 0, 'weight': -5}, {'target': 1, 'weight': 3}, {'target': 4, 'weight': 7}]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from amaranth.hdl import C, Module, Mux, Signal, signed, unsigned
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
from neurogate.core.fixed import FixedFormat
from neurogate.core.hookspecs import hookimpl
from neurogate.gateware.aer import event_layout
from neurogate.gateware.neuron_core import MEMORIES, memory_blocks
from neurogate.plugins.synapses._common import int_array_rule, weight_bits_param
from neurogate.plugins.synapses.sparse import CSR, MAX_CONNECTIONS

from ._common import count_width_param, saturating_increment, ts_width_param

__all__ = ["AerDecoder", "AerDecoderModel", "synapse_layout"]


def synapse_layout(target_width: int, weight_bits: int, ts_width: int = 0) -> data.StructLayout:
    """Return the layout of one synapse beat: ``target``, signed ``weight`` (and ``ts``)."""
    members = {"target": unsigned(target_width), "weight": signed(weight_bits)}
    if ts_width:
        members["ts"] = unsigned(ts_width)
    return data.StructLayout(members)


class AerDecoder(Component):
    """AER stream to spike vector or synapse rows (see the module docstring for the behaviour).

    Members
    -------
    i : in, stream of ``event_layout(addr_width, ts_width)``
        Events; always ready with ``mode="spikes"``.
    strobe : in, 1
        ``mode="spikes"``: ends the timestep (the event taken in the same cycle belongs to it).
    spikes : out, ``n``
        ``mode="spikes"``: the last completed timestep's spike vector; registered.
    o : out, stream of ``synapse_layout(bits_for(n_out - 1), weight_bits, ts_width)``
        ``mode="rows"``: one beat per synapse of each event's row, in order.
    range_error : out, 1
        Sticky: an event with ``addr >= n`` arrived (and was dropped).
    dropped : out, ``count_width``
        Events dropped by the range check, saturating.
    """

    name = "aer_decoder"
    kind = "router"

    mode = Param(
        "spikes", Choice("spikes", "rows"), "output: a spike vector, or each event's synapse row"
    )
    n = Param(64, Int(1, 4096), "neurons: bits of the spike vector, or sources (rows)")
    addr_width = Param(
        None, Optional(Int(1, 32)), "bits of an event's address (default: bits_for(n - 1))"
    )
    ts_width = ts_width_param()
    count_width = count_width_param()
    connections = Param(
        None,
        int_array_rule(2, "(k, 3) of (source, target, weight)"),
        "mode='rows': synapses, rows (source, target, weight), each source's row in order",
    )
    n_out = Param(
        None, Optional(Int(1, 65536)), "mode='rows': targets (default: the largest target + 1)"
    )
    weight_bits = weight_bits_param()
    memory = Param(
        "ebr", Choice("ebr", "bram"), "mode='rows': memory budget, 'ebr' (UP5K) or 'bram' (ECP5)"
    )

    def validate(self):
        values = self._values
        need = bits_for(self.n - 1)
        if values["addr_width"] is None:
            values["addr_width"] = need
        elif self.addr_width < need:
            raise ValueError(
                f"aer_decoder.addr_width must be >= {need} to address n={self.n} neurons, "
                f"not {self.addr_width}"
            )
        if self.mode == "spikes":
            for key in ("connections", "n_out"):
                if values[key] is not None:
                    raise ValueError(
                        f"aer_decoder.{key} is for mode='rows', not mode='spikes' (leave it None)"
                    )
            return
        self._validate_rows()

    def _validate_rows(self):
        values = self._values
        if values["connections"] is None:
            raise ValueError("aer_decoder.connections must be given with mode='rows'")
        arr = values["connections"].array
        if arr.shape[1] != 3:
            raise ValueError(
                f"aer_decoder.connections must have 3 columns (source, target, weight), "
                f"not {arr.shape[1]}"
            )
        if arr.shape[0] > MAX_CONNECTIONS:
            raise ValueError(
                f"aer_decoder.connections must hold at most {MAX_CONNECTIONS} synapses, "
                f"not {arr.shape[0]}"
            )
        if values["n_out"] is None:
            top = int(arr[:, 1].max()) + 1 if len(arr) else 1
            values["n_out"] = min(max(top, 1), 65536)  # a bad target is reported below
        for column, key, what in ((0, "n", "source"), (1, "n_out", "target")):
            top = values[key]
            bad = np.flatnonzero((arr[:, column] < 0) | (arr[:, column] >= top))
            if bad.size:
                c = int(bad[0])
                raise ValueError(
                    f"aer_decoder.connections {what} must be in 0..{key} - 1 = 0..{top - 1}, "
                    f"not {int(arr[c, column])} (synapse {c})"
                )
        fmt = self.weight_format
        bad = np.flatnonzero((arr[:, 2] < fmt.min) | (arr[:, 2] > fmt.max))
        if bad.size:
            c = int(bad[0])
            raise ValueError(
                f"aer_decoder.connections weight must fit {fmt.describe()} "
                f"(weight_bits={self.weight_bits}), not {int(arr[c, 2])} (synapse {c})"
            )
        used, (description, budget) = sum(self.blocks()), MEMORIES[self.memory][:2]
        if used > budget:
            raise ValueError(
                f"aer_decoder needs {used} blocks of {description} for {self.n} rows and "
                f"{len(arr)} synapses, more than its {budget}"
            )

    # -- derived sizes (mode="rows") -----------------------------------------------------------
    @property
    def weight_format(self) -> FixedFormat:
        """The format of a weight: signed ``weight_bits``."""
        return FixedFormat(self.weight_bits, 0, True)

    @property
    def target_width(self) -> int:
        """Bits of a beat's ``target``, ``bits_for(n_out - 1)``."""
        return bits_for(self.n_out - 1)

    @property
    def csr(self) -> CSR:
        """The synapses by source (stably sorted): row pointers, targets, weights."""
        arr = self.connections.array
        order = np.argsort(arr[:, 0], kind="stable")
        ptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(np.bincount(arr[:, 0], minlength=self.n), out=ptr[1:])
        return CSR(ptr, arr[order, 1].copy(), arr[order, 2].copy())

    @property
    def index_layout(self) -> data.StructLayout:
        """One index word (``mode="rows"``): ``start`` (the row's first synapse) and ``count``."""
        ptr = self.csr.ptr
        start = unsigned(bits_for(max(int(ptr[-1]) - 1, 0)))
        return data.StructLayout({"start": start, "count": unsigned(bits_for(np.diff(ptr).max()))})

    def blocks(self) -> tuple[int, int]:
        """Return the blocks of ``memory`` the index and the synapses take (``mode="rows"``)."""
        k = self.connections.shape[0]
        index = memory_blocks(self.memory, self.n, self.index_layout.size)
        synapses = memory_blocks(self.memory, k, self.target_width + self.weight_bits) if k else 0
        return index, synapses

    @property
    def ports(self):
        events = StreamPort("in", event_layout(self.addr_width, self.ts_width), "events")
        errors = {
            "range_error": Port("out", 1, False, "sticky: an event beyond n arrived"),
            "dropped": Port("out", self.count_width, False, "events beyond n (saturating)"),
        }
        if self.mode == "rows":
            layout = synapse_layout(self.target_width, self.weight_bits, self.ts_width)
            return {"i": events, "o": StreamPort("out", layout, "one beat per synapse"), **errors}
        return {
            "i": events,
            "strobe": Port("in", 1, False, "end of the timestep"),
            "spikes": Port("out", self.n, False, "last timestep's spike vector"),
            **errors,
        }

    @property
    def latency(self):
        """Cycles from a strobe to the new ``spikes`` (1), or from an input transfer to its
        row's first beat offered (3, ``mode="rows"``).
        """
        return 3 if self.mode == "rows" else 1

    def model(self, n=1):
        """Return the model (:class:`AerDecoderModel`; ``n`` must be 1)."""
        if n != 1:
            raise ValueError(f"aer_decoder models one decoder, not n={n!r}")
        return AerDecoderModel(self)

    def create(self):
        if self.mode == "rows":
            return AerRowDecoderGateware(self)
        return AerDecoderGateware(self)


def _event(event, where: str, width: int, ts_width: int | None = None) -> tuple[int, int]:
    """Return ``(addr, ts)`` of an event (an int or a dict), checked (``ts`` unless
    ``ts_width`` is None).
    """
    if isinstance(event, Mapping):
        addr, ts = int(event.get("addr", 0)), int(event.get("ts", 0))
    else:
        addr, ts = int(event), 0
    if not 0 <= addr < 1 << width:
        raise ValueError(f"{where} address must be in 0..{(1 << width) - 1}, not {addr}")
    if ts_width is not None and not 0 <= ts < 1 << ts_width:
        raise ValueError(f"{where} timestamp must be in 0..{(1 << ts_width) - 1}, not {ts}")
    return addr, ts


def _addr(event, where: str, width: int) -> int:
    return _event(event, where, width)[0]


class AerDecoderModel:
    """Exact model of :class:`AerDecoder`.

    ``mode="spikes"``: timestep level (:meth:`run`) and cycle level (:meth:`cycles`).
    ``mode="rows"``: transaction level (:meth:`rows`) and cycle level (:meth:`cycles`, with
    other arguments). All continue from the state the last call left.
    """

    def __init__(self, component: AerDecoder):
        self.component = component
        if component.mode == "rows":
            csr = component.csr
            self._ptr, self._target, self._weight = csr.ptr, csr.target, csr.weight
        self.reset()

    def reset(self) -> None:
        """Clear the accumulator, the output and the error flag and counter (``mode="rows"``:
        empty the pipeline).
        """
        n = self.component.n
        self.accumulator = np.zeros(n, dtype=np.uint8)
        self.spikes = np.zeros(n, dtype=np.uint8)
        self.range_error = False
        self.dropped = 0
        # mode="rows": the three stages (index read, row pointer, synapse read)
        self._s1 = None  # (start, count, bad, ts) of the event in the index stage
        self._ptr2, self._left2, self._ts2 = 0, 0, 0
        self._o = None  # the beat on o (a dict) while o.valid

    def _take(self, addr: int) -> None:
        c = self.component
        if addr < c.n:
            self.accumulator[addr] = 1
        else:
            self._drop()

    def _drop(self) -> None:
        self.range_error = True
        self.dropped = min(self.dropped + 1, (1 << self.component.count_width) - 1)

    def _need(self, mode: str, method: str) -> None:
        if self.component.mode != mode:
            raise ValueError(f"aer_decoder model: {method} is for mode={mode!r}")

    def run(self, steps: Iterable[Sequence]) -> dict[str, np.ndarray]:
        """Return ``spikes`` (``(T, n)``), ``range_error`` and ``dropped`` (``(T,)``) after each
        timestep, for ``steps``: one sequence of events (ints or dicts) per timestep
        (``mode="spikes"``).
        """
        self._need("spikes", "run()")
        c = self.component
        rows, errors, dropped = [], [], []
        for t, events in enumerate(steps):
            for k, event in enumerate(events):
                self._take(_addr(event, f"steps[{t}][{k}]", c.addr_width))
            self.spikes, self.accumulator = self.accumulator, np.zeros(c.n, dtype=np.uint8)
            rows.append(self.spikes)
            errors.append(self.range_error)
            dropped.append(self.dropped)
        return {
            "spikes": np.array(rows, dtype=np.uint8).reshape(len(rows), c.n),
            "range_error": np.array(errors, dtype=np.int64),
            "dropped": np.array(dropped, dtype=np.int64),
        }

    def _beat(self, index: int, ts: int) -> dict:
        beat = {"target": int(self._target[index]), "weight": int(self._weight[index])}
        if self.component.ts_width:
            beat["ts"] = ts
        return beat

    def rows(self, events: Iterable) -> list[dict]:
        """Return the beats (dicts) sent for the input ``events`` (ints or dicts;
        ``mode="rows"``): each event's row in order, nothing for a source beyond ``n``.
        """
        self._need("rows", "rows()")
        c = self.component
        out = []
        for k, event in enumerate(events):
            addr, ts = _event(event, f"events[{k}]", c.addr_width, c.ts_width)
            if addr >= c.n:
                self._drop()
                continue
            out += [self._beat(j, ts) for j in range(self._ptr[addr], self._ptr[addr + 1])]
        return out

    def cycles(self, *args, **kwargs) -> dict:
        """Run cycle by cycle: :meth:`spike_cycles` (``mode="spikes"``) or :meth:`row_cycles`."""
        if self.component.mode == "rows":
            return self.row_cycles(*args, **kwargs)
        return self.spike_cycles(*args, **kwargs)

    def spike_cycles(
        self, transfers: Iterable[tuple[int, object]], strobe: Sequence[int], steps: int
    ) -> dict[str, np.ndarray]:
        """Return ``spikes`` (``(steps, n)``), ``range_error`` and ``dropped`` (``(steps,)``),
        the values shown during each cycle (``mode="spikes"``).

        ``transfers`` are ``(cycle, event)`` pairs (the input's transfer log, in order);
        ``strobe`` the strobe of each cycle (0 after its end).
        """
        self._need("spikes", "spike_cycles()")
        c = self.component
        by_cycle: dict[int, list] = {}
        for k, (cycle, event) in enumerate(transfers):
            by_cycle.setdefault(int(cycle), []).append(
                _addr(event, f"transfers[{k}]", c.addr_width)
            )
        spikes = np.zeros((steps, c.n), dtype=np.uint8)
        errors = np.zeros(steps, dtype=np.int64)
        dropped = np.zeros(steps, dtype=np.int64)
        for t in range(steps):
            spikes[t], errors[t], dropped[t] = self.spikes, self.range_error, self.dropped
            for addr in by_cycle.get(t, ()):
                self._take(addr)
            if t < len(strobe) and strobe[t]:
                self.spikes, self.accumulator = self.accumulator, np.zeros(c.n, dtype=np.uint8)
        return {"spikes": spikes, "range_error": errors, "dropped": dropped}

    def row_cycles(self, offers: Sequence, ready: Sequence[int]) -> dict[str, object]:
        """Run cycle by cycle (``mode="rows"``); return what the gateware takes and sends.

        Parameters
        ----------
        offers : sequence
            The input's offer of each cycle: an event (int or dict) while ``i.valid`` is high,
            ``None`` while it is low; ``None`` after its end.
        ready : sequence of int
            ``o.ready`` of each cycle; its length is the number of cycles.

        Returns
        -------
        dict
            ``"taken"``: ``[(cycle, event), ...]`` (input transfers, events as given);
            ``"transfers"``: ``[(cycle, beat), ...]`` (beats as dicts); ``"i_ready"``,
            ``"valid"`` (``o.valid``), ``"range_error"``, ``"dropped"``: int arrays, the
            value during each cycle.
        """
        self._need("rows", "row_cycles()")
        c = self.component
        steps = len(ready)
        trace = {k: np.zeros(steps, dtype=np.int64) for k in ("i_ready", "valid")}
        trace["range_error"] = np.zeros(steps, dtype=np.int64)
        trace["dropped"] = np.zeros(steps, dtype=np.int64)
        taken, transfers = [], []
        for t in range(steps):
            offer = offers[t] if t < len(offers) else None
            trace["range_error"][t], trace["dropped"][t] = self.range_error, self.dropped
            left, s1 = self._left2, self._s1
            adv3 = self._o is None or bool(ready[t])
            issue = left != 0 and adv3
            free2 = left == 0 or (issue and left == 1)
            empty1 = s1 is None or s1[1] == 0 or s1[2]
            i_ready = empty1 or free2
            trace["i_ready"][t], trace["valid"][t] = i_ready, self._o is not None
            if self._o is not None and ready[t]:
                transfers.append((t, self._o))
            # stage 3: the synapse read
            if adv3:
                self._o = self._beat(self._ptr2, self._ts2) if issue else None
            # stage 2: the row pointer
            if s1 is not None and not empty1 and free2:
                self._ptr2, self._left2, self._ts2 = s1[0], s1[1], s1[3]
            elif issue:
                self._ptr2, self._left2 = self._ptr2 + 1, left - 1
            # stage 1: the index read
            if i_ready:
                self._s1 = None
                if offer is not None:
                    addr, ts = _event(offer, f"offers[{t}]", c.addr_width, c.ts_width)
                    taken.append((t, offer))
                    if addr >= c.n:
                        self._drop()
                        self._s1 = (0, 0, True, ts)
                    else:
                        start = int(self._ptr[addr])
                        self._s1 = (start, int(self._ptr[addr + 1]) - start, False, ts)
        return {"taken": taken, "transfers": transfers, **trace}


class AerDecoderGateware(Gateware):
    """Gateware of :class:`AerDecoder` with ``mode="spikes"`` (ports as in its Members)."""

    def elaborate(self, platform):
        m = Module()
        p = self.params
        m.d.comb += self.i.ready.eq(1)
        addr = self.i.payload.addr
        in_range = addr < p.n if p.n < 1 << p.addr_width else C(1, 1)
        hit = Signal(p.n, name="hit")  # one-hot of the event taken this cycle
        with m.If(self.i.valid & in_range):
            m.d.comb += hit.bit_select(addr[: max(1, bits_for(p.n - 1))], 1).eq(1)
        accumulator = Signal(p.n, name="accumulator")
        total = accumulator | hit
        m.d.sync += accumulator.eq(Mux(self.strobe, 0, total))
        with m.If(self.strobe):
            m.d.sync += self.spikes.eq(total)
        bad = self.i.valid & ~in_range
        with m.If(bad):
            m.d.sync += self.range_error.eq(1)
        saturating_increment(m, self.dropped, bad)
        return m


class AerRowDecoderGateware(Gateware):
    """Gateware of :class:`AerDecoder` with ``mode="rows"`` (ports as in its Members)."""

    def elaborate(self, platform):
        m = Module()
        p = self.params
        csr, layout = p.csr, p.index_layout
        k = len(csr.target)
        starts, counts = csr.ptr[:-1].tolist(), np.diff(csr.ptr).tolist()
        index_init = [{"start": s, "count": n} for s, n in zip(starts, counts, strict=True)]
        syn_layout = synapse_layout(p.target_width, p.weight_bits)
        syn_init = [
            {"target": t, "weight": w}
            for t, w in zip(csr.target.tolist(), csr.weight.tolist(), strict=True)
        ]
        m.submodules.index = index = Memory(shape=layout, depth=max(2, p.n), init=index_init)
        m.submodules.synapses = synapses = Memory(shape=syn_layout, depth=max(2, k), init=syn_init)
        index_rd, syn_rd = index.read_port(), synapses.read_port()

        # stage 1: the index read (the read port's data register is the stage's register)
        v1, bad1 = Signal(name="v1"), Signal(name="bad1")
        ts1 = Signal(p.ts_width, name="ts1") if p.ts_width else None
        # stage 2: the pointer walking through the row
        ptr = Signal(range(max(2, k)), name="ptr")
        left = Signal(layout["count"].shape, name="left")
        last2 = Signal(name="last2")  # left == 1
        ts2 = Signal(p.ts_width, name="ts2") if p.ts_width else None
        # stage 3: the synapse read, whose data register drives o.payload
        v3 = self.o.valid

        adv3 = ~v3 | self.o.ready
        issue = (left != 0) & adv3
        free2 = (left == 0) | (issue & last2)
        entry = index_rd.data
        empty1 = (entry.count == 0) | bad1  # an empty row leaves stage 1 at once
        move1 = v1 & ~empty1 & free2
        m.d.comb += self.i.ready.eq(~v1 | empty1 | free2)

        addr = self.i.payload.addr
        m.d.comb += [index_rd.addr.eq(addr), index_rd.en.eq(self.i.ready)]
        bad = addr >= p.n if p.n < 1 << p.addr_width else C(0, 1)
        with m.If(self.i.ready):
            m.d.sync += [v1.eq(self.i.valid), bad1.eq(bad)]
            if ts1 is not None:
                m.d.sync += ts1.eq(self.i.payload.ts)
        dropping = self.i.valid & self.i.ready & bad
        with m.If(dropping):
            m.d.sync += self.range_error.eq(1)
        saturating_increment(m, self.dropped, dropping)

        with m.If(move1):
            m.d.sync += [ptr.eq(entry.start), left.eq(entry.count), last2.eq(entry.count == 1)]
            if ts2 is not None:
                m.d.sync += ts2.eq(ts1)
        with m.Elif(issue):
            m.d.sync += [ptr.eq(ptr + 1), left.eq(left - 1), last2.eq(left == 2)]

        m.d.comb += [syn_rd.addr.eq(ptr), syn_rd.en.eq(adv3)]
        m.d.comb += [
            self.o.payload.target.eq(syn_rd.data.target),
            self.o.payload.weight.eq(syn_rd.data.weight),
        ]
        with m.If(adv3):
            m.d.sync += v3.eq(left != 0)
            if ts2 is not None:
                m.d.sync += self.o.payload.ts.eq(ts2)
        return m


@hookimpl
def neurogate_register_components():
    return [AerDecoder]
