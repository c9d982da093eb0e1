"""``dense``: an all-to-all synapse layer, weights in block RAM, event-driven accumulation.

The layer connects a source population of ``n_in`` neurons to a target population of ``n_out``
neurons through the integer weight matrix ``weights`` (shape ``(n_in, n_out)``, signed
``weight_bits``-bit). It sits between the source's AER output (a
:class:`~neurogate.gateware.neuron_core.NeuronCore`'s ``aer`` stream) and the target's input
memory (a core's ``in_addr`` / ``in_data`` / ``in_we``).

Timestep (two phases, repeated)::

    accumulate   every event i on the `aer` stream adds row i of the weights to the
                 n_out accumulators (exactly: in sum_width bits, see below)
    flush        a `flush` strobe ends the step: the accumulators are read out in target
                 order 0 .. n_out - 1, each as one (out_addr, out_data) write strobed by
                 out_we, and cleared; `done` follows the last write

so for each step ``t``: ``current_t = readout(spikes_t @ weights)``, where ``spikes_t`` counts
the events of each source in the step (0 or 1 from a neuron core). In a network, the source
core's step ``t`` produces the events (its ``aer`` stream feeds this layer while it runs); once
the core is ``done`` and its ``aer`` stream is empty, ``flush`` moves the currents into the
target core's input memory (the target core must not be ``busy``: a core ignores input writes
while busy), and the target's step ``t + 1`` uses them. A spike therefore reaches the next
population one timestep later (a one-step synaptic delay).

Readout. The accumulator of each target holds ``sum_width = weight_bits +
bit_length(max_events - 1)`` bits, enough for the exact sum of ``max_events`` events (default
``n_in``: every source once per step). The readout value ``out_data`` (signed ``acc_bits``) is
that sum saturated (``overflow="saturate"``, the default) or wrapped (``"wrap"``) to
``acc_bits``, once, at the end of the step; with ``acc_bits >= sum_width`` it is the exact sum.
Because the sum is exact until the readout, the order the events arrive in does not matter. A
step with more than ``max_events`` events may leave ``sum_width`` bits: the accumulator then
wraps (two's complement, so the result is still independent of the order) and the sticky
``overrun`` flag rises. Model and gateware agree in every case.

Memory. A weight memory word holds ``lanes`` weights (default: as many as fit 16 bits, at most
``n_out``), so a row takes ``words_per_row = ceil(n_out / lanes)`` words and the weight memory
``n_in * words_per_row`` words of ``lanes * weight_bits`` bits (initialised with ``weights`` in
the bitstream with ``memory="ebr"`` (iCE40 UP5K EBR) or ``"bram"`` (ECP5 block RAM)). With
``memory="spram"`` the weights are in UP5K ``SB_SPRAM256KA`` blocks (16384 x 16 bits each, up
to 4: a 256 x 256 layer of 8-bit weights takes 2), which have no initial contents: write every
word (:meth:`DenseSynapse.packed_words`) through ``w_*`` after configuration; the model starts
with ``weights`` as if that had been done. The accumulator memory (block RAM, EBR with
``"spram"``) has ``words_per_row`` words of ``lanes`` accumulators. Lane ``l`` of word ``k`` of
row ``i`` is weight ``(i, k * lanes + l)``; lanes past ``n_out`` in the last word are padding
(never read out). :meth:`DenseSynapse.blocks` counts the blocks; :meth:`DenseSynapse.create`
raises ``ValueError`` when they do not fit the device (the model has no such limit).

Timing. An event takes ``words_per_row`` cycles of the accumulation pipeline (``lanes``
weights per clock); events follow each other without a gap, so a step with ``E`` events
accumulates in ``E * words_per_row + 3`` cycles. ``aer.ready`` depends on registers only; it is
low while an event's row is issued but for its last word (so the next event follows without a
gap), and from the cycle after the ``flush`` strobe until ``done``. A flush
waits for the events in flight and then takes ``n_out`` cycles: from the strobe to ``done``
(both included) :attr:`DenseSynapse.flush_cycles` ``= n_out + 6`` cycles when no event is in
flight. ``busy`` is high while an event is in the pipeline and from the cycle after the strobe
until the last write; ``done`` is high for one cycle after the last write (``busy`` low). An
event transferred in the cycle ``flush`` is strobed belongs to the step that ends; a strobe while
a flush runs is ignored.

Weight writes. ``w_addr`` / ``w_data`` / ``w_we`` write one weight word (``lanes`` weights,
lane ``l`` in bits ``l * weight_bits ..``; :meth:`DenseSynapse.pack_word`) while ``busy`` is low;
a write while ``busy`` is ignored. A write takes effect for the events accepted after it.
:meth:`DenseSynapseModel.write_word` does the same to the model.

Bad events. An event whose address is ``n_in`` or more (possible when ``n_in`` is not a power of
two) is accepted and dropped, and the sticky ``bad_addr`` flag rises. Both flags clear only on
the ``sync`` reset, which clears the sequencer but not the memories (the accumulators keep their
sums: flush after a reset to start clean).

>>> import numpy as np
>>> import neurogate as ng
>>> syn = ng.component("dense", weights=[[1, -2, 3], [100, 100, -100]], acc_bits=8)
>>> syn.n_in, syn.n_out, syn.sum_width, syn.lanes, syn.words_per_row
(2, 3, 9, 2, 2)
>>> model = syn.model()
>>> model.step([1, 1]).tolist()       # 1 + 100, -2 + 100, 3 - 100
[101, 98, -97]
>>> model.step([0, 2]).tolist()       # 200 and -200 saturate to 8 bits
[127, 127, -128]
>>> model.run(np.array([[1, 0], [0, 0]])).tolist()
[[1, -2, 3], [0, 0, 0]]
"""

from __future__ import annotations

import math

import numpy as np
from amaranth.hdl import C, Cat, Module, Mux, Signal, signed, unsigned
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
from neurogate.gateware.spram import SPRAM, SPRAM_DEPTH
from neurogate.plugins.synapses._common import (
    EventSynapseModel,
    acc_bits_param,
    accumulate_and_flush,
    count_events,
    fit_weights,
    index,
    int_array_rule,
    max_events_param,
    overflow_param,
    size_param,
    strict_param,
    sum_width,
    weight_bits_param,
)

__all__ = ["DenseSynapse", "DenseSynapseGateware", "DenseSynapseModel"]

#: Bits of a weight memory word the default ``lanes`` fills (an iCE40 EBR is 256 x 16).
WORD_BITS = 16
#: Words of one iCE40 SPRAM block (16 bits each) and the bits of its address.
SPRAM_ADDR_BITS = 14  # SPRAM_DEPTH = 2**14 words


class DenseSynapse(Component):
    """An all-to-all synapse layer with weights in block RAM (see the module docstring).

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
    w_addr : in, ``bits_for(n_in * words_per_row - 1)``
        Weight word to write (``i * words_per_row + k``).
    w_data : in, ``lanes * weight_bits``
        The weight word (:meth:`pack_word`).
    w_we : in, 1
        Write enable of the weight memory (ignored while ``busy``).
    overrun : out, 1
        Sticky: a step had more than ``max_events`` events (its sums may have wrapped).
    bad_addr : out, 1
        Sticky: an event addressed a source ``>= n_in`` (it was dropped).
    """

    name = "dense"
    kind = "synapse"

    weights = Param(
        None,
        int_array_rule(2, "(n_in, n_out)"),
        "integer weight matrix (n_in, n_out); None: all zero (write them through w_*)",
    )
    n_in = size_param("source")
    n_out = size_param("target")
    weight_bits = weight_bits_param()
    acc_bits = acc_bits_param()
    overflow = overflow_param()
    max_events = max_events_param()
    lanes = Param(
        None,
        Optional(Int(1, 64)),
        "weights per memory word and per clock (default: as many as fit 16 bits)",
    )
    memory = Param(
        "ebr",
        Choice(*MEMORIES),
        "weight memory: 'ebr' (UP5K), 'bram' (ECP5-85F), 'spram' (UP5K SPRAM, written at run time)",
    )
    strict = strict_param()

    def validate(self):
        values = self._values
        weights = values["weights"]
        if weights is not None:
            shape = weights.shape
            given = (values["n_in"], values["n_out"])
            expected = tuple(g if g is not None else s for g, s in zip(given, shape, strict=True))
            if shape != expected:
                raise ValueError(
                    f"dense.weights must have shape (n_in, n_out) = {expected}, not {shape}"
                )
            for key, size in zip(("n_in", "n_out"), shape, strict=True):
                if not 1 <= size <= 65536:
                    raise ValueError(
                        f"dense.weights must have 1..65536 {key} (shape {shape}), not {size}"
                    )
            values["n_in"], values["n_out"] = shape
            fit_weights(self, "weights", self.weight_format, values["strict"], "(i, j)")
        else:
            values["n_in"] = values["n_in"] or 1
            values["n_out"] = values["n_out"] or 1
        if values["max_events"] is None:
            values["max_events"] = values["n_in"]
        n_out = values["n_out"]
        if values["lanes"] is None:
            values["lanes"] = max(1, min(n_out, WORD_BITS // values["weight_bits"]))
        elif values["lanes"] > n_out:
            raise ValueError(
                f"dense.lanes must be an int in 1..n_out = {n_out}, not {values['lanes']}"
            )

    # -- derived sizes ----------------------------------------------------------------------
    @property
    def weight_format(self) -> FixedFormat:
        """The format of a weight: signed ``weight_bits``."""
        return FixedFormat(self.weight_bits, 0, True)

    @property
    def sum_width(self) -> int:
        """Bits of an accumulator: exact for ``max_events`` events of any weights."""
        return sum_width(self.weight_bits, self.max_events)

    @property
    def words_per_row(self) -> int:
        """Weight memory words per source neuron, ``ceil(n_out / lanes)``."""
        return math.ceil(self.n_out / self.lanes)

    @property
    def in_addr_width(self) -> int:
        """Bits of a source address (the AER event's ``addr``)."""
        return bits_for(self.n_in - 1)

    @property
    def flush_cycles(self) -> int:
        """Cycles from the ``flush`` strobe to ``done``, both included, with no event in flight."""
        return self.n_out + 6

    @property
    def out_port(self) -> Port:
        """The readout value handed to the target population (``out_data``'s port)."""
        return Port("out", self.acc_bits, True, "readout current")

    def blocks(self) -> dict[str, int]:
        """Return the memory blocks the layer takes, ``{memory: blocks}``.

        The weights are in ``memory``; the accumulators in the same block RAM, or in EBR with
        ``"spram"``. Each is counted in the fewest blocks of one configuration (Yosys may take
        more, see :meth:`NeuronCore.blocks <neurogate.gateware.neuron_core.NeuronCore.blocks>`).
        """
        rows = self.words_per_row
        weights = memory_blocks(self.memory, self.n_in * rows, self.lanes * self.weight_bits)
        acc_memory = "ebr" if self.memory == "spram" else self.memory
        accumulators = memory_blocks(acc_memory, rows, self.lanes * self.sum_width)
        if self.memory == "spram":
            return {"spram": weights, "ebr": accumulators}
        return {self.memory: weights + accumulators}

    def weight_matrix(self) -> np.ndarray:
        """Return the weights as an ``(n_in, n_out)`` ``int64`` array (zeros if ``None``)."""
        if self.weights is None:
            return np.zeros((self.n_in, self.n_out), dtype=np.int64)
        return self.weights.array.copy()

    def pack_word(self, lanes) -> int:
        """Return the ``w_data`` word holding the weights ``lanes`` (``lanes`` ints; 0-padded)."""
        values = list(lanes)
        if len(values) > self.lanes:
            raise ValueError(f"dense word holds {self.lanes} weights, not {len(values)}")
        fmt, wb = self.weight_format, self.weight_bits
        word = 0
        for lane, value in enumerate(values):
            word |= (fmt.check(f"dense weight (lane {lane})", value) & ((1 << wb) - 1)) << (
                lane * wb
            )
        return word

    def unpack_word(self, word: int) -> list[int]:
        """Return the ``lanes`` signed weights of a ``w_data`` word."""
        wb = self.weight_bits
        fmt = FixedFormat(wb, 0, True, "wrap")
        return [fmt.fit_int((word >> (lane * wb)) & ((1 << wb) - 1)) for lane in range(self.lanes)]

    def packed_words(self, weights=None) -> list[int]:
        """Return the weight memory's words for ``weights`` (default: this layer's), row-major."""
        w = self.weight_matrix() if weights is None else np.asarray(weights, dtype=np.int64)
        lanes, wb, r = self.lanes, self.weight_bits, self.words_per_row
        padded = np.zeros((self.n_in, r * lanes), dtype=np.int64)
        padded[:, : self.n_out] = w
        raw = (padded & ((1 << wb) - 1)).reshape(self.n_in * r, lanes).astype(object)
        words = np.zeros(self.n_in * r, dtype=object)
        for lane in range(lanes):
            words += raw[:, lane] << (lane * wb)
        return words.tolist()

    # -- the contract -------------------------------------------------------------------------
    @property
    def ports(self):
        wb, lanes = self.weight_bits, self.lanes
        return {
            "aer": StreamPort("in", event_layout(self.in_addr_width), "source address-events"),
            "flush": Port("in", 1, False, "strobe: read out and clear the step's currents"),
            "busy": Port("out", 1, False, "an event is in the pipeline or a flush runs"),
            "done": Port("out", 1, False, "one cycle after the last readout write"),
            "out_addr": Port("out", bits_for(self.n_out - 1), False, "readout target"),
            "out_data": self.out_port,
            "out_we": Port("out", 1, False, "readout write strobe"),
            "w_addr": Port(
                "in", bits_for(self.n_in * self.words_per_row - 1), False, "weight word address"
            ),
            "w_data": Port("in", lanes * wb, False, f"{lanes} weights of {wb} bits"),
            "w_we": Port("in", 1, False, "weight write enable (ignored while busy)"),
            "overrun": Port("out", 1, False, "sticky: a step had more than max_events events"),
            "bad_addr": Port("out", 1, False, "sticky: an event addressed a source >= n_in"),
        }

    def model(self, n=1):
        if n != 1:
            raise ValueError(f"dense models one layer: n must be 1, not {n!r}")
        return DenseSynapseModel(self)

    def create(self):
        """Return the gateware (``ValueError`` if the memories do not fit :attr:`memory`)."""
        self.check_capacity()
        return DenseSynapseGateware(self)

    def check_capacity(self) -> None:
        """Raise ``ValueError`` unless :meth:`blocks` fit the device of :attr:`memory`.

        The model has no such limit; only the gateware does.
        """
        rows, lanes = self.words_per_row, self.lanes
        for memory, used in self.blocks().items():
            description, budget = MEMORIES[memory][:2]
            if used <= budget:
                continue
            what = (
                f"{self.n_in * rows} weight words of {lanes * self.weight_bits} bits"
                if memory == self.memory
                else ""
            )
            if memory != "spram":
                sums = f"{rows} accumulator words of {lanes * self.sum_width} bits"
                what = f"{what} and {sums}" if what else sums
            raise ValueError(
                f"dense needs {used} blocks of {description} for {what}, more than its {budget}"
            )


class DenseSynapseModel(EventSynapseModel):
    """Bit-true model of a :class:`DenseSynapse`, one call of :meth:`step` per timestep.

    It holds the weights (those of the parameters after :meth:`reset`; :meth:`write_word`
    changes them as ``w_*`` does) and the sticky flags. :meth:`step` and :meth:`run` return
    the readout currents, as the gateware's flush writes them.
    """

    def _load(self) -> None:
        self._w = self._syn.weight_matrix()

    @property
    def weights(self) -> np.ndarray:
        """The current weights, ``(n_in, n_out)`` ``int64`` (a copy)."""
        return self._w.copy()

    def write_word(self, addr: int, word: int) -> None:
        """Write weight word ``addr`` (``i * words_per_row + k``) as ``w_*`` does."""
        syn = self._syn
        if not 0 <= addr < syn.n_in * syn.words_per_row:
            raise ValueError(
                f"dense weight word address must be in 0..{syn.n_in * syn.words_per_row - 1}, "
                f"not {addr!r}"
            )
        i, k = divmod(int(addr), syn.words_per_row)
        for lane, value in enumerate(syn.unpack_word(int(word))):
            j = k * syn.lanes + lane
            if j < syn.n_out:
                self._w[i, j] = value
        self._cache.clear()

    def _sums(self, counts: np.ndarray) -> tuple[np.ndarray, int]:
        """Return the exact sums of one step's rows (int32 or int64) and its event count."""
        idx = np.flatnonzero(counts)
        rows = counts[idx]
        total = int(rows.sum())
        if total == idx.size:  # every source at most once: add the selected rows
            narrow = self._narrow()
            dtype = np.int32 if total * self._max_abs() < 1 << 31 else np.int64
            return np.take(narrow, idx, axis=0).sum(axis=0, dtype=dtype), total
        # repeated events: a weighted sum (int64 wraps modulo 2**64, which the accumulator's
        # low bits do not see)
        return rows.astype(np.int64) @ np.take(self._w, idx, axis=0), total

    def run(self, spikes) -> np.ndarray:
        """Run ``T`` timesteps at once: ``spikes`` ``(T, n_in)`` -> currents ``(T, n_out)``.

        The same as ``T`` calls of :meth:`step`. Sparse input adds the selected rows step by
        step; dense input is one matrix product (exact: in float32 or float64 when every
        partial sum fits the mantissa, else in int64, whose wrap-around the accumulator's low
        bits do not see). The choice changes the speed only.
        """
        counts = self._run_counts(spikes)
        steps, n_in = counts.shape
        n_out = self._syn.n_out
        events = int(np.count_nonzero(counts))
        # rough costs on one core: ~8 us per step + ~1 ns per selected weight for the row
        # gather, ~0.15 ns per weight and step for the matrix product
        if steps * 8e-6 + events * n_out * 1e-9 < steps * n_in * n_out * 1.5e-10:
            return super().run(counts)
        totals = counts.sum(axis=1, dtype=np.int64)
        bound = (int(totals.max()) if steps else 0) * self._max_abs()
        if bound < 1 << 24:
            dtype = np.float32
        elif bound < 1 << 53:
            dtype = np.float64
        else:
            dtype = np.int64
        sums = np.matmul(counts.astype(dtype), self._weights_as(dtype))
        return self._readout(sums.astype(np.int64), totals)

    def _max_abs(self) -> int:
        if "max_abs" not in self._cache:
            self._cache["max_abs"] = int(np.abs(self._w).max()) if self._w.size else 0
        return self._cache["max_abs"]

    def _narrow(self) -> np.ndarray:
        """The weights in the narrowest integer dtype that holds them (less memory to gather)."""
        return self._weights_as(np.int8 if self._syn.weight_bits <= 8 else np.int16)

    def _weights_as(self, dtype) -> np.ndarray:
        key = np.dtype(dtype).name
        if key not in self._cache:
            self._cache[key] = self._w.astype(dtype)
        return self._cache[key]


class DenseSynapseGateware(Gateware):
    """Gateware of :class:`DenseSynapse` (ports as in its Members section).

    The accumulation pipeline has three stages: issue (the weight word's and the accumulator
    word's addresses), read (the memories' outputs, registered) and add-and-write-back. The
    accumulator memory is read two cycles before it is written, so when a row is one or two
    words long an event may read a word the one or two before it have not written yet: the
    sums of those are forwarded (only then; longer rows never revisit a word so soon). The
    flush uses the same three stages to read each accumulator, saturate it into ``out_data``
    and write zero back.
    """

    def elaborate(self, platform):
        m = Module()
        p = self.params
        n_in, n_out, lanes, rows = p.n_in, p.n_out, p.lanes, p.words_per_row
        w_layout = data.ArrayLayout(signed(p.weight_bits), lanes)

        # -- input and issue: the words of the current event's row, one per cycle --------------
        active = Signal()
        w_addr = index(n_in * rows)
        k = index(rows)
        last_word = k == rows - 1
        weight = w_layout(Signal(w_layout.size))  # the issued word's weights, a cycle later
        back = accumulate_and_flush(
            m,
            self,
            words=rows,
            lanes=lanes,
            width=p.sum_width,
            n_out=n_out,
            acc_bits=p.acc_bits,
            overflow=p.overflow,
            # a row of one word issues it every cycle; of two, every other cycle
            forward=max(0, 3 - rows),
            issue_valid=active,
            issue_addr=k,
            weight=weight,
            front_busy=active,
        )
        addr = self.aer.payload.addr
        ready = back.accepting & (~active | last_word)
        accept = self.aer.valid & ready
        good = addr < n_in if n_in < 1 << p.in_addr_width else C(1, 1)
        m.d.comb += self.aer.ready.eq(ready)
        with m.If(active):
            with m.If(last_word):
                m.d.sync += active.eq(0)
            with m.Else():
                m.d.sync += [w_addr.eq(w_addr + 1), k.eq(k + 1)]
        with m.If(accept & good):
            m.d.sync += [active.eq(1), w_addr.eq(addr * rows), k.eq(0)]
        with m.If(accept & ~good):
            m.d.sync += self.bad_addr.eq(1)
        count_events(m, self, accept & good, p.max_events, back.sweep_start)

        # -- weight memory ------------------------------------------------------------------
        write = self.w_we & ~back.busy
        if p.memory == "spram":
            weight_out = self._spram(m, w_addr, write)
        else:
            m.submodules.weight_mem = weight_mem = Memory(
                shape=unsigned(w_layout.size), depth=max(2, n_in * rows), init=p.packed_words()
            )
            w_rd, w_wr = weight_mem.read_port(), weight_mem.write_port()
            m.d.comb += [
                w_rd.addr.eq(w_addr),
                w_wr.addr.eq(self.w_addr),
                w_wr.data.eq(self.w_data),
                w_wr.en.eq(write),
            ]
            weight_out = w_rd.data
        m.d.comb += weight.as_value().eq(weight_out)
        return m

    def _spram(self, m, read_addr, write):
        """Build the weight memory from SB_SPRAM256KA blocks; return its read data.

        Blocks side by side make a word wider than 16 bits, banks of 16384 words a deeper
        memory. A block does one read or one write per cycle: the write port's address while
        ``write`` (never while busy, so never during a read), else the issue stage's.
        """
        p = self.params
        depth = p.n_in * p.words_per_row
        width = p.lanes * p.weight_bits
        banks = -(-depth // SPRAM_DEPTH)
        addr = Signal(range(max(2, depth)))
        m.d.comb += addr.eq(Mux(write, self.w_addr, read_addr))
        bank = addr[SPRAM_ADDR_BITS:] if banks > 1 else C(0, 1)
        read_bank = Signal.like(bank)  # the bank of the word the blocks show
        m.d.sync += read_bank.eq(bank)
        out = Signal(width)
        for b in range(banks):
            pieces = []
            for col in range(-(-width // 16)):
                block = SPRAM(depth=min(SPRAM_DEPTH, depth - b * SPRAM_DEPTH))
                m.submodules[f"weight_spram_{b}_{col}"] = block
                m.d.comb += [
                    block.addr.eq(addr[:SPRAM_ADDR_BITS]),
                    block.data_in.eq(self.w_data[16 * col : 16 * col + 16]),
                    block.wren.eq(write & (bank == b)),
                ]
                pieces.append(block.data_out)
            with m.If(read_bank == b):
                m.d.comb += out.eq(Cat(*pieces)[:width])
        return out


@hookimpl
def neurogate_register_components():
    return [DenseSynapse]
