"""Simulate a whole :class:`~neurogate.core.network.Network` as gateware, on any simulator.

:func:`run_gateware` builds :class:`~neurogate.gateware.network.NetworkGateware` and plays the
host, as a bench program (:mod:`neurogate.sim.harness`) that runs the same on ``pysim`` and,
under cocotb, on ``verilator`` and ``icarus``. Before each timestep it writes the value inputs
into the input memories and pushes the spike inputs' address-events (with seeded random
``valid`` gaps), strobes ``step``, records the spikes each population sends
(``<population>_spike``/``_spike_addr``), waits for ``done``, then reads back every probed
state field through the populations' read ports. The result has the shape of
:meth:`~neurogate.core.network.NetworkModel.run`'s, so the two compare directly
(:func:`compare`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from amaranth.hdl import Shape

from neurogate.core.network import Network, NetworkError
from neurogate.gateware.network import NetworkGateware, plan

from . import harness
from .streams import decode, encode

__all__ = ["NetworkMismatchError", "compare", "run_gateware", "run_many", "run_pysim"]


class NetworkMismatchError(AssertionError):
    """Two runs of a network differ (the message names the first place)."""


def _raw(shape, value: int) -> int:
    """The raw bits of ``value`` in a port of ``shape``."""
    return int(value) & ((1 << Shape.cast(shape).width) - 1)


def _host_config(net: Network, dut: NetworkGateware, arrays, steps, seed, p_valid, max_cycles):
    """The host's actions, step by step, as plain data for :func:`_network_program`."""
    cores = dut.plan["cores"]
    value_edges = [
        c for c in net.connections if c.synapse is None and net.inputs[c.source].kind == "value"
    ]
    spike_inputs = [k for k, node in net.inputs.items() if node.kind == "spike"]
    writes = []  # per step: [[addr port, data port, we port, [raw data per address]], ...]
    events = []  # per step: [[stream prefix, [addr, ...]], ...]
    for t in range(steps):
        step_writes = []
        for conn in value_edges:
            core = cores[conn.target]
            src = t - conn.delay
            values = arrays[conn.source][src] if src >= 0 else np.zeros(core.n_neurons, np.int64)
            _, data, _, whole_word = dut.value_port(conn)
            prefix = dut.value_prefix(conn)
            if whole_word:
                zero = dict.fromkeys(core.input_layout.members, 0)
                raw = [encode(core.input_layout, zero | {conn.port: int(v)}) for v in values]
            else:
                raw = [_raw(data.shape(), v) for v in values.tolist()]
            step_writes.append([f"{prefix}_addr", f"{prefix}_data", f"{prefix}_we", raw])
        for name, enc in net.encoders.items():
            shape = getattr(dut, f"{name}_in_data").shape()
            raw = [_raw(shape, v) for v in arrays[enc.source][t].tolist()]
            step_writes.append([f"{name}_in_addr", f"{name}_in_data", f"{name}_in_we", raw])
        writes.append(step_writes)
        events.append([[f"{k}_aer", np.flatnonzero(arrays[k][t]).tolist()] for k in spike_inputs])
    return {
        "name": net.name,
        "steps": steps,
        "seed": seed,
        "p_valid": p_valid,
        "max_cycles": max_cycles,
        "writes": writes,
        "events": events,
        "populations": list(net.populations),
        "probes": [[k, cores[k].n_neurons] for k, f in net.probes.items() if f],
    }


def _network_program(io, config):
    """The host as a :mod:`neurogate.sim.harness` program: raw spikes and state words out."""
    rng = np.random.default_rng(config["seed"])
    p_valid = config["p_valid"]
    spikes = {name: [] for name in config["populations"]}
    words = {name: [] for name, _ in config["probes"]}
    for t in range(config["steps"]):
        # host phase: value and encoder inputs of the step, then the spike inputs' events
        for addr, data, we, raw in config["writes"][t]:
            for i, value in enumerate(raw):
                io.drive(addr, i)
                io.drive(data, value)
                io.drive(we, 1)
                yield
                yield
            io.drive(we, 0)
        for stream, addrs in config["events"][t]:
            for i in addrs:
                while rng.random() > p_valid:
                    yield
                    yield
                io.drive(f"{stream}__payload", i)
                io.drive(f"{stream}__valid", 1)
                while True:
                    yield
                    taken = io.read(f"{stream}__ready")
                    yield
                    if taken:
                        break
                io.drive(f"{stream}__valid", 0)
        # fire + route, recording every population's spikes
        io.drive("step", 1)
        yield
        yield
        io.drive("step", 0)
        for _ in range(config["max_cycles"]):
            yield
            for name in config["populations"]:
                if io.read(f"{name}_spike"):
                    spikes[name].append((t, io.read(f"{name}_spike_addr")))
            if io.read("done"):
                yield
                break
            yield
        else:
            raise NetworkError(
                f"{config['name']}: timestep {t} did not finish in {config['max_cycles']} cycles"
            )
        # read back the probed state (data one cycle after the address)
        for name, n in config["probes"]:
            step_words = []
            for i in range(n):
                io.drive(f"{name}_rd_addr", i)
                yield
                yield
                yield
                step_words.append(io.read(f"{name}_rd_data"))
                yield
            words[name].append(step_words)
    return {"spikes": spikes, "words": words}


def _prepare(net, inputs, steps, seed, p_valid, memory, max_cycles_per_step):
    model = net.model()
    arrays, steps = model._check_inputs(inputs, steps)
    plan(net, memory)  # unsupported networks fail here, before any gateware is made
    dut = NetworkGateware(net, memory)
    return dut, _host_config(net, dut, arrays, steps, seed, p_valid, max_cycles_per_step)


def _finish(net: Network, dut: NetworkGateware, raw: dict, steps: int) -> dict:
    cores = dut.plan["cores"]
    out = {}
    for name, p in net.populations.items():
        rec = {"spike": np.zeros((steps, p.size), dtype=np.bool_)}
        for t, i in raw["spikes"][name]:
            rec["spike"][t, i] = True
        fields = net.probes.get(name, ())
        layout = cores[name].state_layout
        for f in fields:
            rec[f] = np.zeros((steps, p.size), dtype=np.int64)
        for t, step_words in enumerate(raw["words"].get(name, [])):
            for i, word in enumerate(step_words):
                decoded = decode(layout, word)
                for f in fields:
                    rec[f][t, i] = decoded[f]
        out[name] = rec
    return out


def run_gateware(
    net: Network,
    inputs,
    steps: int | None = None,
    *,
    backend: str = "pysim",
    seed: int = 0,
    p_valid: float = 0.7,
    memory: str = "ebr",
    vcd: str | None = None,
    max_cycles_per_step: int = 1_000_000,
) -> dict:
    """Run ``net``'s gateware on ``backend``; return what ``net.model().run(inputs)`` returns.

    ``backend`` is ``"pysim"``, ``"verilator"`` or ``"icarus"`` (the generated Verilog under
    cocotb); the host is the same program on each, so the runs agree cycle for cycle.
    ``p_valid`` is the probability that the host offers its next spike-input event on a cycle
    (random gaps, seeded by ``seed``).
    """
    (result,) = run_many(
        [(net, inputs, steps)], backend, seed=seed, p_valid=p_valid, memory=memory, vcd=vcd,
        max_cycles_per_step=max_cycles_per_step,
    )  # fmt: skip
    return result


def run_many(jobs, backend: str = "pysim", *, seed: int = 0, vcd: str | None = None,
             **options) -> list[dict]:  # fmt: skip
    """Run several networks' gateware in one simulation (one Verilog compile).

    ``jobs`` is a list of ``(network, inputs, steps)`` (``steps`` may be ``None``); job ``k``
    uses seed ``seed + k``; ``options`` are :func:`run_gateware`'s. Returns each network's run.
    """
    harness.check_backend(backend)
    p_valid = options.pop("p_valid", 0.7)
    memory = options.pop("memory", "ebr")
    max_cycles = options.pop("max_cycles_per_step", 1_000_000)
    if options:
        raise TypeError(f"run_many got an unexpected option {next(iter(options))!r}")
    prepared = [
        _prepare(net, inputs, steps, seed + k, p_valid, memory, max_cycles)
        for k, (net, inputs, steps) in enumerate(jobs)
    ]
    raws = harness.run([d for d, _ in prepared], _network_program, [c for _, c in prepared],
                       backend, vcd=vcd)  # fmt: skip
    return [
        _finish(net, dut, raw, config["steps"])
        for (net, _, _), (dut, config), raw in zip(jobs, prepared, raws, strict=True)
    ]


def run_pysim(net: Network, inputs, steps: int | None = None, **kwargs) -> dict:
    """:func:`run_gateware` on the Amaranth simulator."""
    return run_gateware(net, inputs, steps, backend="pysim", **kwargs)


def compare(
    net: Network,
    inputs,
    steps: int | None = None,
    *,
    seed: int = 0,
    backends: Sequence[str] = ("model", "pysim"),
    **kwargs,
) -> dict:
    """Run ``net`` on each of ``backends`` (``"model"`` and gateware backends); raise
    :class:`NetworkMismatchError` at the first differing timestep (naming the population,
    field, neuron and both values); return the first backend's run.
    """
    if len(backends) < 2:
        raise ValueError(f"compare needs at least two backends, not {tuple(backends)!r}")
    runs = {}
    for backend in backends:
        if backend == "model":
            runs[backend] = net.model().run(inputs, steps)
        else:
            runs[backend] = run_gateware(net, inputs, steps, backend=backend, seed=seed, **kwargs)
    first, want = backends[0], runs[backends[0]]
    count = next(iter(want.values()))["spike"].shape[0]
    for other in backends[1:]:
        got = runs[other]
        for t in range(count):
            for name, rec in want.items():
                for key, arr in rec.items():
                    diff = np.flatnonzero(arr[t] != got[name][key][t])
                    if diff.size:
                        i = int(diff[0])
                        raise NetworkMismatchError(
                            f"{net.name}: {first} and {other} differ first at timestep {t}, "
                            f"{name}.{key}[{i}]: {first}={int(arr[t, i])}, "
                            f"{other}={int(got[name][key][t, i])} (seed={seed})"
                        )
    return want
