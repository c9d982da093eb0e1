"""The network graph: inputs, populations of neurons and synapse layers, and its NumPy model.

A :class:`Network` is built in Python (or read from a TOML design file with
:func:`neurogate.core.design.load`):

* :meth:`Network.input` declares an external input: a **spike** vector (one bit per neuron per
  timestep) or a **value** vector (an integer of ``width`` bits per element per timestep);
* :meth:`Network.population` adds ``size`` neurons of one neuron component
  (a :class:`~neurogate.core.neuron.NeuronKernel`, e.g. ``"lif_shift"``);
* :meth:`Network.connect` joins a source (an input or a population) to an input port of a
  population, through a synapse component (spike edges) or directly (value edges), with a
  ``delay`` in timesteps;
* :meth:`Network.probe` records a state field of a population (spikes are always recorded).

Edges are typed and checked when they are made: a spike source drives a synapse whose
``n_in`` is the source's size and whose ``n_out`` is the target's size; a value source drives a
port directly and must have the population's size and fit the port's width. A connection from
a population needs ``delay >= 1`` unless it goes forward: zero-delay edges must not form a
cycle (the error names it).

**Timestep phases.** Timestep ``t`` of the model: (1) *integrate*: each population's input
ports receive the sum, over their incoming edges, of the synapse output for the source's
spikes (or values) of timestep ``t - delay`` (nothing before ``t = 0``), plus the population's
``port_values`` of that port (an int, or one per neuron: a constant drive, or a bias on the
edges' sum; 0 if not given), saturated to the port's range. A port with neither an edge nor a
``port_values`` is an error (:meth:`Network.check`); (2) *fire*:
each population applies its neuron update to that input (populations joined by zero-delay
edges in topological order). The default ``delay=1`` is what AER hardware does: spikes of step
``t`` are routed during step ``t`` and integrated in step ``t + 1``.

Synapse components (``kind == "synapse"``) provide ``n_in``, ``n_out`` and ``out_port`` (a
:class:`~neurogate.core.component.Port` describing one output value), and a model with
``step(spikes) -> values`` (``spikes`` a boolean array of ``n_in``, values an ``int64`` array
of ``n_out``), one call per timestep.

>>> import numpy as np
>>> import neurogate as ng
>>> net = Network("tiny")
>>> _ = net.input("drive", size=2, kind="value", width=8, signed=True)
>>> _ = net.population("p", "if_neuron", size=2, threshold=10)
>>> _ = net.connect("drive", "p", port="current", delay=0)
>>> out = net.model().run({"drive": [[4, 6]] * 4})
>>> out["p"]["spike"].astype(int).tolist()
[[0, 0], [0, 1], [1, 0], [0, 1]]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from .component import Component, Port
from .neuron import NeuronKernel

__all__ = [
    "Connection",
    "Encoder",
    "Input",
    "MeshPlacement",
    "Network",
    "NetworkError",
    "NetworkModel",
    "Population",
]

_KINDS = ("spike", "value")


class NetworkError(ValueError):
    """A network that cannot be built: the message names the node, edge or port at fault."""


@dataclasses.dataclass(frozen=True)
class Input:
    """An external input: ``size`` elements of ``kind`` (``"spike"`` or ``"value"``)."""

    name: str
    size: int
    kind: str = "spike"
    width: int = 1
    signed: bool = False

    @property
    def port(self) -> Port:
        """The format of one element."""
        return Port("in", self.width, self.signed, f"input {self.name}")


@dataclasses.dataclass(frozen=True)
class Encoder:
    """``size`` encoders turning the value input ``source`` into spikes or bitstreams.

    ``instances`` holds one component per element: the same one for a deterministic encoder,
    distinct sequences for a random one (allocated across the whole network). ``output`` is
    the encoder's 1-bit output port: ``"spike"`` (a temporal encoder; the node's ``kind`` is
    ``"spike"``) or ``"bit"`` (a stochastic-computing encoder; ``kind`` is ``"bitstream"``).
    """

    name: str
    encoder: Component
    source: str
    size: int
    instances: tuple
    output: str = "spike"

    @property
    def kind(self) -> str:
        """``"spike"`` or ``"bitstream"`` (see :attr:`output`)."""
        return "bitstream" if self.output == "bit" else "spike"


@dataclasses.dataclass(frozen=True)
class Population:
    """``size`` neurons of ``neuron``; ``port_values`` is added to each port's drive.

    A port value is one int for every neuron or a read-only array of one int per neuron: the
    constant input of a port no edge drives, or a bias added to the edges' sum.
    """

    name: str
    neuron: NeuronKernel
    size: int
    port_values: Mapping[str, int] = dataclasses.field(default_factory=dict)
    kind = "spike"


@dataclasses.dataclass(frozen=True)
class MeshPlacement:
    """A ``width x height`` mesh of cores (``mesh_router``) and the node each source and
    population sits on (``place``; anything not named sits on node ``(0, 0)``)."""

    width: int
    height: int
    place: Mapping[str, tuple[int, int]]

    def node_of(self, name: str) -> tuple[int, int]:
        """The mesh node of input, encoder or population ``name``."""
        return tuple(self.place.get(name, (0, 0)))


@dataclasses.dataclass(frozen=True)
class Connection:
    """An edge from ``source`` to ``target.port``, through ``synapse`` (or direct)."""

    source: str
    target: str
    port: str
    synapse: Component | None
    delay: int


def _check_name(name, what):
    if not isinstance(name, str) or not name.isidentifier():
        raise NetworkError(f"{what} name must be an identifier (letters, digits, _), not {name!r}")


def _component(where: str, value, params: dict, what: str):
    """Return ``value`` if it is a component, else the registered component it names."""
    if isinstance(value, str):
        from neurogate import component

        try:
            return component(value, **params)
        except (LookupError, TypeError, ValueError) as exc:
            raise NetworkError(f"{where}: {str(exc).strip(chr(39))}") from None
    if params:
        raise NetworkError(f"{where}: give params with {what} name, not with a component")
    return value


def _port_value(where: str, key: str, value, port: Port, size: int):
    """Check a constant port value: an int, or one int per neuron (returned read-only)."""
    fmt = port.format
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if not fmt.min <= value <= fmt.max:
            raise NetworkError(f"{where}: {key}={value} does not fit {fmt.describe()}")
        return int(value)
    arr = np.asarray(value)
    if arr.dtype.kind not in "iu" or arr.shape != (size,):
        raise NetworkError(
            f"{where}: {key} must be an int or {size} ints (one per neuron), not "
            f"{'an array of shape ' + str(arr.shape) if arr.ndim else repr(value)}"
            + (f" and dtype {arr.dtype}" if arr.ndim and arr.dtype.kind not in "iu" else "")
        )
    bad = np.flatnonzero((arr < fmt.min) | (arr > fmt.max))
    if bad.size:
        raise NetworkError(f"{where}: {key}[{bad[0]}]={arr[bad[0]]} does not fit {fmt.describe()}")
    arr = arr.astype(np.int64)
    arr.setflags(write=False)
    return arr


def _check_int(value, what, lo, hi=None):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise NetworkError(f"{what} must be an int, not {value!r}")
    if value < lo or (hi is not None and value > hi):
        rng = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise NetworkError(f"{what} must be an int {rng}, not {value!r}")
    return int(value)


class Network:
    """A graph of inputs, populations and connections (see the module docstring)."""

    def __init__(self, name: str = "network"):
        _check_name(name, "network")
        self.name = name
        self.inputs: dict[str, Input] = {}
        self.encoders: dict[str, Encoder] = {}
        self.populations: dict[str, Population] = {}
        self.connections: list[Connection] = []
        self.probes: dict[str, tuple[str, ...]] = {}
        # the sequences of the network's random sources (encoder elements, SC synapse rows),
        # by sequence key, with their owner; and the next allocation index of each family
        self._sequences: dict = {}
        self._cursor: dict = {}
        self.noc: MeshPlacement | None = None

    # -- building --------------------------------------------------------------------------
    def _new_name(self, name, what):
        _check_name(name, what)
        if name in self.inputs or name in self.populations or name in self.encoders:
            raise NetworkError(f"{self.name}: the name {name!r} is already used")

    def input(self, name: str, size: int, kind: str = "spike", width: int = 1, signed=False):
        """Declare an external input of ``size`` elements; return it."""
        self._new_name(name, "input")
        size = _check_int(size, f"input {name!r} size", 1)
        if kind not in _KINDS:
            raise NetworkError(
                f"input {name!r} kind must be one of {', '.join(map(repr, _KINDS))}, not {kind!r}"
            )
        if kind == "spike":
            width, signed = 1, False
        width = _check_int(width, f"input {name!r} width", 1, 64)
        if not isinstance(signed, bool):
            raise NetworkError(f"input {name!r} signed must be a bool, not {signed!r}")
        node = Input(name, size, kind, width, signed)
        self.inputs[name] = node
        return node

    def encoder(self, name: str, encoder, source: str, **params):
        """Encode the value input ``source`` into spikes or bitstreams, one ``encoder`` per
        element.

        ``encoder`` (a component, or its name with ``params``) is a temporal encoder (one input
        port and a 1-bit ``spike`` output, such as ``"rate"``, ``"latency"``, ``"phase"``,
        ``"burst"``, ``"sigma_delta"``): the node carries spikes; or a stochastic-computing
        encoder (a 1-bit ``bit`` output: ``"lfsr"``, ``"sobol"``, ``"halton"``, ``"vdc"``,
        ``"bernoulli"``): the node carries bitstreams, one bit per element per timestep, for
        SC synapses (``"sc_dense"``). Each element of a random encoder gets its own sequence,
        distinct from every other random source of the network (encoders and SC synapse rows).
        """
        self._new_name(name, "encoder")
        where = f"encoder {name!r}"
        encoder = _component(where, encoder, params, "an encoder")
        ins, outs = getattr(encoder, "inputs", {}), getattr(encoder, "outputs", {})
        output = next((k for k in ("spike", "bit") if k in outs and outs[k].width == 1), None)
        if encoder.kind != "encoder" or len(ins) != 1 or output is None:
            raise NetworkError(
                f"{where}: {getattr(encoder, 'name', encoder)!r} is not a temporal or SC "
                "encoder (one input port and a 1-bit 'spike' output: burst, latency, phase, "
                "rate, sigma_delta; or a 1-bit 'bit' output: bernoulli, halton, lfsr, sobol, "
                "vdc)"
            )
        src = self.inputs.get(source)
        if src is None or src.kind != "value":
            raise NetworkError(f"{where}: the source {source!r} must be a value input")
        port = next(iter(ins.values()))
        if not (port.format.min <= src.port.format.min and src.port.format.max <= port.format.max):
            raise NetworkError(
                f"{where}: {source!r} values ({src.port.format.describe()}) do not fit the "
                f"encoder's input ({port.format.describe()})"
            )
        if encoder.sequence_key() is None:
            instances = (encoder,) * src.size
        else:
            instances = tuple(
                self._allocate(f"{where} element {i}", encoder) for i in range(src.size)
            )
        node = Encoder(name, encoder, source, src.size, instances, output)
        self.encoders[name] = node
        return node

    def _allocate(self, owner: str, component: Component) -> Component:
        """Return ``component`` with the first allocated seed whose sequence no random source
        of the network uses yet, and reserve that sequence for ``owner``."""
        family = component.allocate_seed(0).sequence_key()
        index = self._cursor.get(family, 0)
        while True:
            candidate = component.allocate_seed(index)
            key = candidate.sequence_key()
            index += 1
            if key not in self._sequences:
                break
        self._cursor[family] = index
        self._sequences[key] = owner
        return candidate

    def _reserve_rows(self, where: str, synapse: Component) -> Component:
        """Reserve the row sequences of an SC synapse (``random_sources``); when they collide
        with another random source, give the synapse fresh seeds if the caller did not choose
        them, else raise :class:`~neurogate.sc.SeedCollisionError` naming both."""
        sources = getattr(synapse, "random_sources", None)
        if sources is None:
            return synapse
        from neurogate.sc import SeedCollisionError

        rows = list(sources(f"{where}: {synapse.name}").items())
        clash = [(name, gen) for name, gen in rows if gen.sequence_key() in self._sequences]
        if clash:
            if synapse.is_given("seeds"):
                name, gen = clash[0]
                key = gen.sequence_key()
                raise SeedCollisionError(
                    name,
                    self._sequences[key],
                    key,
                    "give other seeds, or leave seeds out and the network picks free ones",
                )
            seeds = [self._allocate(name, gen).seed for name, gen in rows]
            return synapse.replace(seeds=tuple(seeds))
        for name, gen in rows:
            self._sequences[gen.sequence_key()] = name
        return synapse

    def population(self, name: str, neuron, size: int, port_values=None, **params):
        """Add ``size`` neurons of ``neuron`` (a name plus ``params``, or a component)."""
        self._new_name(name, "population")
        size = _check_int(size, f"population {name!r} size", 1)
        neuron = _component(f"population {name!r}", neuron, params, "a neuron")
        if not isinstance(neuron, NeuronKernel):
            raise NetworkError(
                f"population {name!r}: {getattr(neuron, 'name', neuron)!r} is not a neuron "
                "kernel (a NeuronKernel component such as 'lif_shift')"
            )
        values = {}
        ports = neuron.input_ports()
        for key, value in dict(port_values or {}).items():
            if key not in ports:
                raise NetworkError(
                    f"population {name!r}: {neuron.name} has no input port {key!r}; "
                    f"its inputs are: {', '.join(ports)}"
                )
            values[key] = _port_value(f"population {name!r}", key, value, ports[key], size)
        node = Population(name, neuron, size, values)
        self.populations[name] = node
        return node

    def connect(self, source: str, target: str, synapse=None, port=None, delay: int = 1, **params):
        """Connect ``source`` to ``target``'s input ``port`` (default: its first input port).

        ``synapse`` is a synapse component or its registered name (with ``params``); ``None``
        connects a value input directly.
        """
        where = f"connection {source!r} -> {target!r}"
        src = self.node(source)
        if src is None:
            raise NetworkError(f"{where}: no input, encoder or population named {source!r}")
        dst = self.populations.get(target)
        if dst is None:
            what = "an input (inputs have no ports)" if target in self.inputs else "unknown"
            raise NetworkError(f"{where}: the target {target!r} is {what}; targets are populations")
        ports = dst.neuron.input_ports()
        port = port or next(iter(ports))
        if port not in ports:
            raise NetworkError(
                f"{where}: {dst.neuron.name} has no input port {port!r}; "
                f"its inputs are: {', '.join(ports)}"
            )
        delay = _check_int(delay, f"{where} delay", 0, 1 << 16)
        target_port = ports[port]
        synapse = _component(where, synapse, params, "a synapse")
        if synapse is None:
            if src.kind != "value":
                example = "'sc_dense'" if src.kind == "bitstream" else "'dense'"
                raise NetworkError(
                    f"{where}: a {src.kind} source needs a synapse (e.g. synapse={example}) to "
                    f"drive the {target_port.width}-bit port {port!r}"
                )
            if src.size != dst.size:
                raise NetworkError(
                    f"{where}: size mismatch: {source!r} has {src.size} elements, "
                    f"{target!r} has {dst.size} neurons"
                )
            fits = src.port.format.min >= target_port.format.min and (
                src.port.format.max <= target_port.format.max
            )
            if not fits:
                raise NetworkError(
                    f"{where}: {source!r} values ({src.port.format.describe()}) do not fit "
                    f"port {port!r} ({target_port.format.describe()})"
                )
        else:
            if getattr(synapse, "kind", None) != "synapse":
                raise NetworkError(f"{where}: {synapse!r} is not a synapse component")
            accepts = getattr(synapse, "input_kinds", ("spike",))
            if src.kind == "value":
                raise NetworkError(f"{where}: a synapse takes spikes; {source!r} carries values")
            if src.kind not in accepts:
                raise NetworkError(
                    f"{where}: {synapse.name} takes {' or '.join(accepts)}s; {source!r} carries "
                    f"{src.kind}s (an SC synapse such as 'sc_dense' takes bitstreams)"
                )
            if (synapse.n_in, synapse.n_out) != (src.size, dst.size):
                raise NetworkError(
                    f"{where}: shape mismatch: {synapse.name} is {synapse.n_in} x "
                    f"{synapse.n_out}, the edge needs {src.size} x {dst.size}"
                )
        saved = dict(self._sequences), dict(self._cursor)
        try:
            if synapse is not None:
                synapse = self._reserve_rows(where, synapse)
            conn = Connection(source, target, port, synapse, delay)
            self.connections.append(conn)
            try:
                self.order()
            except NetworkError:
                self.connections.pop()
                raise
        except ValueError:  # NetworkError, SeedCollisionError: the network is left unchanged
            self._sequences, self._cursor = saved
            raise
        return conn

    def mesh(self, width: int, height: int, place: Mapping[str, Any] | None = None):
        """Spread the network over a ``width x height`` mesh of cores (multi-core gateware).

        ``place`` maps inputs, encoders and populations to their node ``(x, y)``; the others
        sit on node ``(0, 0)``. A population's synapses sit on its node; spikes travel from
        their source's node to every node with a synapse they feed as address-events through
        ``mesh_router`` routers (X then Y). The model does not change: routing happens within
        the route phase, whatever the mesh. Names may be placed before they are added;
        :meth:`check` checks them.
        """
        width = _check_int(width, "mesh width", 1, 64)
        height = _check_int(height, "mesh height", 1, 64)
        nodes = {}
        for name, node in dict(place or {}).items():
            try:
                x, y = (int(v) for v in node)
            except (TypeError, ValueError):
                raise NetworkError(
                    f"mesh: the node of {name!r} must be a pair (x, y), not {node!r}"
                ) from None
            if not (0 <= x < width and 0 <= y < height):
                raise NetworkError(
                    f"mesh: {name!r} is placed on node ({x}, {y}), outside the {width} x "
                    f"{height} mesh (x in 0..{width - 1}, y in 0..{height - 1})"
                )
            nodes[name] = (x, y)
        self.noc = MeshPlacement(width, height, nodes)
        return self.noc

    def node(self, name: str):
        """Return the input, encoder or population called ``name`` (``None`` if none)."""
        return self.inputs.get(name) or self.encoders.get(name) or self.populations.get(name)

    def probe(self, population: str, *fields: str) -> None:
        """Record the state ``fields`` of ``population`` in :meth:`NetworkModel.run`."""
        pop = self.populations.get(population)
        if pop is None:
            raise NetworkError(f"probe: no population named {population!r}")
        state = pop.neuron.state_fields()
        for key in fields:
            if key not in state:
                raise NetworkError(
                    f"probe {population!r}: {pop.neuron.name} has no state {key!r}; "
                    f"its state is: {', '.join(state)}"
                )
        self.probes[population] = tuple(dict.fromkeys(self.probes.get(population, ()) + fields))

    # -- analysis --------------------------------------------------------------------------
    def order(self) -> list[str]:
        """Return the populations in update order (zero-delay edges first to last).

        Raises :class:`NetworkError` naming a cycle of zero-delay edges.
        """
        deps = {name: set() for name in self.populations}
        for c in self.connections:
            if c.delay == 0 and c.source in self.populations:
                deps[c.target].add(c.source)
        done: list[str] = []
        state: dict[str, int] = {}

        def visit(node, path):
            if state.get(node) == 2:
                return
            if state.get(node) == 1:
                cycle = [*path[path.index(node) :], node]
                raise NetworkError(
                    f"{self.name}: a cycle of zero-delay connections: {' -> '.join(cycle)} "
                    "(give one of them delay >= 1)"
                )
            state[node] = 1
            for dep in sorted(deps[node]):
                visit(dep, [*path, node])
            state[node] = 2
            done.append(node)

        for name in self.populations:
            visit(name, [])
        return done

    def check(self) -> None:
        """Raise :class:`NetworkError` for an empty network, an input or encoder that drives
        nothing, or a population input port with neither a connection nor a ``port_values``."""
        if not self.populations:
            raise NetworkError(f"{self.name}: the network has no population")
        used = {c.source for c in self.connections} | {e.source for e in self.encoders.values()}
        for name in self.inputs:
            if name not in used:
                raise NetworkError(f"{self.name}: input {name!r} is not connected to anything")
        for name in self.encoders:
            if name not in used:
                raise NetworkError(f"{self.name}: encoder {name!r} is not connected to anything")
        if self.noc is not None:
            for name in self.noc.place:
                if self.node(name) is None:
                    raise NetworkError(
                        f"{self.name}: mesh: {name!r} is placed but is no input, encoder or "
                        "population"
                    )
        driven = {(c.target, c.port) for c in self.connections}
        for name, pop in self.populations.items():
            for key in pop.neuron.input_ports():
                if (name, key) not in driven and key not in pop.port_values:
                    raise NetworkError(
                        f"{self.name}: input port {key!r} of population {name!r} "
                        f"({pop.neuron.name}) is not connected; connect it, or give "
                        f"port_values={{{key!r}: 0}} for a constant"
                    )

    def model(self) -> NetworkModel:
        """Return the bit-true NumPy model of the network (see the module docstring)."""
        self.check()
        return NetworkModel(self)

    def __repr__(self):
        return (
            f"Network({self.name!r}: {len(self.inputs)} inputs, "
            + (f"{len(self.encoders)} encoders, " if self.encoders else "")
            + f"{len(self.populations)} populations, {len(self.connections)} connections)"
        )


def _fits(net: Network, conn: Connection, port: Port) -> bool:
    """Whether every value ``conn`` can deliver fits ``port`` (so no clip is needed)."""
    if conn.synapse is None:
        fmt = net.inputs[conn.source].port.format
    else:
        out_port = getattr(conn.synapse, "out_port", None)
        if out_port is None:
            return False
        fmt = out_port.format
    return port.format.min <= fmt.min and fmt.max <= port.format.max


class NetworkModel:
    """The NumPy model of a :class:`Network`: :meth:`run` steps every population per timestep."""

    def __init__(self, network: Network):
        self.network = network
        self.reset()

    def reset(self) -> None:
        """Return every neuron to its reset state and forget spike history."""
        net = self.network
        self._state = {
            name: {k: np.full(p.size, v, dtype=np.int64) for k, v in p.neuron.reset_state().items()}
            for name, p in net.populations.items()
        }
        self._syn = [c.synapse.model() if c.synapse is not None else None for c in net.connections]
        depth = max([c.delay for c in net.connections] + [0]) + 1
        # history of every source: ring buffer of the last `depth` timesteps (row t % depth)
        self._depth = depth
        self._hist = {}
        for name, node in {**net.inputs, **net.encoders, **net.populations}.items():
            dtype = np.int64 if node.kind == "value" else np.bool_
            self._hist[name] = np.zeros((depth, node.size), dtype=dtype)
        # encoders: one model of n instances, or one per element when seeds differ
        self._enc = {}
        for name, enc in net.encoders.items():
            if all(inst is enc.encoder for inst in enc.instances):
                self._enc[name] = [enc.encoder.model(enc.size)]
            else:
                self._enc[name] = [inst.model(1) for inst in enc.instances]
        self._t = 0

    def _encode(self, arrays: dict, steps: int) -> dict:
        """Return each encoder's spikes for the run, ``(steps, size)`` booleans."""
        out = {}
        for name, enc in self.network.encoders.items():
            x = arrays[enc.source]
            port = next(iter(enc.encoder.inputs))
            models = self._enc[name]
            if len(models) == 1:
                spikes = models[0].run({port: x}, steps=steps)[enc.output]
            else:
                cols = [m.run({port: x[:, i : i + 1]}, steps=steps)[enc.output] for i, m in
                        enumerate(models)]  # fmt: skip
                spikes = np.concatenate(cols, axis=1) if cols else np.zeros((steps, 0))
            out[name] = spikes.astype(bool)
        return out

    def _check_inputs(self, inputs, steps):
        net = self.network
        inputs = dict(inputs or {})
        for key in inputs:
            if key not in net.inputs:
                names = ", ".join(net.inputs) or "(none)"
                raise NetworkError(f"{net.name} has no input {key!r}; its inputs are: {names}")
        arrays = {}
        for key, node in net.inputs.items():
            if key not in inputs:
                raise NetworkError(f"{net.name}: input {key!r} is missing")
            arr = np.asarray(inputs[key])
            if arr.dtype == np.bool_:
                arr = arr.astype(np.uint8)
            if arr.dtype.kind not in "iu":
                raise NetworkError(f"input {key!r} must be an integer array, not dtype {arr.dtype}")
            if arr.ndim != 2 or arr.shape[1] != node.size:
                raise NetworkError(
                    f"input {key!r} must have shape (steps, {node.size}), not {arr.shape}"
                )
            fmt = node.port.format
            if arr.size and (arr.min() < fmt.min or arr.max() > fmt.max):
                bad = np.argwhere((arr < fmt.min) | (arr > fmt.max))[0]
                raise NetworkError(
                    f"input {key!r} value {arr[tuple(bad)]} at step {bad[0]}, element {bad[1]} "
                    f"does not fit {fmt.describe()}"
                )
            arrays[key] = arr.astype(np.int64)
        lengths = {a.shape[0] for a in arrays.values()}
        if steps is None:
            if len(lengths) != 1:
                raise NetworkError(
                    f"{net.name}: give steps= (no inputs)"
                    if not lengths
                    else f"{net.name}: inputs have different lengths {sorted(lengths)}"
                )
            steps = lengths.pop()
        elif any(n < steps for n in lengths):
            raise NetworkError(f"{net.name}: inputs are shorter than steps={steps}")
        return arrays, int(steps)

    def run(
        self, inputs: Mapping[str, Any] | None = None, steps: int | None = None, progress=None
    ) -> dict:
        """Run ``steps`` timesteps; return ``{population: {"spike": (T, n), field: (T, n)}}``.

        ``inputs`` maps each input name to an integer array of shape ``(steps, size)``. State
        carries over between calls (:meth:`reset` starts again). ``progress``: a tqdm bar
        (``True``), none (``False``), or one for long runs only (``None``).
        """
        net = self.network
        arrays, steps = self._check_inputs(inputs, steps)
        order = net.order()
        out = {
            name: {
                "spike": np.zeros((steps, net.populations[name].size), dtype=np.bool_),
                **{
                    f: np.zeros((steps, net.populations[name].size), dtype=np.int64)
                    for f in net.probes.get(name, ())
                },
            }
            for name in order
        }
        # per population, fixed for the run: its input ports, the constant drive of ports
        # without an edge, and its edges, each with whether its sum must be clipped
        plans = []
        for name in order:
            pop = net.populations[name]
            ports = pop.neuron.input_ports()
            const = {}
            for k in ports:
                arr = np.array(np.broadcast_to(pop.port_values.get(k, 0), pop.size), np.int64)
                arr.setflags(write=False)
                const[k] = arr
            edges = [
                (c, syn) for c, syn in zip(net.connections, self._syn, strict=True)
                if c.target == name
            ]  # fmt: skip
            fan_in = {k: sum(c.port == k for c, _ in edges) for k in ports}
            biased = {k for k in ports if np.any(const[k])}
            clip = {}
            for k, port in ports.items():
                fits = all(_fits(net, c, port) for c, _ in edges if c.port == k) and (
                    fan_in[k] + (k in biased) <= 1
                )
                clip[k] = None if fits else (port.format.min, port.format.max)
            probes = net.probes.get(name, ())
            plans.append((name, pop.neuron, const, edges, clip, biased, out[name], probes))
        depth, hist = self._depth, self._hist
        encoded = self._encode(arrays, steps)
        arrays = {**arrays, **encoded}  # encoder spikes enter the history like inputs
        neurons = sum(p.size for p in net.populations.values())
        show = progress if progress is not None else steps * neurons >= 5_000_000
        bar = None
        if show:
            from tqdm import tqdm

            bar = tqdm(total=steps, desc=net.name, unit="step", leave=False, disable=None)
        for step in range(steps):
            t = self._t
            row = t % depth
            for key, arr in arrays.items():
                hist[key][row] = arr[step]
            for name, neuron, const, edges, clip, biased, rec, probes in plans:
                drive = dict(const)
                touched = []
                for conn, syn in edges:
                    if t < conn.delay:
                        continue
                    src = hist[conn.source][(t - conn.delay) % depth]
                    value = syn.step(src) if syn is not None else src
                    key = conn.port
                    if key in touched or key in biased:
                        drive[key] = drive[key] + value
                    else:
                        drive[key] = value
                    touched.append(key)
                for key in set(touched):
                    bounds = clip[key]
                    if bounds is not None:
                        drive[key] = np.clip(drive[key], *bounds)
                state, spike = neuron.update_np(self._state[name], drive)
                self._state[name] = state
                hist[name][row] = spike
                rec["spike"][step] = spike
                for f in probes:
                    rec[f][step] = state[f]
            self._t += 1
            if bar is not None and step % 64 == 63:
                bar.update(64)
        if bar is not None:
            bar.close()
        return out

    @property
    def state(self) -> dict:
        """``{population: {field: array}}`` after the last step."""
        return {k: {f: v.copy() for f, v in s.items()} for k, s in self._state.items()}
