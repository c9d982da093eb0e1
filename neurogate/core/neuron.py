"""The neuron-kernel contract: a per-neuron update written once in Amaranth and once in NumPy.

A neuron plugin subclasses :class:`NeuronKernel` and writes its update twice, as pure functions
of ``(state, inputs) -> (state', spike)``:

* :meth:`NeuronKernel.update_hdl` builds it from Amaranth values (combinational);
* :meth:`NeuronKernel.update_np` computes it on NumPy arrays of ``n`` neurons at once.

The framework wraps the update. The **parallel** wrapper here keeps each neuron's state in
registers: one clock cycle is one timestep, every state field is also an output port showing
the state after the step, and ``spike`` is registered (latency 1). Its model steps
:meth:`~NeuronKernel.update_np` over time. Both are derived from the two update functions, so a
kernel that is bit-true step by step is bit-true in the wrapper. (The time-multiplexed core that
holds thousands of neurons in block RAM is built on the same two functions.)

State fields are declared by :meth:`NeuronKernel.state_fields` as ``{name: Port("out", width,
signed, doc, init)}``; the port's ``init`` is the reset value. Inputs are the other ports the
kernel declares in :meth:`NeuronKernel.input_ports`.

>>> import numpy as np
>>> from amaranth.hdl import Mux
>>> import neurogate as ng
>>> from neurogate.core.component import Port
>>> class Counter(ng.NeuronKernel):
...     '''Integrate-and-fire without leak on a 8-bit state: fire at 10, reset to 0.'''
...     name = "doc_counter"
...     def state_fields(self):
...         return {"v": Port("out", 8, True, "potential")}
...     def input_ports(self):
...         return {"current": Port("in", 4, True, "input")}
...     def update_np(self, state, inputs):
...         v = state["v"] + inputs["current"]
...         spike = v >= 10
...         return {"v": np.where(spike, 0, v)}, spike
...     def update_hdl(self, m, state, inputs):
...         v = state["v"] + inputs["current"]
...         spike = v >= 10
...         return {"v": Mux(spike, 0, v)}, spike
>>> neuron = Counter()
>>> neuron.model(1).run({"current": [4, 4, 4, 4]})["v"][:, 0].tolist()
[4, 8, 0, 4]
>>> _ = ng.sim.compare(neuron, steps=100, n=3, seed=1)

**Pipeline cuts.** The parallel wrapper does a whole update in one clock cycle, so a long update
(a Hodgkin-Huxley step is a chain of eight multiplies) runs at a low clock. In the
time-multiplexed core every neuron is visited once per timestep, so the update can be
pipelined without hazards: a kernel marks cut points in :meth:`~NeuronKernel.update_hdl` with
:meth:`~NeuronKernel.stage` and says how many it makes in
:attr:`~NeuronKernel.pipeline_stages`. ``live = self.stage(m, live)`` returns the dict ``live``
unchanged in the parallel wrapper (which stays one step per clock, latency 1) and registered
in the core, where an update then takes ``pipeline_stages + 1`` clock cycles instead of one
and a timestep ``pipeline_stages`` cycles more. The NumPy model is the same for both: cuts
change the timing, never the values. A kernel that makes no cut is built exactly as before.

The rules, on every path through the update:

* one call per cut, in order: the first cut gets values computed from ``state`` and
  ``inputs``, each later cut values computed from what the previous call returned, and the
  returned next state and spike come from the last call. A value needed after a cut (the old
  ``v``, an input) is passed through it;
* ``tables={name: (words, addr)}`` reads ``words[addr]`` (a ROM of ints) across the cut: the
  address is computed before it, the word (returned under ``name``) used after it. In the
  parallel wrapper the ROM is read combinationally (LUTs); in the core it is a synchronous
  read, which the synthesiser puts in block RAM with the cut's register inside it;
* ``cut=False`` makes a call a pass-through everywhere (its tables read combinationally) that
  does not count: a kernel with a parameter for its number of stages calls
  :meth:`~NeuronKernel.stage` at every candidate point and cuts at some of them;
* Python ints pass through a cut as constants;
* a cut registers each value at its whole Amaranth shape, and the synthesiser cannot narrow a
  register (or the multiplier after it) the way it narrows a combinational path: Amaranth's
  ``x >> k`` keeps the width of ``x``, so write ``x.shift_right(k)`` (``k`` bits narrower) or
  slice a value to its range before a cut.

Where to cut: on the ECP5 a wide product (several MULT18X18D and the adders of their partial
products, with the routes to and from the multiplier blocks) takes most of a 20 ns cycle, so
``hh_stn`` has levels that are each one multiply of registered values, or adds and a clip, and
its 1000-neuron core runs at 56 MHz (benchmarks/README.md). :func:`spread_cuts` places a
kernel's ``stages`` cuts among its candidate points.

The core checks what it can see while it elaborates: the number of cuts, and that no value
from before a cut is mixed with one after it (a ``state["v"]`` left in after the first cut
raises ``ValueError`` naming it). Values that only reach the update through signals the kernel
drives itself (a submodule's output, a ``comb`` signal) are not traced; the bit-true run of the
kernel in the core (:func:`neurogate.testing.run_neuron_core`) is the real check.

>>> class Pipelined(Counter):
...     name = "doc_counter_pipelined"
...     @property
...     def pipeline_stages(self):
...         return 2
...     def update_hdl(self, m, state, inputs):
...         live = self.stage(m, {"v": state["v"] + inputs["current"]})
...         live = self.stage(m, {"v": live["v"], "spike": live["v"] >= 10})
...         return {"v": Mux(live["spike"], 0, live["v"])}, live["spike"]
>>> _ = ng.sim.compare(Pipelined(), steps=100, n=3, seed=1)  # parallel: one step per clock
>>> from neurogate.gateware.neuron_core import NeuronCore
>>> NeuronCore(Pipelined(), n_neurons=3).cycles_per_step  # n + 4 + pipeline_stages
9
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping

import numpy as np
from amaranth.hdl import Module, Signal, Value, ValueCastable, signed, unsigned
from amaranth.lib.memory import Memory

from .component import Component, Gateware, Model, Port

__all__ = [
    "NeuronKernel",
    "ParallelNeuronGateware",
    "ParallelNeuronModel",
    "pipelined_update",
    "spread_cuts",
]


class NeuronKernel(Component):
    """Base class of neuron plugins written as one update function (see the module docstring).

    Subclasses set :attr:`name`, declare their parameters, and implement
    :meth:`state_fields`, :meth:`input_ports`, :meth:`update_np` and :meth:`update_hdl`. They get
    :attr:`ports`, :attr:`latency`, :meth:`model` and :meth:`create` (the parallel wrapper).

    Members
    -------
    (inputs) : in
        As declared by :meth:`input_ports`.
    spike : out, 1
        1 on the step the neuron fires; registered.
    (state fields) : out
        As declared by :meth:`state_fields`: each shows the state after the step; registered.
    """

    kind = "neuron"

    def state_fields(self) -> dict[str, Port]:
        """Return ``{name: Port("out", width, signed, doc, init)}`` for each state variable."""
        raise NotImplementedError

    def input_ports(self) -> dict[str, Port]:
        """Return ``{name: Port("in", width, signed, doc)}`` for each per-neuron input."""
        raise NotImplementedError

    def update_np(self, state: dict, inputs: dict):
        """Return ``(next_state, spike)`` for ``n`` neurons at once.

        ``state`` and ``inputs`` map names to ``int64`` arrays of shape ``(n,)`` (do not modify
        them in place); ``next_state`` must hold every state field, each within its port's
        range, and ``spike`` is a boolean (or 0/1) array of shape ``(n,)``.
        """
        raise NotImplementedError

    def update_hdl(self, m: Module, state: dict, inputs: dict):
        """Return ``(next_state, spike)`` as Amaranth values, combinationally.

        ``state`` and ``inputs`` map names to Amaranth values of the declared shapes; ``m`` may
        receive combinational statements and submodules (never ``sync`` ones: the wrapper owns
        the registers). Each next-state value is assigned to a field of its declared shape, so
        it must already be in range: apply the overflow policy explicitly.
        """
        raise NotImplementedError

    @property
    def pipeline_stages(self) -> int:
        """Number of pipeline cuts :meth:`update_hdl` makes with :meth:`stage` (0: none).

        The time-multiplexed core takes that many clock cycles more per update (and per
        timestep); the parallel wrapper ignores cuts. A kernel that cuts overrides it.
        """
        return 0

    def stage(
        self, m: Module, values: Mapping, tables: Mapping | None = None, *, cut: bool = True
    ) -> dict:
        """Mark a pipeline cut in :meth:`update_hdl`; return ``values`` and the tables' words.

        ``values`` maps names to Amaranth values (or ints, which stay constants). The returned
        dict holds the same names, registered in the time-multiplexed core and unchanged
        elsewhere, and one entry per table of ``tables`` (``{name: (words, addr)}``): the word
        of ``words`` (ints) at ``addr``, read across the cut (a synchronous ROM read in the
        core, a combinational one elsewhere). With ``cut=False`` the call is a pass-through
        everywhere (tables read combinationally) and does not count as a cut. The rules are in
        the module docstring.
        """
        if not isinstance(values, Mapping):
            raise TypeError(
                f"{self.name}.stage values must be a dict {{name: value}}, not {values!r}"
            )
        tables = dict(tables or {})
        for key, spec in tables.items():
            if key in values:
                raise ValueError(
                    f"{self.name}.stage table name must differ from the value names, not {key!r}"
                )
            if not (isinstance(spec, tuple) and len(spec) == 2):
                raise TypeError(
                    f"{self.name}.stage table {key!r} must be a tuple (words, addr), not {spec!r}"
                )
        pipeline = _PIPELINE.get()
        if pipeline is None:
            return {**values, **_read_tables(m, tables, "comb")}
        return pipeline.stage(m, values, tables, cut)

    def reset_state(self) -> dict[str, int]:
        """Return the reset value of each state field (the ``init`` of its port)."""
        return {key: port.init for key, port in self.state_fields().items()}

    @property
    def ports(self):
        ports = dict(self.input_ports())
        ports["spike"] = Port("out", 1, False, "spike")
        ports.update(self.state_fields())
        return ports

    @property
    def latency(self):
        return 1

    def model(self, n=1):
        return ParallelNeuronModel(self, n)

    def create(self):
        return ParallelNeuronGateware(self)

    def properties(self, m, dut):
        """Assert that the parallel wrapper equals the time-multiplexed core, step by step.

        A second implementation of the same kernel runs beside ``dut``: a one-neuron
        :class:`~neurogate.gateware.neuron_core.NeuronCore`, given the same inputs. Whenever
        the core is idle it is strobed, and a copy of the parallel wrapper steps once (a clock
        enable): by the next strobe the core must have sent a spike event exactly when the
        wrapper spiked (``same_as_core:spike``), and the core's state (``rd_data``, one cycle
        later) must equal every state field of the wrapper (``same_as_core:FIELD``). The core's
        timing does not matter, so this holds for pipelined kernels too. A kernel without input
        ports declares none. Subclasses that add properties call ``super().properties(m, dut)``
        to keep it.
        """
        from amaranth.hdl import Assert, EnableInserter, ResetSignal

        from neurogate.gateware.neuron_core import NeuronCore
        from neurogate.sim.formal import past

        if not self.input_ports():
            return
        m.submodules.core = core = NeuronCore(self, n_neurons=1, fifo_depth=1).create()
        strobe = Signal(name="core_strobe")
        m.d.comb += strobe.eq(core.idle & ~ResetSignal())
        ref = self.create()
        m.submodules.stepped = EnableInserter(strobe)(ref)
        for key in self.input_ports():
            value = getattr(dut, key)
            m.d.comb += [getattr(ref, key).eq(value), core.in_data[key].eq(value)]
        m.d.comb += [core.in_we.eq(1), core.step.eq(strobe), core.aer.ready.eq(1)]
        spiked = Signal(name="core_spiked")  # an event since the last strobe
        with m.If(strobe):
            m.d.sync += spiked.eq(0)
        with m.Elif(core.aer.valid):
            m.d.sync += spiked.eq(1)
        checked = Signal(name="core_checked")  # a strobe after the first
        m.d.comb += checked.eq(strobe & past(m, ~ResetSignal()))
        with m.If(checked):
            m.d.comb += Assert(spiked == ref.spike, "same_as_core:spike")
        # rd_data shows the state one cycle after the strobe; the wrapper has stepped again
        with m.If(past(m, checked)):
            for key in self.state_fields():
                before = past(m, getattr(ref, key))
                m.d.comb += Assert(core.rd_data[key] == before, f"same_as_core:{key}")


class ParallelNeuronModel(Model):
    """Model of ``n`` independent neurons: :meth:`NeuronKernel.update_np` stepped over time."""

    def reset(self):
        self._state = {
            key: np.full(self.n, value, dtype=np.int64)
            for key, value in self.component.reset_state().items()
        }

    def _run(self, inputs, steps):
        kernel = self.component
        fields = kernel.state_fields()
        out = {key: np.empty((steps, self.n), dtype=np.int64) for key in fields}
        spikes = np.zeros((steps, self.n), dtype=np.uint8)
        arrays = {key: np.asarray(value, dtype=np.int64) for key, value in inputs.items()}
        state = self._state
        for t in range(steps):
            state, spike = kernel.update_np(state, {key: a[t] for key, a in arrays.items()})
            for key, port in fields.items():
                value = np.asarray(state[key], dtype=np.int64)
                fmt = port.format
                if value.size and (value.min() < fmt.min or value.max() > fmt.max):
                    raise OverflowError(
                        f"{kernel.name}.update_np returned {key} out of its range "
                        f"{fmt.describe()} at step {t}: a kernel must apply its overflow policy"
                    )
                out[key][t] = value
            spikes[t] = spike
        self._state = {key: arr[-1].copy() for key, arr in out.items()} if steps else state
        return {"spike": spikes, **out}


class ParallelNeuronGateware(Gateware):
    """Gateware of one neuron: state in registers, :meth:`NeuronKernel.update_hdl` in between."""

    def elaborate(self, platform):
        m = Module()
        kernel = self.params
        state = {key: getattr(self, key) for key in kernel.state_fields()}
        inputs = {key: getattr(self, key) for key in kernel.input_ports()}
        next_state, spike = kernel.update_hdl(m, state, inputs)
        for key, value in next_state.items():
            nxt = Signal.like(state[key], name=f"{key}_next", init=0)
            m.d.comb += nxt.eq(value)
            m.d.sync += state[key].eq(nxt)
        m.d.sync += self.spike.eq(spike)
        return m


# -- pipeline cuts --------------------------------------------------------------------------------
def _table_shape(words: list[int]):
    lo, hi = min(words), max(words)
    if lo < 0:
        return signed(max(lo.bit_length(), hi.bit_length()) + 1)
    return unsigned(max(hi.bit_length(), 1))


def _read_tables(m: Module, tables: Mapping, domain: str) -> dict:
    """Read each ``(words, addr)`` of ``tables`` from a ROM; return ``{name: read data}``."""
    out = {}
    for key, (words, addr) in tables.items():
        words = [int(word) for word in words]
        if not words:
            raise ValueError(f"neuron kernel table {key!r} must have a word, not none")
        rom = Memory(shape=_table_shape(words), depth=len(words), init=words)
        m.submodules[f"table_{key}"] = rom
        port = rom.read_port(domain=domain)
        m.d.comb += port.addr.eq(addr)
        out[key] = port.data
    return out


def _stage_name(stage: int) -> str:
    return "state and inputs" if stage == 0 else f"what cut {stage} returned"


class _Pipeline:
    """The cut points of one :meth:`NeuronKernel.update_hdl` call in the core, as registers.

    It knows the stage of each signal it was given (``state`` and ``inputs``: stage 0) or made
    (what cut ``k`` returns: stage ``k``) and raises when a cut or the result mixes stages.
    """

    def __init__(self, kernel: NeuronKernel, start):
        self.kernel = kernel
        self.cuts = 0
        self._stage: dict[int, tuple[int, Signal]] = {}  # id(signal): (stage, signal)
        for value in start:
            self._mark(value, 0)

    def _mark(self, value, stage: int) -> None:
        for sig in Value.cast(value)._rhs_signals():
            self._stage[id(sig)] = (stage, sig)

    def check(self, values: Mapping, stage: int, what: str) -> None:
        """Raise unless every traced signal under ``values`` is of stage ``stage``."""
        for key, value in values.items():
            if isinstance(value, int):
                continue
            for sig in Value.cast(value)._rhs_signals():
                found = self._stage.get(id(sig))
                if found is not None and found[0] != stage:
                    raise ValueError(
                        f"{self.kernel.name}.update_hdl {what} {key!r} must be computed from "
                        f"{_stage_name(stage)}, not from {found[1].name!r} of "
                        f"{_stage_name(found[0])}: pass what is needed after a cut through it"
                    )

    def stage(self, m: Module, values: Mapping, tables: dict, cut: bool) -> dict:
        """The core's :meth:`NeuronKernel.stage`."""
        here = self.cuts
        self.check(values, here, "stage() value")
        self.check({key: addr for key, (_, addr) in tables.items()}, here, "table address")
        if not cut:
            out = {**values, **_read_tables(m, tables, "comb")}
            for key in tables:
                self._mark(out[key], here)
            return out
        self.cuts = after = here + 1
        out = {}
        for key, value in values.items():
            if isinstance(value, int):
                out[key] = value
                continue
            shape = value.shape() if isinstance(value, ValueCastable) else Value.cast(value).shape()
            reg = Signal(shape, name=f"p{after}_{key}", reset_less=True)
            m.d.sync += reg.eq(value)
            out[key] = reg
        out.update(_read_tables(m, tables, "sync"))
        for value in out.values():
            if not isinstance(value, int):
                self._mark(value, after)
        return out


# The pipeline of the update_hdl call that the core is elaborating (None: every cut is a
# pass-through, as in the parallel wrapper).
_PIPELINE: contextvars.ContextVar[_Pipeline | None] = contextvars.ContextVar(
    "neurogate_pipeline", default=None
)


def pipelined_update(kernel: NeuronKernel, m: Module, state: dict, inputs: dict):
    """Call ``kernel.update_hdl`` with its cuts as registers: the time-multiplexed core's call.

    ``state`` and ``inputs`` are one neuron's registered values; the returned ``(next_state,
    spike)`` are the update of the neuron that came in ``kernel.pipeline_stages`` cycles
    earlier. Raise ``ValueError`` if the update makes another number of cuts, or mixes values
    of two stages where that can be seen (see the module docstring).
    """
    pipeline = _Pipeline(kernel, [*state.values(), *inputs.values()])
    token = _PIPELINE.set(pipeline)
    try:
        next_state, spike = kernel.update_hdl(m, state, inputs)
    finally:
        _PIPELINE.reset(token)
    stages = kernel.pipeline_stages
    if pipeline.cuts != stages:
        raise ValueError(
            f"{kernel.name}.update_hdl must make {stages} pipeline cuts (its pipeline_stages), "
            f"not {pipeline.cuts}"
        )
    pipeline.check({**next_state, "spike": spike}, stages, "result")
    return next_state, spike


def spread_cuts(stages: int, levels: int) -> tuple[int, ...]:
    """Return where ``stages`` cuts go among ``levels`` candidate points ``0 .. levels - 1``.

    The first cut is at point 0 (where a kernel reads its tables across it), the others spread
    evenly over the rest; a kernel with a ``stages`` knob cuts at these points and passes
    ``cut=False`` at the others.

    >>> spread_cuts(0, 8), spread_cuts(1, 8), spread_cuts(3, 8), spread_cuts(4, 4)
    ((), (0,), (0, 3, 5), (0, 1, 2, 3))
    """
    if not 0 <= stages <= levels:
        raise ValueError(f"stages must be an int in 0..{levels}, not {stages!r}")
    if not stages:
        return ()
    more = stages - 1
    return (0, *(round(levels * (i + 1) / (more + 1)) for i in range(more)))
