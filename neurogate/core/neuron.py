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
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Module, Signal

from .component import Component, Gateware, Model, Port

__all__ = ["NeuronKernel", "ParallelNeuronGateware", "ParallelNeuronModel"]


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
