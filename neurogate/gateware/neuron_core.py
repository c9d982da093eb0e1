"""The time-multiplexed neuron core: ``n_neurons`` neurons of one kernel in block RAM or SPRAM.

:class:`NeuronCore` runs any :class:`~neurogate.core.neuron.NeuronKernel` for many neurons on
one copy of its datapath. The state of every neuron (all state fields of the kernel, one
:class:`~amaranth.lib.data.StructLayout` word per neuron) is in one memory, the per-neuron
inputs (the kernel's input ports, one word per neuron) in another, and the per-neuron
parameters, if any (``params``: input ports of the kernel moved out of the input word), in a
third. The kernel's other parameters are its constants. The memories are, by ``memory``:

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

The parameter memory is block RAM (EBR with ``"spram"`` too) and the spike FIFO is in block RAM
(or flip-flops) in every case. A kernel's tables read across a pipeline cut
(:meth:`NeuronKernel.stage`) are ROMs in block RAM as well; :meth:`NeuronCore.max_neurons` and
:meth:`NeuronCore.blocks` do not count them.

Timestep. A one-cycle ``step`` strobe while ``busy`` is low starts a timestep (a strobe while
busy is ignored). The sequencer visits neurons ``0 .. n_neurons - 1`` in order, one per clock,
in a pipeline of ``4 + P`` stages, ``P`` the kernel's
:attr:`~neurogate.core.neuron.NeuronKernel.pipeline_stages` (0 for a kernel without pipeline
cuts): stage 0 presents the neuron's address to the state and input memories; stage 1
registers the memories' outputs (so the memory's clock-to-output and, in EBR, the mux across
blocks are not on the path of the update); stage 2 applies
:meth:`NeuronKernel.update_hdl`, whose cuts (:meth:`NeuronKernel.stage`) are registers here, so
the update spans stages 2 .. 2 + P and registers the new state and the spike at the end; stage
3 + P writes the new state back and pushes the event. Each stage carries the neuron's address
and a valid bit. Every neuron is visited once per timestep, so the pipeline has no
read-after-write hazard, whatever ``P``. ``busy`` is high from the cycle after ``step`` until
the last neuron is written, ``n_neurons + 3 + P`` cycles without stalls; ``done`` is high for
the one cycle after that, in which ``step`` may be strobed again. So a timestep takes
``n_neurons + 4 + P`` clock cycles from strobe to strobe (:attr:`NeuronCore.cycles_per_step`):
one neuron update per clock.

Spikes. Each neuron that fires sends an address-event, its index ``addr``, into a FIFO whose
output is the ``aer`` stream (:class:`amaranth.lib.stream`; valid / ready). A neuron is issued
only if the FIFO has room for the events of every neuron in flight (unread entries + the
registered spike in the last stage + one for each neuron in stages 1 .. 2 + P must stay below
``fifo_depth``), so the stall depends on registers only, never on the spike being computed, the
pipeline itself never stops (a stall is a bubble), and no event is lost, whatever the consumer
does with ``ready``. The FIFO is built one entry deeper than ``fifo_depth`` (the buffered
FIFO's write side is full one entry early). With the consumer always ready, ``fifo_depth >= 6
+ P`` keeps one update per clock even when every neuron fires (the default is ``8 + P``); with
``fifo_depth == 1`` one neuron is in flight at a time. The events of a timestep are the firing
addresses in increasing order.

Inputs. The input memory is written through ``in_addr`` / ``in_data`` / ``in_we`` (one word per
cycle) while ``busy`` is low; a write while ``busy`` is high is ignored. A word keeps its value
until it is overwritten, so each timestep uses the latest word of each neuron. (When ``params``
takes every input port there is no input memory and no ``in_*`` port.)

Parameters. A kernel takes a runtime parameter as an input port (``lif(leak_k=None,
gain_k=None)`` has the ports ``leak_k`` and ``gain_k``); left in the input word, it is
per-neuron already, but zero after reset and written again with every input word. The
argument ``params``, ``{port: array of n_neurons ints}``, moves such ports (any input port, in
fact: a constant per-neuron ``current`` is a bias) into the parameter memory, initialised with
the arrays in the bitstream and written through ``par_addr`` / ``par_data`` / ``par_we``
(one word of every parameter per cycle; ignored while ``busy``). The kernel's update sees the
input and parameter words together as its inputs, exactly as before: the kernel contract does
not change. The ``sync`` reset does not restore a written parameter (configuration does, as does
:meth:`NeuronCoreModel.reset`, which models it).

The parameter memory is always block RAM, also with ``memory="spram"``: SPRAM has no initial
contents, so parameters there would have to be written by the host after every reset, and a ROM
to copy them from would take the same EBR. The cost is capacity: with ``"spram"`` the parameters
and the spike FIFO share the UP5K's 30 EBR (120 kbit), so at 16384 neurons at most 6 bits of
parameters fit per neuron. A 16-bit ``lif`` with per-neuron ``leak_k`` and ``gain_k`` fits 1792
neurons in EBR and 3584 with ``"spram"`` (state and current in SPRAM, the 32 parameter bits in
EBR); left in the input word it does not fit in SPRAM at all (48 input bits take 3 blocks).
:meth:`NeuronCore.max_neurons` counts the parameter memory.

State read-back. While ``busy`` is low, ``rd_data`` shows, one cycle after, the state of neuron
``rd_addr`` (the sequencer uses the same memory port while busy).

Reset. With ``"ebr"`` / ``"bram"`` the state memory is initialised to the kernel's reset state,
the input memory to zero and the parameter memory to ``params`` in the bitstream (memory
initial contents); the ``sync`` reset clears the sequencer and the FIFO, not the memories. With
``"spram"`` the ``sync`` reset also clears the state and input memories, as above (not the
parameter memory).

:meth:`NeuronCore.model` is bit-true at timestep level: after each timestep the state equals
that of the kernel's parallel model given the same inputs and parameters, and the events are
``np.flatnonzero(spike)``. It takes parameter writes as the gateware does
(:meth:`NeuronCoreModel.write_params`).

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

The same neurons with a per-neuron threshold: a kernel port ``th`` held as a parameter.

>>> class Threshold(Counter):
...     name = "doc_core_threshold"
...     def input_ports(self):
...         return {"current": Port("in", 5, True, "input"), "th": Port("in", 8, False, "")}
...     def update_np(self, state, inputs):
...         v = state["v"] + inputs["current"]
...         return {"v": np.where(v >= inputs["th"], 0, v)}, v >= inputs["th"]
...     def update_hdl(self, m, state, inputs):
...         v = state["v"] + inputs["current"]
...         return {"v": Mux(v >= inputs["th"], 0, v)}, v >= inputs["th"]
>>> core = NeuronCore(Threshold(), n_neurons=3, params={"th": np.array([4, 6, 12])})
>>> list(core.input_layout.members), list(core.param_layout.members)
(['current'], ['th'])
>>> model = core.model()
>>> model.step({"current": np.array([5, 5, 5])}).tolist()
[0]
>>> model.write_params(2, {"th": 5})
>>> model.step().tolist(), model.state["v"].tolist()
([0, 1, 2], [0, 0, 0])
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from amaranth.hdl import Cat, Module, Mux, Signal, Value, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from neurogate.core.component import bits_for
from neurogate.core.neuron import NeuronKernel, pipelined_update
from neurogate.gateware.spram import SPRAM

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
        SPRAM: two state banks and the input memory; the parameter memory, if any, in EBR): the
        memory budget the core's memories must fit in.
    fifo_depth : int, optional
        Entries of the spike FIFO, 1..1024; by default ``8 + kernel.pipeline_stages``.
    params : dict, optional
        Per-neuron parameters, ``{port: (n_neurons,) int array}``: each key is one of the
        kernel's input ports (a parameter the kernel takes at runtime), each array its initial
        value for every neuron. These ports are held in the parameter memory instead of the
        input word.
    """

    def __init__(
        self,
        kernel: NeuronKernel,
        n_neurons: int,
        memory: str = "ebr",
        fifo_depth: int | None = None,
        params: dict | None = None,
        input_init: dict | None = None,
    ):
        if not isinstance(kernel, NeuronKernel):
            raise TypeError(f"neuron core kernel must be a NeuronKernel, not {kernel!r}")
        if not kernel.input_ports():
            raise ValueError(f"neuron core kernel must have an input port, not none ({kernel!r})")
        if memory not in MEMORIES:
            choices = ", ".join(repr(key) for key in MEMORIES)
            raise ValueError(f"neuron core memory must be one of {choices}, not {memory!r}")
        stages = kernel.pipeline_stages
        if not isinstance(stages, int | np.integer) or isinstance(stages, bool) or stages < 0:
            error = ValueError if isinstance(stages, int | np.integer) else TypeError
            raise error(f"neuron core kernel pipeline_stages must be an int >= 0, not {stages!r}")
        if fifo_depth is None:
            fifo_depth = 8 + int(stages)
        for key, value, lo, hi in (
            ("n_neurons", n_neurons, 1, MAX_NEURONS),
            ("fifo_depth", fifo_depth, 1, 1024),
        ):
            if not isinstance(value, int | np.integer) or isinstance(value, bool):
                raise TypeError(f"neuron core {key} must be an int in {lo}..{hi}, not {value!r}")
            if not lo <= value <= hi:
                raise ValueError(f"neuron core {key} must be an int in {lo}..{hi}, not {value!r}")
        self._kernel = kernel
        self._stages = int(stages)
        self._n = int(n_neurons)
        self._memory = memory
        self._fifo_depth = int(fifo_depth)
        self._params = self._check_params(kernel, self._n, params)
        self._input_init = self._check_params(kernel, self._n, input_init)
        for key in self._input_init:
            if key in self._params:
                raise ValueError(f"neuron core input_init {key!r} is a parameter, not an input")
        if self._input_init and memory == "spram":
            raise ValueError(
                "neuron core input_init needs memory 'ebr' or 'bram' (SPRAM has no initial "
                "contents)"
            )
        if not self._fits(kernel, memory, self._n, self._params):
            most = self.max_neurons(kernel, memory, self._params)
            where = MEMORIES[memory][0]
            if self._params:
                names = ", ".join(self._params)
                if memory == "spram":
                    where = f"{where} with the parameters in {MEMORIES['ebr'][0]}"
                raise ValueError(
                    f"neuron core holds at most {most} {kernel.name} neurons with per-neuron "
                    f"{names} in {where}, not {self._n}"
                )
            raise ValueError(
                f"neuron core holds at most {most} {kernel.name} neurons in {where}, not {self._n}"
            )

    @staticmethod
    def _check_params(kernel, n, params) -> dict[str, np.ndarray]:
        """Return the validated per-neuron parameters as read-only ``int64`` arrays."""
        if params is None:
            return {}
        if not isinstance(params, Mapping):
            raise TypeError(
                f"neuron core params must be a dict {{input port: array of n_neurons ints}}, "
                f"not {params!r}"
            )
        ports = kernel.input_ports()
        NeuronCore._check_keys(kernel, params)
        out = {}
        for key, value in params.items():
            array = np.asarray(value)
            if array.dtype.kind not in "iu":
                raise TypeError(f"neuron core params {key!r} must be ints, not {array.dtype}")
            if array.shape != (n,):
                raise ValueError(
                    f"neuron core params {key!r} must have shape ({n},) (one value per neuron), "
                    f"not {array.shape}"
                )
            fmt = ports[key].format
            bad = np.flatnonzero((array < fmt.min) | (array > fmt.max))
            if bad.size:
                i = int(bad[0])
                raise ValueError(
                    f"neuron core params {key!r} must fit {fmt.describe()}, not {int(array[i])} "
                    f"(neuron {i})"
                )
            array = array.astype(np.int64)
            array.setflags(write=False)
            out[key] = array
        # in the order of the kernel's ports, whatever the order of the dict
        return {key: out[key] for key in ports if key in out}

    @staticmethod
    def _check_keys(kernel, keys) -> None:
        """Raise unless each of ``keys`` is an input port of ``kernel``."""
        ports = kernel.input_ports()
        valid = ", ".join(repr(key) for key in ports)
        for key in keys:
            if key in ports:
                continue
            if key in kernel.params:
                raise ValueError(
                    f"neuron core params key {key!r} is a constant of {kernel.name} "
                    f"({key}={kernel.params[key]!r}), not one of its input ports ({valid}); "
                    f"only a parameter the kernel takes at runtime, as an input port, can "
                    f"be per-neuron"
                )
            raise ValueError(
                f"neuron core params key must be one of {kernel.name}'s input ports "
                f"({valid}), not {key!r}"
            )

    @staticmethod
    def _usage(kernel, memory, n, params=()) -> dict[str, int]:
        """Return the blocks the core takes, ``{memory name: blocks}``."""
        ports = kernel.input_ports()
        state = memory_blocks(memory, n, _layout(kernel.state_fields()).size)
        inputs = memory_blocks(memory, n, sum(p.width for k, p in ports.items() if k not in params))
        par_memory = "ebr" if memory == "spram" else memory
        par = memory_blocks(par_memory, n, sum(ports[k].width for k in params))
        if memory == "spram":
            # two state banks; the parameter memory and the spike FIFO are in EBR
            return {"spram": 2 * state + inputs, "ebr": par + 1}
        return {memory: state + inputs + par + 1}  # one block for the spike FIFO

    @staticmethod
    def _fits(kernel, memory, n, params=()) -> bool:
        usage = NeuronCore._usage(kernel, memory, n, params)
        return all(used <= MEMORIES[key][1] for key, used in usage.items())

    @staticmethod
    def max_neurons(kernel: NeuronKernel, memory: str = "ebr", params=()) -> int:
        """Return the most neurons of ``kernel`` that fit in ``memory`` (at most 65536).

        ``params`` names the input ports held as per-neuron parameters (the keys of the
        ``params`` dict; a dict itself will do).
        """
        NeuronCore._check_keys(kernel, params)
        lo, hi = 0, MAX_NEURONS
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if NeuronCore._fits(kernel, memory, mid, params):
                lo = mid
            else:
                hi = mid - 1
        return lo

    def blocks(self) -> int:
        """Return the blocks of ``memory`` the core takes: state, inputs, parameters, FIFO.

        This is the fewest blocks each memory can be built from in one configuration of
        :data:`MEMORIES`. Yosys may choose a configuration that takes more when ``n_neurons``
        is not a power of two (for 3840 x 16 bits it takes 16 EBR of 2048 x 2, not 15 of
        256 x 16), so a core sized to the last block may not place. With ``"spram"`` it counts
        SPRAM blocks only: two state banks and the inputs (the parameter memory and the FIFO
        are in EBR: :meth:`param_blocks` + 1 EBR).
        """
        return self._usage(self._kernel, self._memory, self._n, self._params)[self._memory]

    def param_blocks(self) -> int:
        """Return the block RAM blocks of the parameter memory (EBR with ``"spram"``; 0: none)."""
        memory = "ebr" if self._memory == "spram" else self._memory
        return memory_blocks(memory, self._n, self.param_layout.size)

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
    def pipeline_stages(self) -> int:
        """The kernel's pipeline cuts: the stages the update takes beyond one clock."""
        return self._stages

    @property
    def cycles_per_step(self) -> int:
        """Clock cycles per timestep without stalls, strobe to strobe: ``n_neurons + 4 + P``.

        ``P`` is :attr:`pipeline_stages` (0 for a kernel without pipeline cuts).
        """
        return self._n + 4 + self._stages

    @property
    def state_layout(self) -> data.StructLayout:
        """Layout of one neuron's state word (the kernel's state fields)."""
        return _layout(self._kernel.state_fields())

    @property
    def params(self) -> dict[str, np.ndarray]:
        """The initial per-neuron parameters, ``{port: (n_neurons,) int64}`` (read-only)."""
        return dict(self._params)

    @property
    def input_init(self) -> dict[str, np.ndarray]:
        """Initial contents of input-word fields (``{port: array}``; the others start at 0)."""
        return dict(self._input_init)

    @property
    def input_layout(self) -> data.StructLayout:
        """Layout of one neuron's input word (the kernel's input ports but the parameters)."""
        ports = self._kernel.input_ports()
        return _layout({key: port for key, port in ports.items() if key not in self._params})

    @property
    def param_layout(self) -> data.StructLayout:
        """Layout of one neuron's parameter word (the input ports given in ``params``)."""
        ports = self._kernel.input_ports()
        return _layout({key: ports[key] for key in self._params})

    @property
    def event_layout(self) -> data.StructLayout:
        """Layout of an address-event: ``addr``, the index of the neuron that fired."""
        return data.StructLayout({"addr": unsigned(self.addr_width)})

    def __repr__(self):
        fields = ", ".join(f"{key!r}: <{self._n} values>" for key in self._params)
        params = f", params={{{fields}}}" if fields else ""
        return (
            f"NeuronCore({self._kernel!r}, n_neurons={self._n}, memory={self._memory!r}, "
            f"fifo_depth={self._fifo_depth}{params})"
        )

    def model(self) -> NeuronCoreModel:
        """Return the timestep-level, bit-true NumPy model of the core."""
        return NeuronCoreModel(self)

    def create(self) -> NeuronCoreGateware:
        """Return the core's gateware."""
        return NeuronCoreGateware(self)


class NeuronCoreModel:
    """Bit-true model of a :class:`NeuronCore`, one call of :meth:`step` per timestep.

    It holds the input memory (zero at reset), the parameter memory (the core's ``params``) and
    the state of every neuron (the kernel's reset state), and steps them with the kernel's
    parallel model, given the input and parameter words together as the kernel's inputs.
    """

    def __init__(self, core: NeuronCore):
        self._core = core
        self.reset()

    def reset(self) -> None:
        """Return to the configured state: kernel reset state, inputs zero, initial parameters.

        This is the state after configuration (loading the bitstream); the gateware's ``sync``
        reset keeps the memories in EBR / block RAM, and keeps parameter writes.
        """
        core = self._core
        n = core.n_neurons
        self._neurons = core.kernel.model(n)
        self._inputs = {
            key: np.array(core.input_init.get(key, np.zeros(n, dtype=np.int64)), dtype=np.int64)
            for key in core.input_layout.members
        }
        self._params = {key: value.copy() for key, value in core.params.items()}
        self._state = {
            key: np.full(n, value, dtype=np.int64)
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

    @property
    def params(self) -> dict[str, np.ndarray]:
        """The parameter memory, ``{port: (n_neurons,) int64}`` (a copy)."""
        return {key: value.copy() for key, value in self._params.items()}

    def _write(self, what, memory, other, addr, values):
        """Check ``values`` (every field of the word, each in range); write them at ``addr``."""
        ports = self._core.kernel.input_ports()
        for key in values:
            if key not in memory:
                hint = ""
                if key in other:
                    hint = (
                        f" ({key!r} is a per-neuron parameter: write it with write_params)"
                        if what == "input"
                        else f" ({key!r} is in the input word: write it with write)"
                    )
                raise ValueError(
                    f"neuron core {what} must be one of {sorted(memory)}, not {key!r}{hint}"
                )
        for key in memory:
            if key not in values:
                raise ValueError(f"neuron core write needs every {what} word field, not {key!r}")
        checked = {}
        for key, value in values.items():
            value = np.asarray(value)
            if value.dtype.kind not in "iu":
                raise TypeError(f"neuron core {what} {key!r} must be ints, not {value.dtype}")
            fmt = ports[key].format
            bad = value[(value < fmt.min) | (value > fmt.max)]
            if bad.size:
                raise ValueError(
                    f"neuron core {what} {key!r} must fit {fmt.describe()}, not {int(bad.flat[0])}"
                )
            checked[key] = value
        for key, value in checked.items():
            memory[key][addr] = value

    def write(self, addr, values: dict) -> None:
        """Write input words: ``values[port]`` to neuron(s) ``addr`` (as the write port does)."""
        self._write("input", self._inputs, self._params, addr, values)

    def write_params(self, addr, values: dict) -> None:
        """Write parameter words: ``values[port]`` to neuron(s) ``addr`` (as ``par_*`` does)."""
        self._write("parameter", self._params, self._inputs, addr, values)

    def step(self, inputs: dict | None = None) -> np.ndarray:
        """Run one timestep; return the firing addresses in increasing order.

        ``inputs`` (``{port: (n_neurons,) array}``, the input word's ports), when given, first
        overwrites the whole input memory.
        """
        if inputs is not None:
            self.write(slice(None), inputs)
        words = {**self._inputs, **self._params}
        out = self._neurons.run({key: value[None] for key, value in words.items()})
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
    idle : out, 1
        High when no timestep runs and the spike FIFO is empty: every event sent.
    in_addr : in, ``addr_width``
        Neuron whose input word ``in_data`` is written when ``in_we`` is high; present only if
        the input word is not empty (``params`` may take every input port).
    in_data : in, ``input_layout``
        Input word (one field per kernel input port).
    in_we : in, 1
        Write enable of the input memory (ignored while ``busy``).
    par_addr : in, ``addr_width``
        Neuron whose parameter word ``par_data`` is written when ``par_we`` is high; present
        only with ``params``.
    par_data : in, ``param_layout``
        Parameter word (one field per per-neuron parameter).
    par_we : in, 1
        Write enable of the parameter memory (ignored while ``busy``).
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
        members = {"step": In(1), "busy": Out(1), "done": Out(1), "idle": Out(1)}
        if core.input_layout.size:
            members.update({"in_addr": In(aw), "in_data": In(core.input_layout), "in_we": In(1)})
        if core.params:
            members.update({"par_addr": In(aw), "par_data": In(core.param_layout), "par_we": In(1)})
        members.update(
            {
                "rd_addr": In(aw),
                "rd_data": Out(core.state_layout),
                "aer": Out(stream.Signature(core.event_layout)),
            }
        )
        super().__init__(members)

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
        s2_valid = Signal()  # stage 3: s2_state and s2_spike, the update of neuron s2_addr
        s2_addr = Signal(core.addr_width)
        s2_state = Signal(core.state_layout)
        s2_spike = Signal()
        state_data = Signal(core.state_layout)  # the state memory's output (stage 1)

        if core.memory == "spram":
            state_out, input_out, clearing = self._spram(
                m, busy, index, s2_valid, s2_addr, s2_state, reset
            )
            # the sequencer is busy while it clears the memories after reset
            busy_out, ready = busy | clearing, ~clearing
        else:
            state_mem = Memory(shape=core.state_layout, depth=n, init=[reset] * n)
            m.submodules.state_mem = state_mem
            state_rd, state_wr = state_mem.read_port(), state_mem.write_port()
            m.d.comb += [
                state_rd.addr.eq(Mux(busy, index, self.rd_addr)),
                state_wr.addr.eq(s2_addr),
                state_wr.data.eq(s2_state),
                state_wr.en.eq(s2_valid),
            ]
            state_out = state_rd.data
            input_out = None
            if core.input_layout.size:
                write = (self.in_addr, self.in_data, self.in_we & ~busy)
                init = self._init_words(core.input_layout, core.input_init)
                input_out = self._ram(m, "input_mem", init, index, *write)
            busy_out, ready = busy, 1
        m.d.comb += state_data.eq(state_out)
        words = [("input", core.input_layout, input_out)]
        if core.params:
            # block RAM initialised in the bitstream (EBR also when the state is in SPRAM)
            write = (self.par_addr, self.par_data, self.par_we & ~busy_out)
            param_out = self._ram(m, "param_mem", self._param_init(), index, *write)
            words.append(("param", core.param_layout, param_out))
        # stage 2 registers of the input and parameter words (none for an empty word)
        inputs = {}
        for name, layout, out in words:
            if layout.size:
                reg = Signal(layout, name=f"r_{name}")
                m.d.sync += reg.eq(out)
                inputs.update({key: reg[key] for key in layout.members})

        state = {key: r_state[key] for key in kernel.state_fields()}
        next_state, spike = pipelined_update(kernel, m, state, inputs)
        # the neuron in each of the kernel's pipeline stages (none without cuts)
        p_valid, p_addr = self._carry(m, r_valid, r_addr, core.pipeline_stages)
        last_valid, last_addr = [r_valid, *p_valid][-1], [r_addr, *p_addr][-1]
        # Issue a neuron only if the FIFO will have room for its event, whatever the neurons in
        # flight do: the last stage's event is known, the earlier stages count as if they fired.
        # The buffered FIFO is one entry deeper than fifo_depth (its write side is full at depth
        # - 1 unread entries in its memory while its output register may be empty), so this
        # bound holds.
        reserved = fifo.level + (s2_valid & s2_spike) + r_valid + s1_valid
        for valid in p_valid:
            reserved = reserved + valid
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
            self.idle.eq(~busy_out & (fifo.level == 0)),
        ]
        m.d.sync += [
            s1_valid.eq(issue),
            s1_addr.eq(index),
            r_valid.eq(s1_valid),
            r_addr.eq(s1_addr),
            r_state.eq(state_data),
            s2_valid.eq(last_valid),
            s2_addr.eq(last_addr),
            s2_spike.eq(last_valid & spike),
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

    def _carry(self, m, valid, addr, stages: int):
        """Return the valid bits and addresses of the neurons in the kernel's ``stages`` stages.

        Stage ``k`` (1 .. ``stages``) holds the neuron that was in stage ``k - 1`` (``valid``,
        ``addr``) the cycle before.
        """
        valids, addrs = [], []
        for k in range(1, stages + 1):
            v_k = Signal(name=f"p{k}_valid")
            a_k = Signal(self._core.addr_width, name=f"p{k}_addr")
            m.d.sync += [v_k.eq(valid), a_k.eq(addr)]
            valids.append(v_k)
            addrs.append(a_k)
            valid, addr = v_k, a_k
        return valids, addrs

    def _param_init(self) -> list[int]:
        """Return the parameter memory's initial words, packed as in ``param_layout``."""
        return self._init_words(self._core.param_layout, self._core.params)

    def _init_words(self, layout, values: dict) -> list[int]:
        """Return a memory's initial words: ``values`` packed as in ``layout`` (others 0)."""
        words = np.zeros(self._core.n_neurons, dtype=object)
        for key, field in layout:
            if key in values:
                mask = (1 << field.width) - 1
                words += (values[key].astype(object) & mask) << field.offset
        return words.tolist() if values else []

    def _ram(self, m, name, init, rd_addr, wr_addr, wr_data, wr_en):
        """Add a block RAM of ``wr_data``'s width, one read and one write port; return its output.

        The read port reads ``rd_addr`` every cycle (its output one cycle later).
        """
        width = Value.cast(wr_data).shape().width
        mem = Memory(shape=width, depth=self._core.n_neurons, init=init)
        m.submodules[name] = mem
        rd, wr = mem.read_port(), mem.write_port()
        m.d.comb += [
            rd.addr.eq(rd_addr),
            wr.addr.eq(wr_addr),
            wr.data.eq(wr_data),
            wr.en.eq(wr_en),
        ]
        return rd.data

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
            spram = [SPRAM(depth=n) for _ in range(math.ceil(width / 16))]
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
        input_out = None
        if core.input_layout.size:
            input_out = connect(
                blocks("input", core.input_layout.size),
                Mux(clearing, clear_index, Mux(busy, index, self.in_addr)),
                Mux(clearing, 0, self.in_data),
                clearing | (self.in_we & ~busy),
            )
        return state_out, input_out, clearing
