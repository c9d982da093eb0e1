"""Gateware of a whole :class:`~neurogate.core.network.Network`: cores, synapses and a sequencer.

:class:`NetworkGateware` builds one :class:`~neurogate.gateware.neuron_core.NeuronCore` per
population (state in block RAM, one neuron update per clock) and one synapse gateware per
spike connection, wires each population's ``aer`` stream to the synapses it feeds (a fork:
an event is transferred when every consumer is ready) and each synapse's readout into its
target core's input memory, and sequences a timestep:

1. **host phase** (``busy`` low): the host writes the value inputs of the step into the input
   memories of the populations they drive (``<population>_in_addr/_in_data/_in_we``, or a
   staging memory ``<population>_from_<input>_addr/_data/_we``, see below) and pushes
   the address-events of the step's spike inputs (``<input>_aer`` streams); they accumulate in
   the synapses they feed;
2. **fire**: a ``step`` strobe starts every core at once; each updates its neurons from its
   input memory and sends its spikes, as address-events, into its synapses;
3. **route**: when every core is done, its spike FIFO empty and every synapse idle, every
   synapse is flushed: its accumulated currents are written into the target core's input
   memory (replacing the previous step's), where the next timestep reads them;
4. ``done`` is high for one cycle; ``busy`` falls.

This is exactly the model's timestep (:mod:`neurogate.core.network`): a spike connection with
``delay=1`` is the route itself (the spikes of step ``t`` are routed during step ``t`` and
integrated in step ``t + 1``); a longer delay adds a ring of ``delay - 1`` banks of the
synapse's readouts; a value input with delay ``d`` is the host writing the input of step
``t - d`` before step ``t``.

Every connection from a spike source goes through a synapse with flush gateware (``dense``,
``sparse``) and has ``delay >= 1``; anything else is a
:class:`~neurogate.core.network.NetworkError` naming the place. A population's input ports
without an edge take their ``port_values`` from a per-neuron parameter memory (initialised in
the bitstream); the driven ports are written in one of three modes (:func:`plan`):

* ``"value"``: one value input, no bias: the host writes the core's input memory;
* ``"sum"``: synapses with ``delay=1`` into one port: they flush in rounds (the ``r``-th
  incoming synapse of every population in round ``r``), the first into an accumulator memory,
  the last writing saturate(accumulator + bias + readout) into the core;
* ``"merge"``: anything else: the synapses flush into an accumulator memory with a field per
  port, value inputs are written into staging memories, and each timestep begins with a
  *load* pass (``size`` cycles, before the cores start) that writes saturate(sum of the
  port's edges + bias) for every neuron into the core. The sums are exact before the
  saturation, as in the model.

With a mesh (:meth:`~neurogate.core.network.Network.mesh`) the sources' events reach the
synapses through ``mesh_router`` routers instead of directly, and the route phase also waits
until no event is in flight.
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Cat, EnableInserter, Module, Mux, ResetSignal, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from neurogate.core.network import Network, NetworkError
from neurogate.gateware.aer import aer_signature
from neurogate.gateware.neuron_core import NeuronCore

__all__ = ["NetworkGateware", "VectorSynapse", "plan", "route_latency"]


def plan(net: Network, memory: str = "ebr") -> dict:
    """Check that ``net`` can be built as gateware; return its cores and edges.

    Returns ``{"cores": {population: NeuronCore}, "mode": {population: mode}, "ports":
    {population: [driven input ports]}, "incoming": {population: [Connection, ...]}}``, where a
    population's mode is how its input memory is written (see the module docstring):
    ``"none"`` (no incoming edge), ``"value"`` (the host writes it: one value input),
    ``"sum"`` (synapses with ``delay=1`` into one port, flushed into it) or ``"merge"``
    (anything else: a load pass at the start of each timestep sums every edge per port).
    """
    net.check()
    incoming: dict[str, list] = {name: [] for name in net.populations}
    for conn in net.connections:
        incoming[conn.target].append(conn)
        src = net.node(conn.source)
        where = f"connection {conn.source!r} -> {conn.target!r}"
        if src.kind != "value":
            lat = route_latency(conn.synapse)
            if lat is None:
                raise NetworkError(
                    f"{where}: synapse {conn.synapse.name!r} has no flush/readout gateware "
                    "(use 'dense', 'sparse' or 'sc_dense')"
                )
            if conn.delay == 0:
                raise NetworkError(
                    f"{where}: the gateware routes spikes at the end of a timestep, so a "
                    "spike connection needs delay >= 1; delay=0 is only in the model"
                )
            if conn.delay < 1 + lat:
                raise NetworkError(
                    f"{where}: {conn.synapse.name}'s pipeline adds {lat} timestep(s) in the "
                    f"gateware, so it needs delay >= {1 + lat}; delay={conn.delay} is only in "
                    "the model"
                )
    cores, mode, ports = {}, {}, {}
    for name, pop in net.populations.items():
        edges = incoming[name]
        driven = list(dict.fromkeys(c.port for c in edges))
        biased = [k for k in driven if np.any(pop.port_values.get(k, 0))]
        if not edges:
            mode[name] = "none"
        elif len(edges) == 1 and edges[0].synapse is None and not biased:
            mode[name] = "value"
        elif len(driven) == 1 and all(
            c.synapse is not None and c.delay == 1 and not route_latency(c.synapse) for c in edges
        ):
            mode[name] = "sum"
        else:
            mode[name] = "merge"
        ports[name] = driven
        params = {
            key: np.array(np.broadcast_to(value, pop.size), dtype=np.int64)
            for key, value in pop.port_values.items()
            if key not in driven
        }
        # in "sum" mode a bias on the driven port is the input before the first spikes arrive
        init = None
        if mode[name] == "sum" and biased:
            fmt = pop.neuron.input_ports()[driven[0]].format
            bias = np.broadcast_to(pop.port_values[driven[0]], pop.size)
            init = {driven[0]: np.clip(bias, fmt.min, fmt.max).astype(np.int64)}
        try:
            cores[name] = NeuronCore(
                pop.neuron, pop.size, memory=memory, params=params or None, input_init=init
            )
        except (TypeError, ValueError) as exc:
            raise NetworkError(f"population {name!r}: {exc}") from None
        for key in driven:
            if key not in cores[name].input_layout.members:
                raise NetworkError(f"population {name!r}: port {key!r} is not an input word")
    return {"cores": cores, "mode": mode, "ports": ports, "incoming": incoming}


def route_latency(synapse) -> int | None:
    """The timesteps a synapse's gateware adds to a connection: 0 for a synapse with flush
    gateware (``dense``, ``sparse``), ``latency - 1`` for a per-cycle synapse with one bit
    input per source element and one output per target (``sc_dense``: 1), ``None`` if it has
    neither."""
    ports = getattr(synapse, "ports", {})
    if hasattr(synapse, "create") and "flush" in ports:
        return 0
    n_in, n_out = getattr(synapse, "n_in", None), getattr(synapse, "n_out", None)
    if n_in is None or n_out is None or not hasattr(synapse, "create"):
        return None
    vector = all(ports.get(f"x{i}") is not None and ports[f"x{i}"].width == 1 for i in range(n_in))
    if vector and all(f"y{j}" in ports for j in range(n_out)):
        return max(synapse.latency - 1, 0)
    return None


class VectorSynapse(wiring.Component):
    """A per-cycle synapse (``x0..`` bit inputs, ``y0..`` outputs, latency ``L``, such as
    ``sc_dense``) behind the flush interface of ``dense``: address-events set bits of a spike
    vector; ``flush`` clocks the synapse once with that vector (and clears it), then reads its
    ``y`` outputs out, one per clock. The outputs read after the ``t``-th flush are those of
    the ``(t - L + 1)``-th: the connection gains ``L - 1`` timesteps.

    Members: ``aer`` (in, stream; always ready), ``flush`` (in), ``busy``, ``done``,
    ``out_addr``, ``out_data``, ``out_we`` (out), as ``dense`` has them.
    """

    def __init__(self, synapse):
        self.synapse = synapse
        self.inner = synapse.create()
        out = synapse.ports["y0"]
        super().__init__(
            {
                "aer": In(aer_signature(_addr_width(synapse.n_in))),
                "flush": In(1),
                "busy": Out(1),
                "done": Out(1),
                "out_addr": Out(_addr_width(synapse.n_out)),
                "out_data": Out(out.shape),
                "out_we": Out(1),
            }
        )

    def elaborate(self, platform):
        m = Module()
        syn, inner = self.synapse, self.inner
        enable = Signal()
        # the reset is let through: a component may load its reset state on reset (the lfsr
        # generators of sc_dense load their seeds so)
        m.submodules.synapse = EnableInserter(enable | ResetSignal())(inner)
        bits = Signal(syn.n_in)
        m.d.comb += self.aer.ready.eq(1)
        with m.If(self.aer.valid):
            m.d.sync += bits.bit_select(self.aer.payload.addr, 1).eq(1)
        m.d.comb += [getattr(inner, f"x{i}").eq(bits[i]) for i in range(syn.n_in)]
        index = Signal(range(syn.n_out), name="read_index")
        m.d.sync += self.done.eq(0)
        with m.FSM():
            with m.State("IDLE"), m.If(self.flush):
                m.d.comb += enable.eq(1)
                m.d.sync += [bits.eq(0), index.eq(0)]
                m.next = "READ"
            with m.State("READ"):
                m.d.comb += [self.busy.eq(1), self.out_we.eq(1), self.out_addr.eq(index)]
                with m.Switch(index):
                    for j in range(syn.n_out):
                        with m.Case(j):
                            m.d.comb += self.out_data.eq(getattr(inner, f"y{j}"))
                m.d.sync += index.eq(index + 1)
                with m.If(index == syn.n_out - 1):
                    m.d.sync += self.done.eq(1)
                    m.next = "IDLE"
        return m


def _addr_width(size: int) -> int:
    return max(1, (size - 1).bit_length())


class NetworkGateware(wiring.Component):
    """The gateware of ``net`` (see the module docstring).

    Members
    -------
    step : in, 1
        Strobe: start a timestep (ignored while ``busy``).
    busy : out, 1
        High from the cycle after ``step`` until the routing of the step has finished.
    done : out, 1
        High for one cycle at the end of a timestep.
    <population>_in_addr, _in_data, _in_we : in
        Input memory write port of a population driven by a value input alone (host phase).
    <population>_from_<input>_addr, _data, _we : in
        Staging memory of a value input into a population in ``"merge"`` mode (host phase;
        ``_2``, ``_3``... when the same input drives the population more than once).
    <input>_aer : in, stream
        Address-events of a spike input (host phase).
    <population>_rd_addr : in / <population>_rd_data : out
        State read-back of a population (while not busy; data one cycle after the address).
    <population>_spike, _spike_addr : out
        High on a cycle when the population's core sends a spike (an address-event leaves its
        ``aer`` stream), with the neuron's index: what a test bench records (no logic).
    """

    def __init__(self, net: Network, memory: str = "ebr"):
        self.network = net
        self.plan = plan(net, memory)
        members = {"step": In(1), "busy": Out(1), "done": Out(1)}
        #: ``{id(connection): member prefix}`` of each value connection's host write port
        self._value_prefix = {}
        for name, core in self.plan["cores"].items():
            mode = self.plan["mode"][name]
            if mode == "value":
                members[f"{name}_in_addr"] = In(core.addr_width)
                members[f"{name}_in_data"] = In(core.input_layout)
                members[f"{name}_in_we"] = In(1)
                self._value_prefix[id(self.plan["incoming"][name][0])] = f"{name}_in"
            elif mode == "merge":
                for conn in self.plan["incoming"][name]:
                    if conn.synapse is not None:
                        continue
                    prefix = f"{name}_from_{conn.source}"
                    k = 1
                    while f"{prefix}_addr" in members:
                        k += 1
                        prefix = f"{name}_from_{conn.source}_{k}"
                    members[f"{prefix}_addr"] = In(core.addr_width)
                    members[f"{prefix}_data"] = In(net.inputs[conn.source].port.shape)
                    members[f"{prefix}_we"] = In(1)
                    self._value_prefix[id(conn)] = prefix
            members[f"{name}_rd_addr"] = In(core.addr_width)
            members[f"{name}_rd_data"] = Out(core.state_layout)
            members[f"{name}_spike"] = Out(1)
            members[f"{name}_spike_addr"] = Out(core.addr_width)
        for name, node in net.inputs.items():
            if node.kind == "spike":
                members[f"{name}_aer"] = In(aer_signature(_addr_width(node.size)))
        for name, enc in net.encoders.items():
            port = next(iter(enc.encoder.inputs.values()))
            members[f"{name}_in_addr"] = In(_addr_width(enc.size))
            members[f"{name}_in_data"] = In(port.shape)
            members[f"{name}_in_we"] = In(1)
        super().__init__(members)
        self.encoder_units = {
            name: [inst.create() for inst in enc.instances] for name, enc in net.encoders.items()
        }
        self.cores = {name: core.create() for name, core in self.plan["cores"].items()}
        self.synapses = [
            None
            if conn.synapse is None
            else conn.synapse.create()
            if "flush" in conn.synapse.ports
            else VectorSynapse(conn.synapse)
            for conn in net.connections
        ]

    def value_prefix(self, conn) -> str:
        """Return the member name prefix of value connection ``conn``'s host write port."""
        return self._value_prefix[id(conn)]

    def value_port(self, conn):
        """Return the host write port ``(addr, data, we, whole_word)`` of value connection
        ``conn``: the target's input memory (``whole_word``: ``data`` is the input word) or,
        for a population in ``"merge"`` mode, the connection's own staging memory (``data``
        is the value)."""
        prefix = self.value_prefix(conn)
        addr, data, we = (getattr(self, f"{prefix}_{s}") for s in ("addr", "data", "we"))
        return addr, data, we, self.plan["mode"][conn.target] == "value"

    def elaborate(self, platform):
        m = Module()
        net = self.network
        cores, syns = self.cores, self.synapses
        for name, core in cores.items():
            m.submodules[f"core_{name}"] = core
            m.d.comb += [
                core.rd_addr.eq(getattr(self, f"{name}_rd_addr")),
                getattr(self, f"{name}_rd_data").eq(core.rd_data),
                getattr(self, f"{name}_spike").eq(core.aer.valid & core.aer.ready),
                getattr(self, f"{name}_spike_addr").eq(core.aer.payload.addr),
            ]
        for i, syn in enumerate(syns):
            if syn is not None:
                m.submodules[f"syn{i}"] = syn

        # encoders: one unit per element, advanced once per timestep (``tick``, with the cores'
        # step strobe) from a register the host writes; a scanner then sends the spiking
        # elements' indices as address-events, one per clock
        tick = Signal()
        scanners, scanning = {}, []
        for name, units in self.encoder_units.items():
            enc = net.encoders[name]
            port = next(iter(enc.encoder.inputs))
            addr = getattr(self, f"{name}_in_addr")
            data = getattr(self, f"{name}_in_data")
            we = getattr(self, f"{name}_in_we")
            spikes = []
            for i, unit in enumerate(units):
                m.submodules[f"enc_{name}_{i}"] = EnableInserter(tick | ResetSignal())(unit)
                x = Signal.like(data, name=f"{name}_x{i}")
                with m.If(we & (addr == i)):
                    m.d.sync += x.eq(data)
                m.d.comb += getattr(unit, port).eq(x)
                spikes.append(getattr(unit, enc.output))
            bits = Cat(*spikes)
            src = aer_signature(_addr_width(enc.size)).create(path=(f"{name}_scan",))
            index = Signal(range(enc.size + 1), name=f"{name}_index")
            active = Signal(name=f"{name}_scanning")
            current = bits.bit_select(index, 1)
            m.d.comb += [src.valid.eq(active & current), src.payload.addr.eq(index)]
            with m.If(active & (~current | src.ready)):
                m.d.sync += index.eq(index + 1)
                with m.If(index == enc.size - 1):
                    m.d.sync += active.eq(0)
            with m.If(tick):
                m.d.sync += [index.eq(0), active.eq(1)]
            scanners[name] = src
            scanning.append(active)

        # sources -> synapses: each source stream forks to every synapse it feeds, directly or
        # (with a mesh) through the mesh routers
        streams = {}
        for source in [*net.inputs, *net.encoders, *net.populations]:
            if source in net.inputs and net.inputs[source].kind == "value":
                continue
            if source in net.inputs:
                streams[source] = getattr(self, f"{source}_aer")
            elif source in scanners:
                streams[source] = scanners[source]
            else:
                streams[source] = cores[source].aer
        sinks = {source: [] for source in streams}
        for conn, syn in zip(net.connections, syns, strict=True):
            if syn is not None:
                sinks[conn.source].append((conn, syn))
        mesh_quiet = 1
        if net.noc is None:
            for source, src in streams.items():
                _fork(m, source, src, [syn for _, syn in sinks[source]], src.payload.addr)
        else:
            mesh_quiet = self._route_mesh(m, streams, sinks)

        # synapse readout -> target input memory; host writes for value-driven populations
        # (see the module docstring for the modes)
        self._index = {id(c): i for i, c in enumerate(net.connections)}
        groups = {
            name: [c for c in edges if c.synapse is not None]
            for name, edges in self.plan["incoming"].items()
        }
        rounds = max([len(g) for g in groups.values()] + [1])
        rnd = Signal(range(max(rounds, 2)), name="route_round")
        load_start, advance = Signal(), Signal()
        syn_round, loads = {}, []
        for name, core in cores.items():
            mode = self.plan["mode"][name]
            for r, conn in enumerate(groups[name]):
                syn_round[id(syns[self._index[id(conn)]])] = r
            if mode == "value":
                addr, data, we, _ = self.value_port(self.plan["incoming"][name][0])
                m.d.comb += [core.in_addr.eq(addr), core.in_data.eq(data), core.in_we.eq(we)]
            elif mode == "sum":
                self._route_sum(m, name, core, groups[name], rnd)
            elif mode == "merge":
                loads.append(
                    self._route_merge(m, name, core, groups[name], rnd, load_start, advance)
                )

        # the sequencer
        live = [s for s in syns if s is not None]
        core_done = {name: Signal(name=f"{name}_done_seen") for name in cores}
        syn_done = [Signal(name=f"syn{i}_done_seen") for i in range(len(live))]
        quiet = 1
        for name, core in cores.items():
            quiet = quiet & (core_done[name] | core.done) & core.idle
        for syn in live:
            quiet = quiet & ~syn.busy
        for active in scanning:
            quiet = quiet & ~active
        quiet = quiet & mesh_quiet
        round_of = [syn_round.get(id(syn), 0) for syn in live]
        all_flushed = 1  # every synapse of the current round has finished its flush
        for seen, syn, r in zip(syn_done, live, round_of, strict=True):
            all_flushed = all_flushed & ((rnd != r) | seen | syn.done)
        loading = 0
        for pending in loads:
            loading = loading | pending

        def fire():
            m.d.comb += [core.step.eq(1) for core in cores.values()]
            m.d.comb += tick.eq(1)
            m.d.sync += [seen.eq(0) for seen in core_done.values()]
            m.d.sync += [seen.eq(0) for seen in syn_done]
            m.next = "FIRE"

        with m.FSM():
            with m.State("IDLE"), m.If(self.step):
                if loads:
                    m.d.comb += load_start.eq(1)
                    m.next = "LOAD"
                else:
                    fire()
            if loads:
                with m.State("LOAD"):
                    m.d.comb += self.busy.eq(1)
                    with m.If(~loading):
                        fire()
            with m.State("FIRE"):
                m.d.comb += self.busy.eq(1)
                for name, core in cores.items():
                    with m.If(core.done):
                        m.d.sync += core_done[name].eq(1)
                with m.If(quiet):
                    m.d.comb += [
                        syn.flush.eq(1) for syn, r in zip(live, round_of, strict=True) if not r
                    ]
                    m.d.sync += rnd.eq(0)
                    m.next = "ROUTE" if live else "DONE"
            with m.State("ROUTE"):
                m.d.comb += self.busy.eq(1)
                for seen, syn in zip(syn_done, live, strict=True):
                    with m.If(syn.done):
                        m.d.sync += seen.eq(1)
                with m.If(all_flushed):
                    with m.If(rnd == rounds - 1):
                        m.next = "DONE"
                    with m.Else():
                        m.d.sync += rnd.eq(rnd + 1)
                        for syn, r in zip(live, round_of, strict=True):
                            if r:
                                with m.If(rnd == r - 1):
                                    m.d.comb += syn.flush.eq(1)
            with m.State("DONE"):
                m.d.comb += [self.done.eq(1), advance.eq(1)]
                m.next = "IDLE"
        return m

    def _route_mesh(self, m, streams, sinks):
        """Carry every source's events through a mesh of ``mesh_router`` routers to the nodes of
        the synapses they feed (see :meth:`~neurogate.core.network.Network.mesh`).

        Every spike source gets a range of global addresses (its neurons); an event leaves its
        source's node once per destination node (an injector holds it and sends the copies one
        per clock; several injectors on one node share its mesh input through ``aer_merge``),
        with the global address as the router's local part. At a node, an event goes to the
        synapses there that its source feeds, with the source's own address. Returns the
        condition "nothing in flight" (a counter of copies injected minus delivered, and no
        injector holding an event) for the sequencer.
        """
        from neurogate.plugins.routers.aer_merge import AerMerge
        from neurogate.plugins.routers.mesh_router import Mesh

        net, noc = self.network, self.network.noc
        offset, total = {}, 0
        for source in streams:
            offset[source] = total
            total += net.node(source).size
        local_width = max(1, (total - 1).bit_length())
        mesh = Mesh(noc.width, noc.height, local_width)
        m.submodules.mesh = mesh
        router = mesh.routers[0, 0]
        inputs = {node: [] for node in mesh.routers}
        injected, delivered, holding = [], [], []
        for source, src in streams.items():
            dests = sorted({noc.node_of(conn.target) for conn, _ in sinks[source]})
            if not dests:
                m.d.comb += src.ready.eq(1)
                continue
            out = aer_signature(mesh.addr_width).create(path=(f"{source}_inject",))
            held = Signal(name=f"{source}_held")
            local = Signal(local_width, name=f"{source}_global")
            copy = Signal(range(max(len(dests), 2)), name=f"{source}_copy")
            last = copy == len(dests) - 1
            m.d.comb += [out.valid.eq(held), src.ready.eq(~held | (out.ready & last))]
            with m.Switch(copy):
                for k, (x, y) in enumerate(dests):
                    with m.Case(k):
                        m.d.comb += out.payload.addr.eq(local | router.address(x, y, 0))
            with m.If(out.valid & out.ready):
                with m.If(last):
                    m.d.sync += held.eq(0)
                with m.Else():
                    m.d.sync += copy.eq(copy + 1)
            with m.If(src.valid & src.ready):
                m.d.sync += [
                    held.eq(1),
                    local.eq(src.payload.addr + offset[source]),
                    copy.eq(0),
                ]
            inputs[noc.node_of(source)].append(out)
            injected.append(out.valid & out.ready)
            holding.append(held)
        for (x, y), outs in inputs.items():
            port = getattr(mesh, f"i_{x}_{y}")
            if not outs:
                m.d.comb += port.valid.eq(0)
            elif len(outs) == 1:
                wiring.connect(m, outs[0], port)
            else:
                merge = AerMerge(inputs=len(outs), addr_width=mesh.addr_width).create()
                m.submodules[f"merge_{x}_{y}"] = merge
                for k, out in enumerate(outs):
                    wiring.connect(m, out, getattr(merge, f"i{k}"))
                wiring.connect(m, merge.o, port)
            here = getattr(mesh, f"o_{x}_{y}")
            local = here.payload.addr[:local_width]
            ready = 1
            for source in streams:
                syns = [syn for conn, syn in sinks[source] if noc.node_of(conn.target) == (x, y)]
                if not syns:
                    continue
                size = net.node(source).size
                match = (local >= offset[source]) & (local < offset[source] + size)
                group = Signal(name=f"to_{x}_{y}_from_{source}")
                m.d.comb += group.eq(match)
                fake = aer_signature(_addr_width(size)).create(path=(f"{source}_at_{x}_{y}",))
                group_ready = _fork(
                    m, f"{source}_at_{x}_{y}", fake, syns, local - offset[source],
                    here.valid & group,
                )  # fmt: skip
                ready = ready & (~group | group_ready)
            m.d.comb += here.ready.eq(ready)
            delivered.append(here.valid & here.ready)
        width = max(1, (total * len(mesh.routers)).bit_length() + 1)
        in_flight = Signal(width, name="mesh_in_flight")
        m.d.sync += in_flight.eq(in_flight + sum(injected) - sum(delivered))
        quiet = in_flight == 0
        for held in holding:
            quiet = quiet & ~held
        return quiet

    def _readout(self, m, name, core, group, rnd):
        """The readout of round ``rnd``'s synapse into ``name``, and the same registered (one
        cycle later, when the read-modify-write memories answer)."""
        syns = [self.synapses[self._index[id(c)]] for c in group]
        width = max(len(syn.out_data) for syn in syns)
        sel_addr = Signal.like(core.in_addr, name=f"{name}_sel_addr")
        sel_data = Signal(signed(width), name=f"{name}_sel_data")
        sel_we = Signal(name=f"{name}_sel_we")
        with m.Switch(rnd):
            for r, syn in enumerate(syns):
                with m.Case(r):
                    m.d.comb += [
                        sel_addr.eq(syn.out_addr),
                        sel_data.eq(syn.out_data),
                        sel_we.eq(syn.out_we),
                    ]
        addr_r = Signal.like(sel_addr, name=f"{name}_sel_addr_r")
        data_r = Signal.like(sel_data, name=f"{name}_sel_data_r")
        we_r = Signal(name=f"{name}_sel_we_r")
        rnd_r = Signal.like(rnd, name=f"{name}_round_r")
        m.d.sync += [addr_r.eq(sel_addr), data_r.eq(sel_data), we_r.eq(sel_we), rnd_r.eq(rnd)]
        return (sel_addr, sel_data, sel_we), (addr_r, data_r, we_r, rnd_r)

    def _route_sum(self, m, name, core, group, rnd):
        """``"sum"`` mode: the synapses flush in rounds (the r-th incoming synapse of every
        population in round r); the first rounds add into an accumulator memory
        (read-modify-write, one cycle behind the readout), the last writes saturate(accumulator
        + bias + readout) into the core's input memory."""
        net = self.network
        pop = net.populations[name]
        port = self.plan["ports"][name][0]
        fmt = pop.neuron.input_ports()[port].format  # saturating
        bias = np.array(np.broadcast_to(pop.port_values.get(port, 0), pop.size), dtype=np.int64)
        if len(group) == 1 and not bias.any():
            syn = self.synapses[self._index[id(group[0])]]
            m.d.comb += [
                core.in_addr.eq(syn.out_addr),
                getattr(core.in_data, port).eq(fmt.fit_value(syn.out_data)),
                core.in_we.eq(syn.out_we),
            ]
            return
        (sel_addr, sel_data, _), (addr_r, data_r, we_r, rnd_r) = self._readout(
            m, name, core, group, rnd
        )
        k = len(group)
        width = len(sel_data) + (k - 1).bit_length()
        first_r, last_r = rnd_r == 0, rnd_r == k - 1
        partial, bias_width = 0, 0
        if k > 1:
            acc = Memory(shape=signed(width), depth=pop.size, init=[])
            m.submodules[f"{name}_sum"] = acc
            wr = acc.write_port()
            # not transparent: a round's last write lands before the next round's first read
            # (the next flush starts after the synapse's registered done)
            rd = acc.read_port()
            partial = Mux(first_r, 0, rd.data)
            m.d.comb += [
                rd.addr.eq(sel_addr),
                wr.addr.eq(addr_r),
                wr.data.eq(data_r + partial),
                wr.en.eq(we_r & ~last_r),
            ]
        if bias.any():
            rom = _rom(m, f"{name}_bias", bias)
            bias_width = len(rom.data)
            m.d.comb += rom.addr.eq(sel_addr)
            partial = partial + rom.data
        total = Signal(signed(max(width, bias_width) + 2), name=f"{name}_sum_total")
        m.d.comb += [
            total.eq(data_r + partial),
            core.in_addr.eq(addr_r),
            getattr(core.in_data, port).eq(fmt.fit_value(total)),
            core.in_we.eq(we_r & last_r),
        ]

    def _route_merge(self, m, name, core, group, rnd, load_start, advance):
        """``"merge"`` mode: every synapse (any port, any delay) flushes into its port's field
        of an accumulator memory, a delayed one through a ring of ``delay - 1`` banks; value
        inputs are written by the host into staging memories. At the start of a timestep a load
        pass writes, for every neuron, saturate(accumulator + staged values + bias) per port
        into the core's input memory. Returns the load pass's busy signal."""
        net = self.network
        pop = net.populations[name]
        n = pop.size
        inputs = pop.neuron.input_ports()
        driven = self.plan["ports"][name]
        # the load pass: one neuron per clock, the sums one cycle behind the address
        active = Signal(name=f"{name}_load_active")
        laddr = Signal.like(core.in_addr, name=f"{name}_load_addr")
        with m.If(load_start):
            m.d.sync += [active.eq(1), laddr.eq(0)]
        with m.Elif(active):
            m.d.sync += laddr.eq(laddr + 1)
            with m.If(laddr == n - 1):
                m.d.sync += active.eq(0)
        laddr_r = Signal.like(laddr, name=f"{name}_load_addr_r")
        lwe_r = Signal(name=f"{name}_load_we_r")
        m.d.sync += [laddr_r.eq(laddr), lwe_r.eq(active)]
        terms = {key: [] for key in driven}
        if group:
            syns = [self.synapses[self._index[id(c)]] for c in group]
            (sel_addr, _, _), (addr_r, data_r, we_r, rnd_r) = self._readout(
                m, name, core, group, rnd
            )
            fields = {}
            for key in driven:
                widths = [
                    len(s.out_data) for c, s in zip(group, syns, strict=True) if c.port == key
                ]
                if widths:
                    fields[key] = signed(max(widths) + (len(widths) - 1).bit_length())
            acc = Memory(shape=data.StructLayout(fields), depth=n, init=[])
            m.submodules[f"{name}_acc"] = acc
            wr = acc.write_port()
            rd = acc.read_port()
            m.d.comb += [rd.addr.eq(Mux(active, laddr, sel_addr)), wr.addr.eq(addr_r)]
            word = Signal(data.StructLayout(fields), name=f"{name}_acc_word")
            m.d.comb += [word.eq(rd.data), wr.data.eq(word), wr.en.eq(we_r)]
            values = [
                data_r
                if conn.delay == 1 + route_latency(conn.synapse)
                else self._delay_line(
                    m, name, r, conn, syn, sel_addr, (addr_r, data_r), we_r & (rnd_r == r), advance
                )
                for r, (conn, syn) in enumerate(zip(group, syns, strict=True))
            ]
            first = set()
            with m.Switch(rnd_r):
                for r, (conn, value) in enumerate(zip(group, values, strict=True)):
                    with m.Case(r):
                        old = getattr(rd.data, conn.port)
                        new = old + value if conn.port in first else value
                        m.d.comb += getattr(word, conn.port).eq(new)
                    first.add(conn.port)
            for key in fields:
                terms[key].append(getattr(rd.data, key))
        for conn in self.plan["incoming"][name]:
            if conn.synapse is None:
                addr, value, we, _ = self.value_port(conn)
                stage = Memory(shape=value.shape(), depth=n, init=[])
                m.submodules[f"{self._value_prefix[id(conn)]}_stage"] = stage
                swr, srd = stage.write_port(), stage.read_port()
                m.d.comb += [
                    swr.addr.eq(addr),
                    swr.data.eq(value),
                    swr.en.eq(we & ~self.busy),
                    srd.addr.eq(laddr),
                ]
                terms[conn.port].append(srd.data)
        for key in driven:
            bias = np.array(np.broadcast_to(pop.port_values.get(key, 0), n), dtype=np.int64)
            if bias.any():
                rom = _rom(m, f"{name}_{key}_bias", bias)
                m.d.comb += rom.addr.eq(laddr)
                terms[key].append(rom.data)
        for key in driven:
            width = max(len(t) for t in terms[key]) + 1 + len(terms[key]).bit_length()
            total = Signal(signed(width), name=f"{name}_{key}_total")
            m.d.comb += [
                total.eq(sum(terms[key][1:], terms[key][0])),
                getattr(core.in_data, key).eq(inputs[key].format.fit_value(total)),
            ]
        m.d.comb += [core.in_addr.eq(laddr_r), core.in_we.eq(lwe_r)]
        return active | lwe_r

    def _delay_line(self, m, name, r, conn, syn, sel_addr, write, we, advance):
        """Delay connection ``conn``'s readouts by ``delay - 1`` more timesteps: a ring of
        ``delay - 1`` banks of ``n`` words; a readout replaces the word it reads (the readout
        of ``delay - 1`` steps ago), which goes on into the accumulator instead."""
        banks = conn.delay - 1 - route_latency(conn.synapse)
        n = self.network.populations[name].size
        line = Memory(shape=signed(len(syn.out_data)), depth=banks * n, init=[])
        m.submodules[f"{name}_delay{r}"] = line
        slot = Signal(range(max(banks, 2)), name=f"{name}_delay{r}_slot")
        with m.If(advance):
            m.d.sync += slot.eq(Mux(slot == banks - 1, 0, slot + 1))
        rd, wr = line.read_port(), line.write_port()
        addr_r, data_r = write
        m.d.comb += [
            rd.addr.eq(slot * n + sel_addr),
            wr.addr.eq(slot * n + addr_r),
            wr.data.eq(data_r),
            wr.en.eq(we),
        ]
        return rd.data


def _fork(m, name, src, syns, addr, valid=None):
    """Send stream ``src``'s events (address ``addr``) to every synapse of ``syns``: a transfer
    when all are ready (``valid``: when the event is for them; default ``src.valid``). Returns
    the ready of the group; with no synapses the events are drained."""
    valid = src.valid if valid is None else valid
    if not syns:
        m.d.comb += src.ready.eq(1)  # nobody listens: drain
        return 1
    all_ready = Signal(name=f"{name}_all_ready")
    ready = 1
    for syn in syns:
        ready = ready & syn.aer.ready
    m.d.comb += all_ready.eq(ready)
    for syn in syns:
        m.d.comb += [syn.aer.valid.eq(valid & all_ready), syn.aer.payload.addr.eq(addr)]
    m.d.comb += src.ready.eq(all_ready)
    return all_ready


def _rom(m, name, values):
    """A read port of a ROM of ``values`` (signed, as narrow as they allow)."""
    width = max(int(values.min()).bit_length(), int(values.max()).bit_length()) + 1
    rom = Memory(shape=signed(width), depth=len(values), init=values.tolist())
    m.submodules[name] = rom
    return rom.read_port()
