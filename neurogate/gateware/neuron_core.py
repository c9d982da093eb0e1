"""The time-multiplexed neuron core: ``n_neurons`` neurons of one kernel in block RAM or SPRAM.

:class:`NeuronCore` runs any :class:`~neurogate.core.neuron.NeuronKernel` for many neurons on
one copy of its datapath. The state of every neuron (all state fields of the kernel, one
:class:`~amaranth.lib.data.StructLayout` word per neuron) is in one memory, the per-neuron
inputs (all input ports of the kernel, one word per neuron) in another. The kernel's parameters
are its constants. The memories are, by ``memory``:

* ``"ebr"`` / ``"bram"``: :class:`amaranth.lib.memory.Memory` objects, which Yosys maps to
  iCE40 EBR or ECP5 block RAM (a read port and a write port each).
* ``"spram"``: iCE40 UP5K single-port RAM, ``SB_SPRAM256KA`` instances (16384 x 16 bits each;
  a word wider than 16 bits takes several side by side; at most 16384 neurons). A block does
  one read *or* one write per cycle, so the state is in two banks used in ping-pong: a timestep
  reads every neuron from one bank and writes its new state to the other, and the next
  timestep swaps them. The input memory is one more bank, only read while ``busy``. So the core
  still updates one neuron per clock; a 16-bit state and a 16-bit input take 3 of the 4 blocks.
  SPRAM has no initial contents: after the ``sync`` reset the core is ``busy`` for
  ``n_neurons`` cycles while it writes the kernel's reset state and zero inputs (a ``step``
  or an input write in that time is ignored). Without a platform (``platform is None``, as in
  pysim) each block is a :class:`~amaranth.lib.memory.Memory` with the same one-port timing.

The spike FIFO is in block RAM (or flip-flops) in every case.

Timestep. A one-cycle ``step`` strobe while ``busy`` is low starts a timestep (a strobe while
busy is ignored). The sequencer visits neurons ``0 .. n_neurons - 1`` in order, one per clock,
in a four-stage pipeline: stage 0 presents the neuron's address to the state and input
memories; stage 1 registers the memories' outputs (so the memory's clock-to-output and, in EBR,
the mux across blocks are not on the path of the update); stage 2 applies
:meth:`NeuronKernel.update_hdl` and registers the new state and the spike; stage 3 writes the
new state back and pushes the event. Every neuron is visited once per timestep, so the pipeline
has no read-after-write hazard. ``busy`` is high from the cycle after ``step`` until the last
neuron is written, ``n_neurons + 3`` cycles without stalls; ``done`` is high for the one cycle
after that, in which ``step`` may be strobed again. So a timestep takes ``n_neurons + 4`` clock
cycles from strobe to strobe: one neuron update per clock.

Spikes. Each neuron that fires sends an address-event, its index ``addr``, into a FIFO whose
output is the ``aer`` stream (:class:`amaranth.lib.stream`; valid / ready). A neuron is issued
only if the FIFO has room for the events of every neuron in flight (unread entries + the
registered spike in stage 3 + one for each neuron in stages 1 and 2 must stay below
``fifo_depth``), so
the stall depends on registers only, never on the spike being computed, and no event is lost,
whatever the consumer does with ``ready``. The FIFO is built one entry deeper than
``fifo_depth`` (the buffered FIFO's write side is full one entry early). With the consumer always
ready, ``fifo_depth >= 6`` keeps one update per clock even when every neuron fires; with
``fifo_depth == 1`` one neuron is in flight at a time. The events of a timestep are the firing
addresses in increasing order.

Inputs. The input memory is written through ``in_addr`` / ``in_data`` / ``in_we`` (one word per
cycle) while ``busy`` is low; a write while ``busy`` is high is ignored. A word keeps its value
until it is overwritten, so each timestep uses the latest word of each neuron.

State read-back. While ``busy`` is low, ``rd_data`` shows, one cycle after, the state of neuron
``rd_addr`` (the sequencer uses the same memory port while busy).

Reset. With ``"ebr"`` / ``"bram"`` the state memory is initialised to the kernel's reset state
and the input memory to zero in the bitstream (memory initial contents); the ``sync`` reset
clears the sequencer and the FIFO, not the memories. With ``"spram"`` the ``sync`` reset also
clears the memories, as above.

:meth:`NeuronCore.model` is bit-true at timestep level: after each timestep the state equals
that of the kernel's parallel model given the same inputs, and the events are
``np.flatnonzero(spike)``.

>>> import numpy as np
>>> from amaranth.hdl import Mux
>>> import neurogate as ng
>>> from neurogate.core.component import Port
>>> from neurogate.gateware.neuron_core import NeuronCore
>>> class Counter(ng.NeuronKernel):
...     '''Integrate-and-fire without leak on a 8-bit state: fire at 10, reset to 0.'''
...     name = "doc_core_counter"
...     def state_fields(self):
...         return {"v": Port("out", 8, True, "potential")}
...     def input_ports(self):
...         return {"current": Port("in", 5, True, "input")}
...     def update_np(self, state, inputs):
...         v = state["v"] + inputs["current"]
...         return {"v": np.where(v >= 10, 0, v)}, v >= 10
...     def update_hdl(self, m, state, inputs):
...         v = state["v"] + inputs["current"]
...         return {"v": Mux(v >= 10, 0, v)}, v >= 10
>>> core = NeuronCore(Counter(), n_neurons=3)
>>> model = core.model()
>>> model.step({"current": np.array([4, 6, 12])}).tolist()
[2]
>>> model.step().tolist(), model.state["v"].tolist()
([1, 2], [8, 0, 0])
>>> core.cycles_per_step
7
"""

from __future__ import annotations

import math

import numpy as np
from amaranth.hdl import C, Cat, ClockSignal, Instance, Module, Mux, Signal, Value, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from neurogate.core.component import bits_for
from neurogate.core.neuron import NeuronKernel

__all__ = ["MEMORIES", "NeuronCore", "NeuronCoreGateware", "NeuronCoreModel"]

#: Memories the core can be built in: ``name: (description, blocks, ((depth, width), ...))``,
#: the block RAM of one device and the depth x width configurations of one block.
MEMORIES = {
    "ebr": ("iCE40 UP5K EBR (30 x 4 kbit)", 30, ((256, 16), (512, 8), (1024, 4), (2048, 2))),
    "bram": (
        "ECP5-85F block RAM (208 x 18 kbit)",
        208,
        ((512, 36), (1024, 18), (2048, 9), (4096, 4), (8192, 2), (16384, 1)),
    ),
    "spram": ("iCE40 UP5K SPRAM (4 x 256 kbit)", 4, ((16384, 16),)),
}

#: Most neurons of one core (addresses are at most 16 bits).
MAX_NEURONS = 65536


def memory_blocks(memory: str, depth: int, width: int) -> int:
    """Return how many blocks of ``memory`` a ``depth`` x ``width`` memory takes (0 if empty)."""
    if width == 0:
        return 0
    configs = MEMORIES[memory][2]
    return min(math.ceil(depth / d) * math.ceil(width / w) for d, w in configs)


def _layout(ports) -> data.StructLayout:
    return data.StructLayout({key: port.shape for key, port in ports.items()})


class NeuronCore:
    """A time-multiplexed core of ``n_neurons`` neurons of ``kernel`` (see the module docstring).

    Parameters
    ----------
    kernel : NeuronKernel
        The neuron update (with its parameters).
    n_neurons : int
        Neurons in the core, 1..65536, as many as fit in ``memory``.
    memory : str
        ``"ebr"`` (iCE40 UP5K block RAM), ``"bram"`` (ECP5-85F) or ``"spram"`` (iCE40 UP5K
        SPRAM: two state banks and the input memory): the memory budget the state and input
        memories must fit in.
    fifo_depth : int
        Entries of the spike FIFO, 1..1024.
    """

    def __init__(
        self, kernel: NeuronKernel, n_neurons: int, memory: str = "ebr", fifo_depth: int = 8
    ):
        if not isinstance(kernel, NeuronKernel):
            raise TypeError(f"neuron core kernel must be a NeuronKernel, not {kernel!r}")
        if not kernel.input_ports():
            raise ValueError(f"neuron core kernel must have an input port, not none ({kernel!r})")
        if memory not in MEMORIES:
            choices = ", ".join(repr(key) for key in MEMORIES)
            raise ValueError(f"neuron core memory must be one of {choices}, not {memory!r}")
        for key, value, lo, hi in (
            ("n_neurons", n_neurons, 1, MAX_NEURONS),
            ("fifo_depth", fifo_depth, 1, 1024),
        ):
            if not isinstance(value, int | np.integer) or isinstance(value, bool):
                raise TypeError(f"neuron core {key} must be an int in {lo}..{hi}, not {value!r}")
            if not lo <= value <= hi:
                raise ValueError(f"neuron core {key} must be an int in {lo}..{hi}, not {value!r}")
        self._kernel = kernel
        self._n = int(n_neurons)
        self._memory = memory
        self._fifo_depth = int(fifo_depth)
        if self.blocks() > MEMORIES[memory][1]:
            raise ValueError(
                f"neuron core holds at most {self.max_neurons(kernel, memory)} {kernel.name} "
                f"neurons in {MEMORIES[memory][0]}, not {self._n}"
            )

    @staticmethod
    def max_neurons(kernel: NeuronKernel, memory: str = "ebr") -> int:
        """Return the most neurons of ``kernel`` that fit in ``memory`` (at most 65536)."""
        lo, hi = 0, MAX_NEURONS
        budget = MEMORIES[memory][1]
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if NeuronCore._blocks(kernel, memory, mid) <= budget:
                lo = mid
            else:
                hi = mid - 1
        return lo

    @staticmethod
    def _blocks(kernel, memory, n):
        state = memory_blocks(memory, n, _layout(kernel.state_fields()).size)
        inputs = memory_blocks(memory, n, _layout(kernel.input_ports()).size)
        if memory == "spram":
            return 2 * state + inputs  # two state banks; the spike FIFO is in EBR
        return state + inputs + 1  # one block for the spike FIFO

    def blocks(self) -> int:
        """Return the memory blocks the core takes: state, inputs and one for the spike FIFO.

        This is the fewest blocks each memory can be built from in one configuration of
        :data:`MEMORIES`. Yosys may choose a configuration that takes more when ``n_neurons``
        is not a power of two (for 3840 x 16 bits it takes 16 EBR of 2048 x 2, not 15 of
        256 x 16), so a core sized to the last block may not place. With ``"spram"`` it counts
        SPRAM blocks only: two state banks and the inputs (the FIFO takes one EBR).
        """
        return self._blocks(self._kernel, self._memory, self._n)

    @property
    def kernel(self) -> NeuronKernel:
        """The neuron kernel."""
        return self._kernel

    @property
    def n_neurons(self) -> int:
        """Number of neurons."""
        return self._n

    @property
    def memory(self) -> str:
        """Name of the block RAM the core is sized for."""
        return self._memory

    @property
    def fifo_depth(self) -> int:
        """Entries of the spike FIFO."""
        return self._fifo_depth

    @property
    def addr_width(self) -> int:
        """Bits of a neuron address, ``bits_for(n_neurons - 1)``."""
        return bits_for(self._n - 1)

    @property
    def cycles_per_step(self) -> int:
        """Clock cycles per timestep without stalls, strobe to strobe: ``n_neurons + 4``."""
        return self._n + 4

    @property
    def state_layout(self) -> data.StructLayout:
        """Layout of one neuron's state word (the kernel's state fields)."""
        return _layout(self._kernel.state_fields())

    @property
    def input_layout(self) -> data.StructLayout:
        """Layout of one neuron's input word (the kernel's input ports)."""
        return _layout(self._kernel.input_ports())

    @property
    def event_layout(self) -> data.StructLayout:
        """Layout of an address-event: ``addr``, the index of the neuron that fired."""
        return data.StructLayout({"addr": unsigned(self.addr_width)})

    def __repr__(self):
        return (
            f"NeuronCore({self._kernel!r}, n_neurons={self._n}, memory={self._memory!r}, "
            f"fifo_depth={self._fifo_depth})"
        )

    def model(self) -> NeuronCoreModel:
        """Return the timestep-level, bit-true NumPy model of the core."""
        return NeuronCoreModel(self)

    def create(self) -> NeuronCoreGateware:
        """Return the core's gateware."""
        return NeuronCoreGateware(self)


class NeuronCoreModel:
    """Bit-true model of a :class:`NeuronCore`, one call of :meth:`step` per timestep.

    It holds the input memory (zero at reset) and the state of every neuron (the kernel's reset
    state), and steps them with the kernel's parallel model.
    """

    def __init__(self, core: NeuronCore):
        self._core = core
        self.reset()

    def reset(self) -> None:
        """Return to the reset state: kernel reset state, inputs zero."""
        core = self._core
        self._neurons = core.kernel.model(core.n_neurons)
        self._inputs = {
            key: np.zeros(core.n_neurons, dtype=np.int64) for key in core.kernel.input_ports()
        }
        self._state = {
            key: np.full(core.n_neurons, value, dtype=np.int64)
            for key, value in core.kernel.reset_state().items()
        }

    @property
    def state(self) -> dict[str, np.ndarray]:
        """The state of every neuron, ``{field: (n_neurons,) int64}`` (a copy)."""
        return {key: value.copy() for key, value in self._state.items()}

    @property
    def inputs(self) -> dict[str, np.ndarray]:
        """The input memory, ``{port: (n_neurons,) int64}`` (a copy)."""
        return {key: value.copy() for key, value in self._inputs.items()}

    def write(self, addr, values: dict) -> None:
        """Write input words: ``values[port]`` to neuron(s) ``addr`` (as the write port does)."""
        for key in values:
            if key not in self._inputs:
                raise ValueError(
                    f"neuron core input must be one of {sorted(self._inputs)}, not {key!r}"
                )
        for key in self._inputs:
            if key not in values:
                raise ValueError(f"neuron core write needs every input word field, not {key!r}")
        ports = self._core.kernel.input_ports()
        checked = {}
        for key, value in values.items():
            value = np.asarray(value)
            if value.dtype.kind not in "iu":
                raise TypeError(f"neuron core input {key!r} must be ints, not {value.dtype}")
            fmt = ports[key].format
            bad = value[(value < fmt.min) | (value > fmt.max)]
            if bad.size:
                raise ValueError(
                    f"neuron core input {key!r} must fit {fmt.describe()}, not {int(bad.flat[0])}"
                )
            checked[key] = value
        for key, value in checked.items():
            self._inputs[key][addr] = value

    def step(self, inputs: dict | None = None) -> np.ndarray:
        """Run one timestep; return the firing addresses in increasing order.

        ``inputs`` (``{port: (n_neurons,) array}``), when given, first overwrites the whole
        input memory.
        """
        if inputs is not None:
            self.write(slice(None), inputs)
        out = self._neurons.run({key: value[None] for key, value in self._inputs.items()})
        self._state = {key: out[key][0] for key in self._state}
        return np.flatnonzero(out["spike"][0])


class NeuronCoreGateware(wiring.Component):
    """Gateware of a :class:`NeuronCore` (see the module docstring for the protocol).

    Members
    -------
    step : in, 1
        Strobe: start a timestep (ignored while ``busy``).
    busy : out, 1
        High while a timestep runs.
    done : out, 1
        High for one cycle when a timestep has finished.
    in_addr : in, ``addr_width``
        Neuron whose input word ``in_data`` is written when ``in_we`` is high.
    in_data : in, ``input_layout``
        Input word (one field per kernel input port).
    in_we : in, 1
        Write enable of the input memory (ignored while ``busy``).
    rd_addr : in, ``addr_width``
        Neuron whose state is read (while not busy).
    rd_data : out, ``state_layout``
        State of neuron ``rd_addr`` of the previous cycle.
    aer : out, stream of ``event_layout``
        Address-events of the firing neurons, in order.
    """

    def __init__(self, core: NeuronCore):
        self._core = core
        aw = core.addr_width
        super().__init__(
            {
                "step": In(1),
                "busy": Out(1),
                "done": Out(1),
                "in_addr": In(aw),
                "in_data": In(core.input_layout),
                "in_we": In(1),
                "rd_addr": In(aw),
                "rd_data": Out(core.state_layout),
                "aer": Out(stream.Signature(core.event_layout)),
            }
        )

    @property
    def core(self) -> NeuronCore:
        """The core's parameters."""
        return self._core

    def elaborate(self, platform):
        m = Module()
        core = self._core
        kernel = core.kernel
        n = core.n_neurons
        reset = core.state_layout.const(kernel.reset_state())
        m.submodules.fifo = fifo = SyncFIFOBuffered(
            width=core.addr_width, depth=core.fifo_depth + 1
        )

        busy = Signal()
        index = Signal(range(n + 1))  # next neuron to read (stage 0)
        s1_valid = Signal()  # stage 1: the memories' outputs hold neuron s1_addr
        s1_addr = Signal(core.addr_width)
        r_valid = Signal()  # stage 2: the memories' outputs for neuron r_addr, registered
        r_addr = Signal(core.addr_width)
        r_state = Signal(core.state_layout)
        r_input = Signal(core.input_layout)
        s2_valid = Signal()  # stage 3: s2_state and s2_spike, the update of neuron s2_addr
        s2_addr = Signal(core.addr_width)
        s2_state = Signal(core.state_layout)
        s2_spike = Signal()
        state_data = Signal(core.state_layout)  # the state memory's output (stage 1)
        input_data = Signal(core.input_layout)  # the input memory's output (stage 1)

        if core.memory == "spram":
            state_out, input_out, clearing = self._spram(
                m, busy, index, s2_valid, s2_addr, s2_state, reset
            )
            # the sequencer is busy while it clears the memories after reset
            busy_out, ready = busy | clearing, ~clearing
        else:
            state_mem = Memory(shape=core.state_layout, depth=n, init=[reset] * n)
            input_mem = Memory(shape=core.input_layout, depth=n, init=[])
            m.submodules.state_mem, m.submodules.input_mem = state_mem, input_mem
            state_rd, state_wr = state_mem.read_port(), state_mem.write_port()
            input_rd, input_wr = input_mem.read_port(), input_mem.write_port()
            m.d.comb += [
                input_wr.addr.eq(self.in_addr),
                input_wr.data.eq(self.in_data),
                input_wr.en.eq(self.in_we & ~busy),
                input_rd.addr.eq(index),
                state_rd.addr.eq(Mux(busy, index, self.rd_addr)),
                state_wr.addr.eq(s2_addr),
                state_wr.data.eq(s2_state),
                state_wr.en.eq(s2_valid),
            ]
            state_out, input_out = state_rd.data, input_rd.data
            busy_out, ready = busy, 1
        m.d.comb += [state_data.eq(state_out), input_data.eq(input_out)]

        state = {key: r_state[key] for key in kernel.state_fields()}
        inputs = {key: r_input[key] for key in kernel.input_ports()}
        next_state, spike = kernel.update_hdl(m, state, inputs)
        # Issue a neuron only if the FIFO will have room for its event, whatever the neurons in
        # flight do: stage 3's event is known, stages 1 and 2 count as if they fired. The buffered
        # FIFO is one entry deeper than fifo_depth (its write side is full at depth - 1 unread
        # entries in its memory while its output register may be empty), so this bound holds.
        reserved = fifo.level + (s2_valid & s2_spike) + r_valid + s1_valid
        issue = Signal()
        m.d.comb += [
            issue.eq(busy & (index != n) & (reserved < core.fifo_depth)),
            self.rd_data.eq(state_data),
            fifo.w_data.eq(s2_addr),
            fifo.w_en.eq(s2_valid & s2_spike),
            self.aer.valid.eq(fifo.r_rdy),
            self.aer.payload.addr.eq(fifo.r_data),
            fifo.r_en.eq(self.aer.ready),
            self.busy.eq(busy_out),
        ]
        m.d.sync += [
            s1_valid.eq(issue),
            s1_addr.eq(index),
            r_valid.eq(s1_valid),
            r_addr.eq(s1_addr),
            r_state.eq(state_data),
            r_input.eq(input_data),
            s2_valid.eq(r_valid),
            s2_addr.eq(r_addr),
            s2_spike.eq(r_valid & spike),
            self.done.eq(0),
        ]
        for key, value in next_state.items():
            m.d.sync += s2_state[key].eq(value)
        with m.If(issue):
            m.d.sync += index.eq(index + 1)
        with m.If(s2_valid & (s2_addr == n - 1)):
            m.d.sync += [busy.eq(0), self.done.eq(1)]
        with m.If(~busy & ready & self.step):
            m.d.sync += [busy.eq(1), index.eq(0)]
        return m

    def _spram(self, m, busy, index, s2_valid, s2_addr, s2_state, reset):
        """Build the state banks (ping-pong) and the input memory in SPRAM blocks."""
        core = self._core
        n = core.n_neurons
        clearing = Signal(init=1)  # after reset: write the reset state and zero inputs
        clear_index = Signal(range(n))
        bank = Signal()  # the state bank holding the state after the last timestep
        with m.If(clearing):
            m.d.sync += clear_index.eq(clear_index + 1)
            with m.If(clear_index == n - 1):
                m.d.sync += clearing.eq(0)
        with m.If(s2_valid & (s2_addr == n - 1)):
            m.d.sync += bank.eq(~bank)

        def blocks(name, width):
            spram = [_SPRAM(depth=n) for _ in range(math.ceil(width / 16))]
            for k, block in enumerate(spram):
                m.submodules[f"{name}_{k}"] = block
            return spram

        def connect(spram, addr, data, wren):
            data = Value.cast(data)
            out = []
            for k, block in enumerate(spram):
                m.d.comb += [
                    block.addr.eq(addr),
                    block.data_in.eq(data[16 * k : 16 * k + 16]),
                    block.wren.eq(wren),
                ]
                out.append(block.data_out)
            return Cat(*out)[: data.shape().width]

        width = core.state_layout.size
        outs = []
        for b in range(2):
            # while busy, bank `bank` is read and the other written; clearing writes bank 0
            writing = busy & (bank != b)
            addr = Mux(clearing, clear_index, Mux(writing, s2_addr, Mux(busy, index, self.rd_addr)))
            data = Mux(clearing, Value.cast(reset), s2_state)
            wren = Mux(clearing, int(b == 0), writing & s2_valid)
            outs.append(connect(blocks(f"state{b}", width), addr, data, wren))
        state_out = Mux(bank, outs[1], outs[0])
        inputs = blocks("input", core.input_layout.size)
        input_out = connect(
            inputs,
            Mux(clearing, clear_index, Mux(busy, index, self.in_addr)),
            Mux(clearing, 0, self.in_data),
            clearing | (self.in_we & ~busy),
        )
        return state_out, input_out, clearing


class _SPRAM(wiring.Component):
    """One iCE40 SB_SPRAM256KA (16384 x 16, one read or write per cycle, read latency 1).

    With ``platform`` None (simulation) it is a :class:`~amaranth.lib.memory.Memory` of
    ``depth`` words with the same timing: ``data_out`` shows word ``addr`` one cycle after a
    cycle with ``wren`` low and holds its value after a write cycle.
    """

    def __init__(self, depth: int = 16384):
        self._depth = depth
        super().__init__({"addr": In(14), "data_in": In(16), "wren": In(1), "data_out": Out(16)})

    def elaborate(self, platform):
        m = Module()
        if platform is None:
            m.submodules.mem = mem = Memory(shape=16, depth=self._depth, init=[])
            rd, wr = mem.read_port(), mem.write_port()
            m.d.comb += [
                rd.addr.eq(self.addr),
                rd.en.eq(~self.wren),
                wr.addr.eq(self.addr),
                wr.data.eq(self.data_in),
                wr.en.eq(self.wren),
                self.data_out.eq(rd.data),
            ]
        else:
            m.submodules.spram = Instance(
                "SB_SPRAM256KA",
                i_ADDRESS=self.addr,
                i_DATAIN=self.data_in,
                i_MASKWREN=C(0b1111, 4),
                i_WREN=self.wren,
                i_CHIPSELECT=C(1, 1),
                i_CLOCK=ClockSignal(),
                i_STANDBY=C(0, 1),
                i_SLEEP=C(0, 1),
                i_POWEROFF=C(1, 1),
                o_DATAOUT=self.data_out,
            )
        return m
