"""A seeded stream test bench: drive and drain :mod:`amaranth.lib.stream` ports on the simulator.

Components with stream ports (routers, synapses; see :class:`~neurogate.core.component.StreamPort`)
do not take one value per clock cycle: a payload moves on a cycle where ``valid`` and ``ready``
are both high. :func:`run` simulates such a component with Amaranth's simulator:

* each **input stream** is fed from a list of payloads, in order. On a cycle when the bench has
  nothing on offer, it offers the next payload with probability ``p_valid`` (drawn from a
  :func:`numpy.random.default_rng` seeded by ``seed``), then holds ``valid`` and the payload
  until the component takes it (``ready``). So the inputs keep the stream rules by construction.
* each **output stream** gets ``ready`` high with probability ``p_ready``, drawn anew every
  cycle. The bench checks the stream rules on every cycle: once an output offers a payload
  (``valid`` high) it must keep ``valid`` high and the payload unchanged until a cycle with
  ``ready`` high. An output that drops ``valid`` or changes the payload before that raises
  :class:`StreamProtocolError` naming the port and the cycle.
* each plain **input value port** is driven per cycle from a sequence (0 after its end); each
  plain **output value port** is recorded every cycle.

The run starts with a one-cycle reset (cycle numbers count from the first cycle after it) and
ends when every input payload has been taken, every value sequence has been played, and no
output stream has offered anything for ``settle`` consecutive cycles. If that takes more than
``max_cycles`` cycles the bench raises :class:`StreamTimeoutError` saying what was left.

Payloads are ints (the raw bits) or, for a :class:`~amaranth.lib.data.Layout` payload such as an
address-event (:func:`neurogate.gateware.aer.event_layout`), dicts of fields (missing fields are
0). Transfers are reported the same way: a dict per payload for a struct layout, an int for a
plain shape.

>>> from amaranth.hdl import Module
>>> from amaranth.lib import wiring
>>> from amaranth.lib.wiring import In, Out
>>> from neurogate.gateware.aer import aer_signature
>>> class Increment(wiring.Component):
...     '''A registered stage that adds 1 to each address (the stream rules kept).'''
...     def __init__(self):
...         super().__init__({"i": In(aer_signature(4)), "o": Out(aer_signature(4))})
...     def elaborate(self, platform):
...         m = Module()
...         m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
...         with m.If(self.i.ready):
...             m.d.sync += [self.o.valid.eq(self.i.valid),
...                          self.o.payload.addr.eq(self.i.payload.addr + 1)]
...         return m
>>> res = run(Increment(), {"i": [{"addr": 3}, {"addr": 7}, 14]}, seed=1)
>>> res.payloads("o")
[{'addr': 4}, {'addr': 8}, {'addr': 15}]
>>> [t.cycle for t in res.transfers["i"]] < [t.cycle for t in res.transfers["o"]]
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from amaranth.hdl import Shape
from amaranth.lib import data, stream, wiring

from neurogate.core.component import Component

__all__ = [
    "StreamProtocolError",
    "StreamRun",
    "StreamTimeoutError",
    "Transfer",
    "decode",
    "encode",
    "run",
]


class StreamProtocolError(AssertionError):
    """An output stream broke the stream rules (``valid`` dropped or payload changed early).

    Attributes ``port`` and ``cycle`` carry the facts of the message.
    """

    def __init__(self, message: str, *, port: str, cycle: int):
        super().__init__(message)
        self.port, self.cycle = port, cycle


class StreamTimeoutError(AssertionError):
    """The bench ran ``max_cycles`` cycles without the inputs consumed and the outputs drained."""


@dataclass(frozen=True)
class Transfer:
    """One payload moved on a stream.

    Members
    -------
    cycle : int
        The cycle of the transfer (``valid`` and ``ready`` both high).
    payload : int or dict
        The payload (a dict of fields for a struct layout).
    offered : int
        The first cycle this payload was offered (``valid`` high with it), so ``cycle - offered``
        is how long it waited for ``ready``.
    """

    cycle: int
    payload: Any
    offered: int


@dataclass
class StreamRun:
    """What :func:`run` saw.

    Members
    -------
    transfers : dict
        ``{stream port: [Transfer, ...]}`` in order, for every input and output stream.
    values : dict
        ``{output value port: int array of one value per cycle}`` (an object array of Python
        ints for ports wider than 63 bits, of dicts for a struct layout).
    ready : dict
        ``{stream port: uint8 array}``: ``ready`` on every cycle (driven by the bench on
        outputs, by the component on inputs).
    valid : dict
        ``{stream port: uint8 array}``: ``valid`` on every cycle.
    cycles : int
        Cycles simulated (after the reset cycle).
    seed : int
        The seed of the random ``valid``/``ready`` choices.
    """

    transfers: dict[str, list[Transfer]]
    values: dict[str, np.ndarray]
    ready: dict[str, np.ndarray] = field(repr=False)
    valid: dict[str, np.ndarray] = field(repr=False)
    cycles: int = 0
    seed: int | None = None

    def payloads(self, port: str) -> list:
        """Return the payloads that moved on ``port``, in order."""
        return [t.payload for t in self.transfers[port]]

    def cycles_of(self, port: str) -> list[int]:
        """Return the transfer cycles of ``port``, in order."""
        return [t.cycle for t in self.transfers[port]]


# -- payloads ---------------------------------------------------------------------------------
def encode(shape, payload, where: str = "payload") -> int:
    """Return the raw bits of ``payload`` (an int, or a dict of fields for a struct layout)."""
    if isinstance(payload, Mapping):
        if not isinstance(shape, data.StructLayout):
            raise TypeError(f"{where} is a dict, but the stream's payload is not a struct: {shape}")
        members = dict(shape.members)
        unknown = [k for k in payload if k not in members]
        if unknown:
            raise ValueError(
                f"{where} has no field {unknown[0]!r}; its fields are: {', '.join(members)}"
            )
        bits = 0
        for key, sub in members.items():
            offset = shape[key].offset
            value = encode(sub, payload.get(key, 0), f"{where}.{key}")
            bits |= value << offset
        return bits
    if isinstance(payload, bool) or not isinstance(payload, int | np.integer):
        raise TypeError(f"{where} must be an int or a dict of fields, not {payload!r}")
    value = int(payload)
    s = Shape.cast(shape)
    lo = -(1 << (s.width - 1)) if s.signed else 0
    hi = (1 << (s.width - 1)) - 1 if s.signed else (1 << s.width) - 1
    if not lo <= value <= hi:
        raise ValueError(f"{where} must fit {s} ({lo}..{hi}), not {value}")
    return value & ((1 << s.width) - 1)


def decode(shape, bits: int):
    """Return the payload of the raw ``bits``: a dict of fields for a struct, else an int."""
    if isinstance(shape, data.StructLayout):
        out = {}
        for key, sub in dict(shape.members).items():
            field_ = shape[key]
            width = Shape.cast(field_.shape).width
            out[key] = decode(sub, (bits >> field_.offset) & ((1 << width) - 1))
        return out
    s = Shape.cast(shape)
    bits &= (1 << s.width) - 1  # a signed signal may already read as a negative int
    if s.signed and bits >> (s.width - 1) & 1:
        return bits - (1 << s.width)
    return bits


# -- the bench ----------------------------------------------------------------------------------
def _trace(values: list, shape) -> np.ndarray:
    """An int64 array; an object array for ports wider than 63 bits or with a struct layout."""
    if isinstance(shape, data.Layout) or Shape.cast(shape).width > 63:
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out
    return np.array(values, dtype=np.int64)


def _raw(x):
    """The plain value of a signal or a :class:`~amaranth.lib.data.View`."""
    return x.as_value() if isinstance(x, data.View) else x


def _per_port(value, ports, what) -> dict[str, float]:
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in ports]
        if unknown:
            raise ValueError(
                f"{what} names {unknown[0]!r}, which is not one of: {', '.join(ports)}"
            )
        out = {k: value.get(k, 1.0) for k in ports}
    else:
        out = dict.fromkeys(ports, value)
    for key, p in out.items():
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0 < p <= 1:
            raise ValueError(f"{what} for {key!r} must be a number in (0, 1], not {p!r}")
    return out


def _ports(gw: wiring.Component):
    """Split the signature: ``(in streams, out streams, in values, out values)``."""
    ins, outs, vin, vout = {}, {}, {}, {}
    for key, member in gw.signature.members.items():
        if member.is_signature:
            sig = member.signature
            if isinstance(sig, wiring.FlippedSignature):
                sig = sig.flip()
            if not isinstance(sig, stream.Signature):
                raise TypeError(f"port {key!r} is an interface but not a stream; not supported")
            flow_in = member.flow == wiring.In
            (ins if flow_in else outs)[key] = sig.members["payload"].shape
        else:
            (vin if member.flow == wiring.In else vout)[key] = member.shape
    return ins, outs, vin, vout


def _plan(gw, name, streams, values, p_valid, p_ready):
    """Check the stimulus against the ports; return the ports and the encoded stimulus."""
    ins, outs, vin, vout = _ports(gw)
    streams = dict(streams or {})
    values = dict(values or {})
    for key in streams:
        if key not in ins:
            raise ValueError(
                f"{name} has no input stream {key!r}; its input streams are: "
                f"{', '.join(ins) or '(none)'}"
            )
    for key in values:
        if key not in vin:
            raise ValueError(
                f"{name} has no input value port {key!r}; its input value ports are: "
                f"{', '.join(vin) or '(none)'}"
            )
    pv = _per_port(p_valid, list(ins), "p_valid")
    pr = _per_port(p_ready, list(outs), "p_ready")
    feeds = {
        key: [encode(ins[key], p, f"{key}[{i}]") for i, p in enumerate(streams.get(key, ()))]
        for key in ins
    }
    drive = {}
    for key, seq in values.items():
        shape = Shape.cast(vin[key])
        for i, v in enumerate(seq):
            encode(shape, v, f"values[{key!r}][{i}]")
        drive[key] = [int(v) for v in seq]
    return ins, outs, vin, vout, pv, pr, feeds, drive


def _stream_program(io, config):
    """The bench as a :mod:`neurogate.sim.harness` program (raw bits in, raw records out)."""
    rng = np.random.default_rng(config["seed"])
    ins = [(k, feeds, p) for k, feeds, p in config["ins"]]
    outs = [(k, p, schedule) for k, p, schedule in config["outs"]]
    drive = config["vin"]
    vout = config["vout"]
    last_value, settle, max_cycles = config["last_value"], config["settle"], config["max_cycles"]
    transfers = {k: [] for k, *_ in (*ins, *outs)}
    trace_valid = {k: [] for k, *_ in (*ins, *outs)}
    trace_ready = {k: [] for k, *_ in (*ins, *outs)}
    trace_values = {k: [] for k in vout}
    sent = {k: 0 for k, *_ in ins}
    offer = {k: None for k, *_ in ins}  # cycle the current payload was offered, or None
    held = {k: None for k, *_ in outs}  # (payload bits, offered cycle) of an untaken offer
    quiet = cycle = 0
    while True:
        for key, feeds, p in ins:
            draw = rng.random()
            if offer[key] is None and sent[key] < len(feeds) and draw < p:
                offer[key] = cycle
                io.drive(f"{key}__payload", feeds[sent[key]])
            io.drive(f"{key}__valid", int(offer[key] is not None))
        ready_now = {}
        for key, p, schedule in outs:
            ready_now[key] = bool(rng.random() < p)
            if cycle < len(schedule):
                ready_now[key] = bool(schedule[cycle])
            io.drive(f"{key}__ready", int(ready_now[key]))
        for key, seq in drive:
            io.drive(key, seq[cycle] if cycle < len(seq) else 0)
        yield  # settle
        busy = False
        for key, feeds, _ in ins:
            ready = bool(io.read(f"{key}__ready"))
            trace_ready[key].append(int(ready))
            trace_valid[key].append(int(offer[key] is not None))
            if offer[key] is not None and ready:
                transfers[key].append((cycle, feeds[sent[key]], offer[key]))
                sent[key] += 1
                offer[key] = None
        for key, *_ in outs:
            valid = bool(io.read(f"{key}__valid"))
            bits = io.read(f"{key}__payload") if valid else None  # may be x while not valid
            trace_valid[key].append(int(valid))
            trace_ready[key].append(int(ready_now[key]))
            prev = held[key]
            if prev is not None and (not valid or bits != prev[0]):
                raise _Violation(
                    config["job"], key, cycle, prev[0], bits if valid else None, prev[1]
                )
            if valid:
                busy = True
                offered = prev[1] if prev is not None else cycle
                if ready_now[key]:
                    transfers[key].append((cycle, bits, offered))
                    held[key] = None
                else:
                    held[key] = (bits, offered)
        for key in vout:
            trace_values[key].append(io.read(key))
        cycle += 1
        inputs_done = all(sent[k] == len(f) for k, f, _ in ins) and cycle >= last_value
        quiet = quiet + 1 if inputs_done and not busy else 0
        if quiet >= settle:
            break
        if cycle >= max_cycles:
            left = [
                f"input {k!r} sent {sent[k]} of {len(f)} payloads"
                for k, f, _ in ins
                if sent[k] < len(f)
            ]
            left += [f"output {k!r} still offering" for k, *_ in outs if trace_valid[k][-1]]
            if cycle < last_value:
                left.append(f"values run to cycle {last_value}")
            raise StreamTimeoutError(
                f"{config['name']}: not done after {max_cycles} cycles: "
                f"{'; '.join(left) or 'outputs did not settle'} (seed={config['seed']})"
            )
        yield  # clock edge
    return {"transfers": transfers, "valid": trace_valid, "ready": trace_ready,
            "values": trace_values, "cycles": cycle}  # fmt: skip


class _Violation(Exception):
    """An output broke the stream rules (raw bits; :func:`run` words it)."""

    def __init__(self, job, port, cycle, held, bits, offered):
        super().__init__(job, port, cycle, held, bits, offered)
        self.job, self.port, self.cycle = job, port, cycle
        self.held, self.bits, self.offered = held, bits, offered


@dataclass
class _Job:
    gateware: wiring.Component
    name: str
    ins: dict
    outs: dict
    vout: dict
    config: dict


def _prepare(dut, streams, values, *, p_valid=0.5, p_ready=0.5, ready=None, seed=0,
             max_cycles=100_000, settle=32) -> _Job:  # fmt: skip
    gw = dut.create() if isinstance(dut, Component) else dut
    name = dut.name if isinstance(dut, Component) else type(dut).__name__
    try:
        ins, outs, _, vout, pv, pr, feeds, drive = _plan(
            gw, name, streams, values, p_valid, p_ready
        )
        schedule = {k: [int(bool(v)) for v in seq] for k, seq in (ready or {}).items()}
        for key in schedule:
            if key not in outs:
                raise ValueError(
                    f"{name} has no output stream {key!r}; its output streams are: "
                    f"{', '.join(outs) or '(none)'}"
                )
    except (TypeError, ValueError):
        gw._MustUse__silence = True  # never simulated: no "created but never used" warning
        raise
    last_value = max((len(s) for s in (*drive.values(), *schedule.values())), default=0)
    config = {
        "job": 0,
        "name": name,
        "seed": seed,
        "settle": settle,
        "max_cycles": max_cycles,
        "last_value": last_value,
        "ins": [[k, feeds[k], pv[k]] for k in ins],
        "outs": [[k, pr[k], schedule.get(k, [])] for k in outs],
        "vin": [[k, seq] for k, seq in drive.items()],
        "vout": list(vout),
    }
    return _Job(gw, name, ins, outs, vout, config)


def _finish(job: _Job, raw: dict) -> StreamRun:
    shapes = {**job.ins, **job.outs}
    return StreamRun(
        transfers={
            k: [Transfer(c, decode(shapes[k], bits), o) for c, bits, o in v]
            for k, v in raw["transfers"].items()
        },
        values={
            k: _trace([decode(job.vout[k], b) for b in v], job.vout[k])
            for k, v in raw["values"].items()
        },
        ready={k: np.array(v, dtype=np.uint8) for k, v in raw["ready"].items()},
        valid={k: np.array(v, dtype=np.uint8) for k, v in raw["valid"].items()},
        cycles=raw["cycles"],
        seed=job.config["seed"],
    )


def _protocol_error(job: _Job, v: _Violation) -> StreamProtocolError:
    shape, seed = job.outs[v.port], job.config["seed"]
    if v.bits is None:
        text = (
            f"{job.name}: output stream {v.port!r} dropped valid at cycle {v.cycle} before "
            f"ready (payload {decode(shape, v.held)} offered at cycle {v.offered}; seed={seed})"
        )
    else:
        text = (
            f"{job.name}: output stream {v.port!r} changed its payload from "
            f"{decode(shape, v.held)} to {decode(shape, v.bits)} at cycle {v.cycle} before "
            f"ready (offered at cycle {v.offered}; seed={seed})"
        )
    return StreamProtocolError(text, port=v.port, cycle=v.cycle)


def _execute(jobs: list[_Job], backend: str, vcd) -> list[StreamRun]:
    from neurogate.sim import harness

    try:
        raws = harness.run(
            [j.gateware for j in jobs], _stream_program, [j.config for j in jobs], backend,
            vcd=vcd,
        )  # fmt: skip
    except _Violation as v:
        raise _protocol_error(jobs[v.job], v) from None
    return [_finish(job, raw) for job, raw in zip(jobs, raws, strict=True)]


def run_many(jobs: Sequence, backend: str = "pysim", *, vcd: str | None = None) -> list[StreamRun]:
    """Run several stream benches in one simulation (one Verilog compile); return their runs.

    ``jobs`` is a list of ``(dut, streams, values, options)`` with the arguments of :func:`run`
    (``options`` a dict of its keyword arguments, e.g. ``{"seed": 3, "p_ready": 0.2}``). Each
    run equals what :func:`run` returns for the same job: the benches share only the clock.
    """
    from neurogate.sim.harness import check_backend

    check_backend(backend)
    prepared = [_prepare(d, s, v, **(o or {})) for d, s, v, o in jobs]
    for k, job in enumerate(prepared):
        job.config["job"] = k
    return _execute(prepared, backend, vcd)


def run(
    dut: Component | wiring.Component,
    streams: Mapping[str, Sequence] | None = None,
    values: Mapping[str, Sequence[int]] | None = None,
    *,
    p_valid: float | Mapping[str, float] = 0.5,
    p_ready: float | Mapping[str, float] = 0.5,
    ready: Mapping[str, Sequence[int]] | None = None,
    seed: int | None = 0,
    max_cycles: int = 100_000,
    settle: int = 32,
    vcd: str | None = None,
    backend: str = "pysim",
) -> StreamRun:
    """Simulate ``dut`` with seeded random ``valid``/``ready`` and return what moved.

    Parameters
    ----------
    dut : Component or amaranth.lib.wiring.Component
        A neurogate component (its :meth:`~neurogate.core.component.Component.create` is
        simulated) or any Amaranth component whose stream ports are
        :class:`amaranth.lib.stream.Signature` members.
    streams : dict
        ``{input stream: [payload, ...]}``; every input stream not named gets no payloads.
    values : dict
        ``{input value port: [value per cycle, ...]}``; 0 after the end, and for ports not named.
    p_valid : float or dict
        Probability that an idle input offers its next payload on a cycle (per port in a dict,
        1.0 for ports it leaves out); 1.0 offers back to back.
    p_ready : float or dict
        Probability that an output's ``ready`` is high on a cycle (per port in a dict).
    ready : dict, optional
        ``{output stream: [0 or 1 per cycle, ...]}``: ``ready`` as given on the cycles the
        sequence covers (random with ``p_ready`` after its end), for hand-made schedules.
    seed : int
        Seeds the random choices; the same seed and component give the same run.
    max_cycles : int
        Give up (:class:`StreamTimeoutError`) after this many cycles.
    settle : int
        Cycles without any output offering a payload, after the inputs are done, that end the
        run (more than the component's longest internal latency).
    vcd : str, optional
        Write a waveform to this path.
    backend : str
        ``"pysim"`` (Amaranth's simulator), ``"verilator"`` or ``"icarus"`` (the generated
        Verilog under cocotb, :mod:`neurogate.sim.cosim`). The bench is the same program on
        each (:mod:`neurogate.sim.harness`), so the runs are equal cycle for cycle.

    Returns
    -------
    StreamRun
    """
    from neurogate.sim.harness import check_backend

    check_backend(backend)
    job = _prepare(dut, streams, values, p_valid=p_valid, p_ready=p_ready, ready=ready,
                   seed=seed, max_cycles=max_cycles, settle=settle)  # fmt: skip
    (result,) = _execute([job], backend, vcd)
    return result
