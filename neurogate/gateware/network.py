"""Gateware of a whole :class:`~neurogate.core.network.Network`: cores, synapses and a sequencer.

:class:`NetworkGateware` builds one :class:`~neurogate.gateware.neuron_core.NeuronCore` per
population (state in block RAM, one neuron update per clock) and one synapse gateware per
spike connection, wires each population's ``aer`` stream to the synapses it feeds (a fork:
an event is transferred when every consumer is ready) and each synapse's readout into its
target core's input memory, and sequences a timestep:

1. **host phase** (``busy`` low): the host writes the value inputs of the step into the input
   memories of the populations they drive (``<population>_in_addr/_in_data/_in_we``) and pushes
   the address-events of the step's spike inputs (``<input>_aer`` streams); they accumulate in
   the synapses they feed;
2. **fire**: a ``step`` strobe starts every core at once; each updates its neurons from its
   input memory and sends its spikes, as address-events, into its synapses;
3. **route**: when every core is done, its spike FIFO empty and every synapse idle, every
   synapse is flushed: its accumulated currents are written into the target core's input
   memory (replacing the previous step's), where the next timestep reads them;
4. ``done`` is high for one cycle; ``busy`` falls.

This is exactly the model's timestep (:mod:`neurogate.core.network`): a spike connection has
a one-step delay (the spikes of step ``t`` are routed during step ``t`` and integrated in step
``t + 1``), and a value input with delay ``d`` is the host writing the input of step
``t - d`` before step ``t``.

Supported networks (anything else is a :class:`~neurogate.core.network.NetworkError` naming
the place): every connection from a spike source goes through a synapse component with
gateware (``dense``, ``sparse``) and has ``delay=1``; a population has either one value input
or any number of synapses driving one port (summed exactly, then saturated to the port, as in
the model: the synapses flush in rounds, the first into an accumulator memory, the last into
the core); the population's other input ports take their ``port_values`` (per-neuron
parameter memory, initialised in the bitstream).
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Cat, EnableInserter, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from neurogate.core.network import Network, NetworkError
from neurogate.gateware.aer import aer_signature
from neurogate.gateware.neuron_core import NeuronCore

__all__ = ["NetworkGateware", "plan"]


def plan(net: Network, memory: str = "ebr") -> dict:
    """Check that ``net`` can be built as gateware; return its cores and edges.

    Returns ``{"cores": {population: NeuronCore}, "driver": {population: first incoming
    Connection or None}, "port": {population: driven input port or None}, "incoming":
    {population: [Connection, ...]}}``.
    """
    net.check()
    incoming: dict[str, list] = {name: [] for name in net.populations}
    for conn in net.connections:
        incoming[conn.target].append(conn)
        src = net.node(conn.source)
        where = f"connection {conn.source!r} -> {conn.target!r}"
        if src.kind == "spike":
            if conn.delay != 1:
                raise NetworkError(
                    f"{where}: the gateware routes spikes with a one-step delay; "
                    f"delay={conn.delay} is only in the model"
                )
            if not hasattr(conn.synapse, "create") or "flush" not in conn.synapse.ports:
                raise NetworkError(
                    f"{where}: synapse {conn.synapse.name!r} has no flush/readout gateware "
                    "(use 'dense' or 'sparse')"
                )
    cores, driver, port = {}, {}, {}
    for name, pop in net.populations.items():
        edges = incoming[name]
        if len(edges) > 1 and any(c.synapse is None for c in edges):
            raise NetworkError(
                f"population {name!r}: a value input must be its only incoming connection "
                f"(it has {len(edges)})"
            )
        if len({c.port for c in edges}) > 1:
            raise NetworkError(
                f"population {name!r}: its synapses drive ports "
                f"{', '.join(sorted({c.port for c in edges}))}; the gateware sums them into "
                "one port"
            )
        driver[name] = edges[0] if edges else None
        port[name] = edges[0].port if edges else None
        params = {
            key: np.array(np.broadcast_to(value, pop.size), dtype=np.int64)
            for key, value in pop.port_values.items()
            if key != port[name]
        }
        if edges and edges[0].synapse is None and np.any(pop.port_values.get(port[name], 0)):
            raise NetworkError(
                f"population {name!r}: a port_values bias on {port[name]!r}, which a value "
                "input drives, is only in the model (the host writes that port's values)"
            )
        # a bias on the driven port is the input before the first spikes arrive (step 0)
        init = None
        if port[name] is not None and np.any(pop.port_values.get(port[name], 0)):
            fmt = pop.neuron.input_ports()[port[name]].format
            bias = np.broadcast_to(pop.port_values[port[name]], pop.size)
            init = {port[name]: np.clip(bias, fmt.min, fmt.max).astype(np.int64)}
        try:
            cores[name] = NeuronCore(
                pop.neuron, pop.size, memory=memory, params=params or None, input_init=init
            )
        except (TypeError, ValueError) as exc:
            raise NetworkError(f"population {name!r}: {exc}") from None
        if port[name] is not None and port[name] not in cores[name].input_layout.members:
            raise NetworkError(f"population {name!r}: port {port[name]!r} is not an input word")
    return {"cores": cores, "driver": driver, "port": port, "incoming": incoming}


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
        Input memory write port of a population driven by a value input (host phase only).
    <input>_aer : in, stream
        Address-events of a spike input (host phase).
    <population>_rd_addr : in / <population>_rd_data : out
        State read-back of a population (while not busy; data one cycle after the address).
    """

    def __init__(self, net: Network, memory: str = "ebr"):
        self.network = net
        self.plan = plan(net, memory)
        members = {"step": In(1), "busy": Out(1), "done": Out(1)}
        for name, core in self.plan["cores"].items():
            conn = self.plan["driver"][name]
            if conn is not None and conn.synapse is None:
                members[f"{name}_in_addr"] = In(core.addr_width)
                members[f"{name}_in_data"] = In(core.input_layout)
                members[f"{name}_in_we"] = In(1)
            members[f"{name}_rd_addr"] = In(core.addr_width)
            members[f"{name}_rd_data"] = Out(core.state_layout)
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
            conn.synapse.create() if conn.synapse is not None else None for conn in net.connections
        ]

    def elaborate(self, platform):
        m = Module()
        net = self.network
        cores, syns = self.cores, self.synapses
        for name, core in cores.items():
            m.submodules[f"core_{name}"] = core
            m.d.comb += [
                core.rd_addr.eq(getattr(self, f"{name}_rd_addr")),
                getattr(self, f"{name}_rd_data").eq(core.rd_data),
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
                m.submodules[f"enc_{name}_{i}"] = EnableInserter(tick)(unit)
                x = Signal.like(data, name=f"{name}_x{i}")
                with m.If(we & (addr == i)):
                    m.d.sync += x.eq(data)
                m.d.comb += getattr(unit, port).eq(x)
                spikes.append(unit.spike)
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

        # sources -> synapses: each source stream forks to every synapse it feeds
        consumers: dict[str, list] = {}
        for conn, syn in zip(net.connections, syns, strict=True):
            if syn is not None:
                consumers.setdefault(conn.source, []).append(syn)
        for source in [*net.inputs, *net.encoders, *net.populations]:
            if source in net.inputs and net.inputs[source].kind != "spike":
                continue
            if source in net.inputs:
                src = getattr(self, f"{source}_aer")
            elif source in scanners:
                src = scanners[source]
            else:
                src = cores[source].aer
            sinks = consumers.get(source, [])
            if not sinks:
                m.d.comb += src.ready.eq(1)  # nobody listens: drain
                continue
            all_ready = Signal(name=f"{source}_all_ready")
            ready = 1
            for syn in sinks:
                ready = ready & syn.aer.ready
            m.d.comb += [all_ready.eq(ready), src.ready.eq(all_ready)]
            for syn in sinks:
                m.d.comb += [
                    syn.aer.valid.eq(src.valid & all_ready),
                    syn.aer.payload.addr.eq(src.payload.addr),
                ]

        # synapse readout -> target input memory; host writes for value-driven populations.
        # Several synapses into one population flush in rounds (the r-th incoming synapse of
        # every population in round r): the sums of the first rounds go into an accumulator
        # memory (read-modify-write, one cycle behind the readout), the last round writes
        # saturate(accumulator + readout) into the core's input memory.
        index = {id(c): i for i, c in enumerate(net.connections)}
        rounds = max([len(e) for e in self.plan["incoming"].values() if e] + [1])
        rnd = Signal(range(max(rounds, 2)), name="route_round")
        syn_round = {}
        for name, core in cores.items():
            edges = self.plan["incoming"][name]
            if not edges or not hasattr(core, "in_we"):
                continue
            conn = edges[0]
            if conn.synapse is None:
                m.d.comb += [
                    core.in_addr.eq(getattr(self, f"{name}_in_addr")),
                    core.in_data.eq(getattr(self, f"{name}_in_data")),
                    core.in_we.eq(getattr(self, f"{name}_in_we")),
                ]
                continue
            port = self.plan["port"][name]
            fmt = net.populations[name].neuron.input_ports()[port].format  # saturating
            group = [syns[index[id(c)]] for c in edges]
            for r, syn in enumerate(group):
                syn_round[id(syn)] = r
            bias = np.array(
                np.broadcast_to(
                    net.populations[name].port_values.get(port, 0), net.populations[name].size
                ),
                dtype=np.int64,
            )
            if len(group) == 1 and not bias.any():
                syn = group[0]
                m.d.comb += [
                    core.in_addr.eq(syn.out_addr),
                    getattr(core.in_data, port).eq(fmt.fit_value(syn.out_data)),
                    core.in_we.eq(syn.out_we),
                ]
                continue
            # one cycle behind the readout: read the partial sum (and the bias) at the
            # readout's address, add, write the partial sum back or the total to the core
            k = len(group)
            width = max(len(syn.out_data) for syn in group) + (k - 1).bit_length()
            sel_addr = Signal.like(core.in_addr, name=f"{name}_sum_addr")
            sel_data = Signal(signed(width), name=f"{name}_sum_data")
            sel_we = Signal(name=f"{name}_sum_we")
            with m.Switch(rnd):
                for r, syn in enumerate(group):
                    with m.Case(r):
                        m.d.comb += [
                            sel_addr.eq(syn.out_addr),
                            sel_data.eq(syn.out_data),
                            sel_we.eq(syn.out_we),
                        ]
            addr_r = Signal.like(sel_addr, name=f"{name}_sum_addr_r")
            data_r = Signal.like(sel_data, name=f"{name}_sum_data_r")
            we_r, first_r, last_r = Signal(), Signal(), Signal()
            m.d.sync += [
                addr_r.eq(sel_addr),
                data_r.eq(sel_data),
                we_r.eq(sel_we),
                first_r.eq(rnd == 0),
                last_r.eq(rnd == k - 1),
            ]
            partial, bias_width = 0, 0
            if k > 1:
                acc = Memory(shape=signed(width), depth=net.populations[name].size, init=[])
                m.submodules[f"{name}_sum"] = acc
                rd, wr = acc.read_port(), acc.write_port()
                partial = Mux(first_r, 0, rd.data)
                m.d.comb += [
                    rd.addr.eq(sel_addr),
                    wr.addr.eq(addr_r),
                    wr.data.eq(data_r + partial),
                    wr.en.eq(we_r & ~last_r),
                ]
            if bias.any():
                bias_width = max(int(bias.min()).bit_length(), int(bias.max()).bit_length()) + 1
                rom = Memory(
                    shape=signed(bias_width), depth=net.populations[name].size, init=bias.tolist()
                )
                m.submodules[f"{name}_bias"] = rom
                rom_rd = rom.read_port()
                m.d.comb += rom_rd.addr.eq(sel_addr)
                partial = partial + rom_rd.data
            total = Signal(signed(max(width, bias_width) + 2), name=f"{name}_sum_total")
            m.d.comb += [
                total.eq(data_r + partial),
                core.in_addr.eq(addr_r),
                getattr(core.in_data, port).eq(fmt.fit_value(total)),
                core.in_we.eq(we_r & last_r),
            ]

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
        round_of = [syn_round.get(id(syn), 0) for syn in live]
        all_flushed = 1  # every synapse of the current round has finished its flush
        for seen, syn, r in zip(syn_done, live, round_of, strict=True):
            all_flushed = all_flushed & ((rnd != r) | seen | syn.done)
        with m.FSM():
            with m.State("IDLE"), m.If(self.step):
                m.d.comb += [core.step.eq(1) for core in cores.values()]
                m.d.comb += tick.eq(1)
                m.d.sync += [seen.eq(0) for seen in core_done.values()]
                m.d.sync += [seen.eq(0) for seen in syn_done]
                m.next = "FIRE"
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
                m.d.comb += self.done.eq(1)
                m.next = "IDLE"
        return m
