"""``sparse``: a synapse layer with a connection list (CSR) in block RAM, event-driven.

The same layer as ``dense`` (same ports, timestep phases, readout rule, flags and model
contract: see :mod:`neurogate.plugins.synapses.dense`) for a connectivity given as a list of
``connections``, rows ``(source, target, weight)``, instead of a full matrix: memory and time
grow with the number of connections, not with ``n_in * n_out``. For each step ``t``::

    current_t[j] = readout( sum over connections (i, j, w) of spikes_t[i] * w )

A ``(source, target)`` pair appears at most once (so ``sum_width`` bounds the sums exactly as
in ``dense``); a source may have no connection at all.

Memory (compressed sparse rows). The connections are sorted by source (stably). The *row
memory* holds, per source ``i``, the ``start`` and ``end`` of its connections; the
*connection memory* holds, per connection, its ``target`` and ``weight``, both initialised in
the bitstream (iCE40 EBR with ``memory="ebr"``, ECP5 block RAM with ``"bram"``). The
accumulator memory has one accumulator per target.

Timing. An accepted event looks up its row in the cycle after it is taken, then issues one
connection per cycle; the next event is taken with the last connection, so an event with
``c >= 1`` connections takes ``c`` cycles and an event with no connection 2 (one connection:
2 as well). From the connection memory to the accumulators are two more registered cycles,
then the accumulator's read, add and write-back as in ``dense``. The flush takes
:attr:`SparseSynapse.flush_cycles` ``= n_out + 6`` cycles from the strobe to ``done`` when no
event is in flight.

Connection writes. ``w_addr`` / ``w_data`` / ``w_we`` rewrite one connection (``target`` in
the low ``bits_for(n_out - 1)`` bits of ``w_data``, ``weight`` above them:
:meth:`SparseSynapse.pack_connection`) while ``busy`` is low; the row memory (which sources the
connections belong to) is fixed. A write while ``busy`` is ignored, and so is a write whose
target is ``n_out`` or more. :meth:`SparseSynapseModel.write_connection` does the same to the
model. Connection ``c`` is the ``c``-th of :attr:`SparseSynapse.csr`'s order.

>>> import neurogate as ng
>>> syn = ng.component("sparse", n_in=3, n_out=4, connections=[[0, 1, 5], [2, 1, -3], [0, 3, 7]])
>>> syn.csr.ptr.tolist(), syn.csr.target.tolist(), syn.csr.weight.tolist()
([0, 2, 2, 3], [1, 3, 1], [5, 7, -3])
>>> syn.model().step([1, 1, 1]).tolist()
[0, 2, 0, 7]
"""

from __future__ import annotations

import itertools
import warnings
from typing import NamedTuple

import numpy as np
from amaranth.hdl import C, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data
from amaranth.lib.memory import Memory

from neurogate.core.component import Choice, Component, Gateware, Param, Port, StreamPort, bits_for
from neurogate.core.fixed import FixedFormat
from neurogate.core.hookspecs import hookimpl
from neurogate.gateware.aer import event_layout
from neurogate.gateware.neuron_core import MEMORIES, memory_blocks
from neurogate.plugins.synapses._common import (
    EventSynapseModel,
    IntArray,
    acc_bits_param,
    accumulate_and_flush,
    count_events,
    int_array_rule,
    max_events_param,
    overflow_param,
    size_param,
    strict_param,
    sum_width,
    weight_bits_param,
)

__all__ = [
    "CSR",
    "SparseSynapse",
    "SparseSynapseGateware",
    "SparseSynapseModel",
    "connections_from_matrix",
]

#: Most connections of one layer.
MAX_CONNECTIONS = 1 << 20


class CSR(NamedTuple):
    """Connections in compressed sparse rows: source ``i``'s are ``ptr[i] .. ptr[i + 1] - 1``."""

    ptr: np.ndarray
    target: np.ndarray
    weight: np.ndarray


def connections_from_matrix(weights) -> np.ndarray:
    """Return the ``(k, 3)`` connections ``(source, target, weight)`` of a matrix's nonzeros.

    >>> connections_from_matrix([[0, 4], [-2, 0]]).tolist()
    [[0, 1, 4], [1, 0, -2]]
    """
    w = np.asarray(weights)
    if w.dtype.kind not in "iu" or w.ndim != 2:
        raise ValueError(f"weights must be a 2-D integer array, not {w.dtype} {w.shape}")
    i, j = np.nonzero(w)
    return np.stack([i, j, w[i, j]], axis=1).astype(np.int64)


class SparseSynapse(Component):
    """A synapse layer with a connection list in block RAM (see the module docstring).

    Members
    -------
    aer : in, stream of ``event_layout(bits_for(n_in - 1))``
        Address-events of the source population: ``addr`` is the source neuron.
    flush : in, 1
        Strobe: end the step, read out and clear the accumulators (ignored during a flush).
    busy : out, 1
        High while an event is in the pipeline or a flush runs.
    done : out, 1
        High for one cycle after the last readout write.
    out_addr : out, ``bits_for(n_out - 1)``
        Target neuron of the readout write.
    out_data : out, signed ``acc_bits``
        Its current (the step's sum, saturated or wrapped to ``acc_bits``).
    out_we : out, 1
        Write strobe of the readout (one per target per flush).
    w_addr : in, ``bits_for(k - 1)``
        Connection to rewrite (its index in :attr:`csr`).
    w_data : in, ``bits_for(n_out - 1) + weight_bits``
        Its target (low bits) and weight (:meth:`pack_connection`).
    w_we : in, 1
        Write enable of the connection memory (ignored while ``busy``).
    overrun : out, 1
        Sticky: a step had more than ``max_events`` events (its sums may have wrapped).
    bad_addr : out, 1
        Sticky: an event addressed a source ``>= n_in`` (it was dropped).
    """

    name = "sparse"
    kind = "synapse"

    connections = Param(
        None,
        int_array_rule(2, "(k, 3) of (source, target, weight)"),
        "connections, rows (source, target, weight); None: no connection",
    )
    n_in = size_param("source")
    n_out = size_param("target")
    weight_bits = weight_bits_param()
    acc_bits = acc_bits_param()
    overflow = overflow_param()
    max_events = max_events_param()
    memory = Param(
        "ebr", Choice("ebr", "bram"), "memory the layer is built for: 'ebr' (UP5K), 'bram' (ECP5)"
    )
    strict = strict_param()

    def validate(self):
        values = self._values
        conns = values["connections"]
        if conns is None:
            conns = IntArray(np.zeros((0, 3), dtype=np.int64))
        arr = conns.array
        if arr.shape[1] != 3:
            raise ValueError(
                f"sparse.connections must have 3 columns (source, target, weight), "
                f"not {arr.shape[1]}"
            )
        if arr.shape[0] > MAX_CONNECTIONS:
            raise ValueError(
                f"sparse.connections must hold at most {MAX_CONNECTIONS} connections, "
                f"not {arr.shape[0]}"
            )
        for column, key, what in ((0, "n_in", "source"), (1, "n_out", "target")):
            if values[key] is None:
                values[key] = int(arr[:, column].max()) + 1 if len(arr) else 1
                if values[key] > 65536:
                    raise ValueError(
                        f"sparse.connections {what} must be in 0..65535, not {values[key] - 1}"
                    )
            top = values[key]
            bad = np.flatnonzero((arr[:, column] < 0) | (arr[:, column] >= top))
            if bad.size:
                c = int(bad[0])
                raise ValueError(
                    f"sparse.connections {what} must be in 0..{key} - 1 = 0..{top - 1}, "
                    f"not {int(arr[c, column])} (connection {c})"
                )
        if len(arr):
            pairs = arr[:, 0] * values["n_out"] + arr[:, 1]
            order = np.argsort(pairs, kind="stable")
            same = np.flatnonzero(np.diff(pairs[order]) == 0)
            if same.size:
                first, second = sorted(int(x) for x in order[same[0] : same[0] + 2])
                raise ValueError(
                    f"sparse.connections must not repeat a (source, target) pair, not "
                    f"({int(arr[first, 0])}, {int(arr[first, 1])}) (connections {first} and "
                    f"{second})"
                )
        fmt = self.weight_format
        bad = np.flatnonzero((arr[:, 2] < fmt.min) | (arr[:, 2] > fmt.max))
        if bad.size:
            c = int(bad[0])
            if values["strict"]:
                raise ValueError(
                    f"sparse.connections weight must fit {fmt.describe()}, not "
                    f"{int(arr[c, 2])} (connection {c})"
                )
            warnings.warn(
                f"sparse.connections: {bad.size} weight(s) outside {fmt.describe()} clipped "
                f"(the first: {int(arr[c, 2])}, connection {c})",
                UserWarning,
                stacklevel=3,
            )
            arr = arr.copy()
            arr[:, 2] = np.clip(arr[:, 2], fmt.min, fmt.max)
            values["connections"] = IntArray(arr)
        if values["max_events"] is None:
            values["max_events"] = values["n_in"]

    # -- derived sizes ----------------------------------------------------------------------
    @property
    def weight_format(self) -> FixedFormat:
        """The format of a weight: signed ``weight_bits``."""
        return FixedFormat(self.weight_bits, 0, True)

    @property
    def csr(self) -> CSR:
        """The connections sorted by source (stably): row pointers, targets, weights."""
        arr = (
            self.connections.array
            if self.connections is not None
            else np.zeros((0, 3), dtype=np.int64)
        )
        order = np.argsort(arr[:, 0], kind="stable")
        ptr = np.zeros(self.n_in + 1, dtype=np.int64)
        np.cumsum(np.bincount(arr[:, 0], minlength=self.n_in), out=ptr[1:])
        return CSR(ptr, arr[order, 1].copy(), arr[order, 2].copy())

    @property
    def n_connections(self) -> int:
        """The number of connections ``k``."""
        return 0 if self.connections is None else self.connections.shape[0]

    @property
    def sum_width(self) -> int:
        """Bits of an accumulator: exact for ``max_events`` events of any weights."""
        return sum_width(self.weight_bits, self.max_events)

    @property
    def in_addr_width(self) -> int:
        """Bits of a source address (the AER event's ``addr``)."""
        return bits_for(self.n_in - 1)

    @property
    def target_width(self) -> int:
        """Bits of a target index in the connection memory."""
        return bits_for(self.n_out - 1)

    @property
    def pointer_width(self) -> int:
        """Bits of a row pointer (``0 .. k``)."""
        return bits_for(self.n_connections)

    @property
    def flush_cycles(self) -> int:
        """Cycles from the ``flush`` strobe to ``done``, both included, with no event in flight."""
        return self.n_out + 6

    @property
    def out_port(self) -> Port:
        """The readout value handed to the target population (``out_data``'s port)."""
        return Port("out", self.acc_bits, True, "readout current")

    def pack_connection(self, target: int, weight: int) -> int:
        """Return the ``w_data`` word of a connection to ``target`` with ``weight``."""
        if not 0 <= target < self.n_out:
            raise ValueError(
                f"sparse connection target must be in 0..{self.n_out - 1}, not {target!r}"
            )
        weight = self.weight_format.check("sparse connection weight", weight)
        tb, wb = self.target_width, self.weight_bits
        return int(target) | ((weight & ((1 << wb) - 1)) << tb)

    def unpack_connection(self, word: int) -> tuple[int, int]:
        """Return ``(target, weight)`` of a ``w_data`` word."""
        tb, wb = self.target_width, self.weight_bits
        weight = FixedFormat(wb, 0, True, "wrap").fit_int((word >> tb) & ((1 << wb) - 1))
        return word & ((1 << tb) - 1), weight

    def blocks(self) -> dict[str, int]:
        """Return the memory blocks the layer takes, ``{memory: blocks}``: rows,
        connections and accumulators, each counted in the fewest blocks of one configuration.
        """
        k, memory = self.n_connections, self.memory
        rows = memory_blocks(memory, self.n_in, 2 * self.pointer_width)
        conns = memory_blocks(memory, k, self.target_width + self.weight_bits) if k else 0
        return {memory: rows + conns + memory_blocks(memory, self.n_out, self.sum_width)}

    def check_capacity(self) -> None:
        """Raise ``ValueError`` unless :meth:`blocks` fit the device of :attr:`memory`."""
        used = self.blocks()[self.memory]
        description, budget = MEMORIES[self.memory][:2]
        if used > budget:
            raise ValueError(
                f"sparse needs {used} blocks of {description} for {self.n_in} rows, "
                f"{self.n_connections} connections and {self.n_out} accumulators, more than "
                f"its {budget}"
            )

    # -- the contract -------------------------------------------------------------------------
    @property
    def ports(self):
        return {
            "aer": StreamPort("in", event_layout(self.in_addr_width), "source address-events"),
            "flush": Port("in", 1, False, "strobe: read out and clear the step's currents"),
            "busy": Port("out", 1, False, "an event is in the pipeline or a flush runs"),
            "done": Port("out", 1, False, "one cycle after the last readout write"),
            "out_addr": Port("out", bits_for(self.n_out - 1), False, "readout target"),
            "out_data": self.out_port,
            "out_we": Port("out", 1, False, "readout write strobe"),
            "w_addr": Port(
                "in", bits_for(max(1, self.n_connections) - 1), False, "connection to rewrite"
            ),
            "w_data": Port(
                "in", self.target_width + self.weight_bits, False, "target (low bits), weight"
            ),
            "w_we": Port("in", 1, False, "connection write enable (ignored while busy)"),
            "overrun": Port("out", 1, False, "sticky: a step had more than max_events events"),
            "bad_addr": Port("out", 1, False, "sticky: an event addressed a source >= n_in"),
        }

    def model(self, n=1):
        if n != 1:
            raise ValueError(f"sparse models one layer: n must be 1, not {n!r}")
        return SparseSynapseModel(self)

    def create(self):
        """Return the gateware (``ValueError`` if the memories do not fit :attr:`memory`)."""
        self.check_capacity()
        return SparseSynapseGateware(self)


class SparseSynapseModel(EventSynapseModel):
    """Bit-true model of a :class:`SparseSynapse`, one call of :meth:`step` per timestep.

    It holds the connections in :attr:`SparseSynapse.csr` order (:meth:`write_connection`
    rewrites one as ``w_*`` does) and the sticky flags.
    """

    def _load(self) -> None:
        csr = self._syn.csr
        self._ptr = csr.ptr
        self._target = csr.target.copy()
        self._weight = csr.weight.copy()

    @property
    def csr(self) -> CSR:
        """The current connections (copies)."""
        return CSR(self._ptr.copy(), self._target.copy(), self._weight.copy())

    def write_connection(self, index: int, word: int) -> None:
        """Rewrite connection ``index`` from a ``w_data`` word, as ``w_*`` does."""
        syn = self._syn
        if not 0 <= index < syn.n_connections:
            raise ValueError(
                f"sparse connection index must be in 0..{syn.n_connections - 1}, not {index!r}"
            )
        target, weight = syn.unpack_connection(int(word))
        if target < syn.n_out:  # the gateware ignores a write to a missing target
            self._target[index], self._weight[index] = target, weight
        self._cache.clear()

    def _sums(self, counts: np.ndarray) -> tuple[np.ndarray, int]:
        idx = np.flatnonzero(counts)
        times = counts[idx].astype(np.int64)
        total = int(times.sum())
        starts, ends = self._ptr[idx], self._ptr[idx + 1]
        lengths = ends - starts
        n = int(lengths.sum())
        n_out = self._syn.n_out
        if n == 0:
            return np.zeros(n_out, dtype=np.int64), total
        # the connection indices of the selected rows, concatenated
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
        conn = np.arange(n) + offsets
        once = total == idx.size  # every source at most once (as from a neuron core)
        if total * (1 << (self._syn.weight_bits - 1)) < 1 << 53:  # exact in float64
            if "float64" not in self._cache:
                self._cache["float64"] = self._weight.astype(np.float64)
            weights = self._cache["float64"][conn]
            if not once:
                weights *= np.repeat(times, lengths)
            sums = np.bincount(self._target[conn], weights=weights, minlength=n_out)
            return sums.astype(np.int64), total
        sums = np.zeros(n_out, dtype=np.int64)
        weights = self._weight[conn] * np.repeat(times, lengths)
        np.add.at(sums, self._target[conn], weights)  # int64: exact modulo 2**64
        return sums, total


class SparseSynapseGateware(Gateware):
    """Gateware of :class:`SparseSynapse` (ports as in its Members section).

    Front end: the accepted event's row (start, end) comes out of the row memory in the next
    cycle and issues its first connection at once; later connections follow one per cycle.
    The connection memory's output (target, weight) is registered and issued to the shared
    accumulator pipeline (:func:`~neurogate.plugins.synapses._common.accumulate_and_flush`),
    with forwarding from both add cycles (targets come in any order).
    """

    def elaborate(self, platform):
        m = Module()
        p = self.params
        n_in, k = p.n_in, p.n_connections
        csr = p.csr
        pw, tw, wb = p.pointer_width, p.target_width, p.weight_bits
        row_layout = data.StructLayout({"start": unsigned(pw), "end": unsigned(pw)})
        conn_layout = data.StructLayout({"target": unsigned(tw), "weight": signed(wb)})

        ptrs = csr.ptr.tolist()
        rows = [{"start": s, "end": e} for s, e in itertools.pairwise(ptrs)]
        conns = [
            {"target": t, "weight": w}
            for t, w in zip(csr.target.tolist(), csr.weight.tolist(), strict=True)
        ]
        row_mem = Memory(shape=row_layout, depth=max(2, n_in), init=rows)
        conn_mem = Memory(shape=conn_layout, depth=max(2, k), init=conns)
        m.submodules.row_mem, m.submodules.conn_mem = row_mem, conn_mem
        row_rd = row_mem.read_port()
        conn_rd, conn_wr = conn_mem.read_port(), conn_mem.write_port()
        row = row_rd.data

        pending = Signal()  # the row of the event taken last cycle is on row_rd.data
        active = Signal()  # connections p .. end - 1 are left to issue
        ptr, end = Signal(range(max(2, k + 1))), Signal(range(max(2, k + 1)))
        last = ptr + 1 == end
        s1_valid = Signal()  # the connection memory shows the issued connection
        r_valid, r_target, r_weight = Signal(), Signal(tw), Signal(signed(wb))
        weight = data.ArrayLayout(signed(wb), 1)(Signal(wb))
        back = accumulate_and_flush(
            m,
            self,
            words=p.n_out,
            lanes=1,
            width=p.sum_width,
            n_out=p.n_out,
            acc_bits=p.acc_bits,
            overflow=p.overflow,
            forward=2,
            issue_valid=r_valid,
            issue_addr=r_target,
            weight=weight,
            front_busy=pending | active | s1_valid | r_valid,
        )

        addr = self.aer.payload.addr
        ready = back.accepting & ~pending & (~active | last)
        accept = self.aer.valid & ready
        good = addr < n_in if n_in < 1 << p.in_addr_width else C(1, 1)
        m.d.comb += [self.aer.ready.eq(ready), row_rd.addr.eq(addr)]
        m.d.sync += pending.eq(accept & good)
        with m.If(accept & ~good):
            m.d.sync += self.bad_addr.eq(1)
        count_events(m, self, accept & good, p.max_events, back.sweep_start)

        first = pending & (row.start != row.end)
        # idle, ``ptr`` may be one past the last connection: read 0 then, never out of range
        # (an out-of-range read is undefined in Verilog; Icarus showed it as x downstream)
        m.d.comb += conn_rd.addr.eq(Mux(pending, row.start, Mux(active, ptr, 0)))
        with m.If(pending):
            m.d.sync += [ptr.eq(row.start + 1), end.eq(row.end), active.eq(row.start + 1 < row.end)]
        with m.Elif(active):
            m.d.sync += [ptr.eq(ptr + 1), active.eq(~last)]
        m.d.sync += [
            s1_valid.eq(first | active),
            r_valid.eq(s1_valid),
            r_target.eq(conn_rd.data.target),
            r_weight.eq(conn_rd.data.weight),
            weight[0].eq(r_weight),  # the weight a cycle after its target, as the pipeline wants
        ]

        # connection writes: ignored while busy and for a target that does not exist
        target = self.w_data[:tw]
        exists = target < p.n_out if p.n_out < 1 << tw else C(1, 1)
        m.d.comb += [
            conn_wr.addr.eq(self.w_addr),
            conn_wr.data.eq(self.w_data),
            conn_wr.en.eq(self.w_we & ~back.busy & exists if k else 0),
        ]
        return m


@hookimpl
def neurogate_register_components():
    return [SparseSynapse]
