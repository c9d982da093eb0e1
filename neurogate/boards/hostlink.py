"""The host side of the UART host link: :class:`HostLink`, over a serial port or a simulation.

:class:`HostLink` speaks the protocol of :mod:`neurogate.gateware.hostlink` (framed,
CRC-16-checked commands and answers) through a **transport**, anything with ``write(data)`` and
``read(n, timeout) -> bytes`` (fewer than ``n`` bytes when the timeout passes):

* a serial port name (``"/dev/ttyUSB1"``, ``"COM3"``): :class:`SerialTransport`, on pyserial
  (``pip install 'neurogate[serial]'``);
* :class:`SimTransport`: the same gateware (:class:`~neurogate.gateware.hostlink.
  HostLinkGateware`) in the Amaranth simulator, its UART pins driven and sampled bit by bit; its
  timeouts are simulated seconds. The tests drive the design end to end through it with the same
  client code as a board.

The client needs the link's region map (:attr:`HostLinkGateware.link_map`, the JSON a build
writes next to the bitstream); it checks the ``design_id`` the link reports against it.

>>> import neurogate as ng
>>> net = ng.Network("tiny")
>>> _ = net.input("drive", size=2, kind="value", width=8, signed=True)
>>> _ = net.population("p", "if_neuron", size=2, threshold=10)
>>> _ = net.connect("drive", "p", port="current", delay=0)
>>> link = HostLink(SimTransport(net))
>>> out = link.run({"drive": [[4, 6]] * 4})
>>> out["p"]["spike"].astype(int).tolist()
[[0, 0], [0, 1], [1, 0], [0, 1]]
>>> link.counters(), link.status().timestep
({'p': 3}, 4)
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping

import numpy as np

from neurogate.gateware.hostlink import (
    COMMANDS,
    ERRORS,
    FLAGS,
    MAX_EVENTS,
    NAK,
    SYNC,
    HostLinkGateware,
    crc16,
    frame,
)

__all__ = [
    "HostLink",
    "HostLinkError",
    "HostLinkTimeout",
    "NakError",
    "SerialTransport",
    "SimTransport",
    "Status",
]


class HostLinkError(RuntimeError):
    """The link answered something unexpected (the message says what)."""


class HostLinkTimeout(HostLinkError, TimeoutError):
    """The link did not answer in time."""


class NakError(HostLinkError):
    """The link rejected a frame; :attr:`code` is the NAK code's name (``"CRC"``, ...)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


@dataclasses.dataclass(frozen=True)
class Status:
    """The answer to STATUS."""

    design_id: int
    timestep: int
    rejected: int
    dropped: int
    flags: frozenset

    @classmethod
    def unpack(cls, payload: bytes) -> Status:
        """Decode a STATUS answer's payload."""
        le = int.from_bytes
        bits = le(payload[12:14], "little")
        flags = frozenset(name for name, bit in FLAGS.items() if bits >> bit & 1)
        return cls(
            le(payload[0:4], "little"),
            le(payload[4:8], "little"),
            le(payload[8:10], "little"),
            le(payload[10:12], "little"),
            flags,
        )


class SerialTransport:
    """A serial port through pyserial (8N1 at ``baud``)."""

    def __init__(self, port: str, baud: float):
        try:
            import serial
        except ImportError:
            raise ImportError(
                "HostLink on a serial port needs pyserial: pip install 'neurogate[serial]'"
            ) from None
        self.port = port
        self._serial = serial.Serial(port, baudrate=int(baud), timeout=1.0)

    def write(self, data: bytes) -> None:
        """Send ``data``."""
        self._serial.write(data)
        self._serial.flush()

    def read(self, n: int, timeout: float) -> bytes:
        """Return up to ``n`` bytes, fewer if ``timeout`` seconds pass first."""
        self._serial.timeout = timeout
        return self._serial.read(n)

    def close(self) -> None:
        """Close the port."""
        self._serial.close()

    def __str__(self):
        return f"serial port {self.port}"


class SimTransport:
    """A :class:`HostLinkGateware` in the Amaranth simulator, driven through its UART pins.

    ``design`` is a :class:`~neurogate.core.network.Network` (or a ``NetworkGateware``, or a
    ready :class:`HostLinkGateware`); the other arguments go to :class:`HostLinkGateware`. The
    clock defaults to 1 MHz and the baud to 4 clock cycles per bit, so a simulation is fast.
    Bytes written are sent on ``rx`` when the simulation next runs, which is while :meth:`read`
    waits (timeouts are in simulated seconds). :attr:`cycles` counts the clock cycles run.
    """

    def __init__(
        self, design, *, clk_freq: float = 1e6, baud: float | None = None, vcd=None, **kwargs
    ):
        from amaranth.hdl import ClockDomain, Module
        from amaranth.sim import Simulator

        if isinstance(design, HostLinkGateware):
            self.gateware = design
        else:
            baud = clk_freq / 4 if baud is None else baud
            kwargs.setdefault("timeout", 100 * 10 / baud)  # 100 byte times
            self.gateware = HostLinkGateware(design, clk_freq=clk_freq, baud=baud, **kwargs)
        gw = self.gateware
        self.link_map = gw.link_map
        self._period = 1 / self.link_map["clk_freq"]
        self._cpb = gw.cycles_per_bit
        self._to_link: list[int] = []
        self._from_link = bytearray()
        self.cycles = 0
        top = Module()
        top.domains.sync = domain = ClockDomain("sync")
        top.submodules.link = gw
        self._sim = Simulator(top)
        self._sim.add_clock(self._period)
        cpb = self._cpb

        period = self._period

        # Both benches wake once per bit, half a clock period away from the clock edges (so
        # they never race one): ``rx`` changes between edges, ``tx`` is sampled between edges.
        async def drive(ctx):
            ctx.set(gw.rx, 1)
            ctx.set(domain.rst, 1)
            await ctx.tick()
            ctx.set(domain.rst, 0)
            await ctx.delay(period / 2)
            while True:
                if not self._to_link:
                    await ctx.delay(cpb * period)
                    continue
                byte = self._to_link.pop(0)
                for bit in [0, *((byte >> i) & 1 for i in range(8)), 1]:
                    ctx.set(gw.rx, bit)
                    await ctx.delay(cpb * period)

        async def listen(ctx):
            while True:
                await ctx.negedge(gw.tx)  # just after the clock edge that started the byte
                await ctx.delay((cpb // 2 + 0.5) * period)
                bits = [ctx.get(gw.tx)]
                for _ in range(9):
                    await ctx.delay(cpb * period)
                    bits.append(ctx.get(gw.tx))
                if not bits[0] and bits[9]:  # a good start and stop bit
                    self._from_link.append(sum(b << i for i, b in enumerate(bits[1:9])))

        self._sim.add_testbench(drive, background=True)
        self._sim.add_testbench(listen, background=True)
        self._vcd = None
        if vcd:
            self._vcd = self._sim.write_vcd(vcd)
            self._vcd.__enter__()

    def write(self, data: bytes) -> None:
        """Queue ``data`` for the link's ``rx`` pin."""
        self._to_link.extend(bytes(data))

    def run(self, cycles: int) -> None:
        """Run the simulation for ``cycles`` clock cycles."""
        self.cycles += int(cycles)
        self._sim.run_until(self.cycles * self._period)

    def read(self, n: int, timeout: float) -> bytes:
        """Run until ``n`` bytes came from ``tx`` or ``timeout`` simulated seconds passed."""
        budget = int(timeout / self._period)
        step = 10 * self._cpb
        while len(self._from_link) < n and budget > 0:
            # while bytes are still to be sent, run until they are
            chunk = step * max(1, len(self._to_link)) if self._to_link else step
            self.run(min(chunk, budget))
            budget -= chunk
        out = bytes(self._from_link[:n])
        del self._from_link[:n]
        return out

    def close(self) -> None:
        """Finish the waveform file, if any."""
        if self._vcd is not None:
            self._vcd.__exit__(None, None, None)
            self._vcd = None

    def __str__(self):
        return "simulated host link"


def _load_map(link_map) -> dict:
    if isinstance(link_map, HostLinkGateware):
        return link_map.link_map
    if isinstance(link_map, Mapping):
        return json.loads(json.dumps(link_map))
    if isinstance(link_map, str | os.PathLike):
        with open(link_map) as f:
            return json.load(f)
    raise TypeError(
        f"link_map must be a dict, a JSON file or a HostLinkGateware, not {type(link_map).__name__}"
    )


class HostLink:
    """A client of the UART host link (see the module docstring).

    Parameters
    ----------
    port_or_transport : str or transport
        A serial port name (pyserial), or a transport such as :class:`SimTransport`.
    link_map : dict, path or HostLinkGateware, optional
        The link's region map; default: the transport's ``link_map`` (required for a port).
    baud : float, optional
        Baud of a serial port (default: the map's).
    timeout : float
        Seconds to wait for an answer (simulated seconds with :class:`SimTransport`).
    check : bool
        Read STATUS on connection and raise if its ``design_id`` is not the map's.
    """

    def __init__(self, port_or_transport, link_map=None, *, baud=None, timeout=1.0, check=True):
        if link_map is None:
            link_map = getattr(port_or_transport, "link_map", None)
            if link_map is None:
                raise TypeError(
                    "HostLink needs the link's map (link_map=, the hostlink.json of the build)"
                )
        self.map = _load_map(link_map)
        if isinstance(port_or_transport, str | os.PathLike):
            port_or_transport = SerialTransport(
                os.fspath(port_or_transport), baud or self.map["baud"]
            )
        self.transport = port_or_transport
        self.timeout = timeout
        self._regions = {r["name"]: r for r in self.map["regions"]}
        self._pops = [p["name"] for p in self.map["populations"]]
        self.timestep = 0
        if check:
            status = self.status()
            if status.design_id != self.map["design_id"]:
                raise HostLinkError(
                    f"the link runs design {status.design_id:#010x}, not the map's "
                    f"{self.map['design_id']:#010x} ({self.map['network']!r}): "
                    "wrong bitstream or wrong hostlink.json"
                )

    # -- frames -------------------------------------------------------------------------------
    def _read_exact(self, n: int, what: str) -> bytes:
        data = self.transport.read(n, self.timeout)
        if len(data) < n:
            raise HostLinkTimeout(
                f"no answer from {self.transport} within {self.timeout} s ({what}: got "
                f"{len(data)} of {n} bytes); is the board programmed with the host link and "
                f"the baud {self.map['baud']:g}?"
            )
        return data

    def read_frame(self) -> tuple[int, bytes]:
        """Read one frame; return ``(type, payload)`` (``HostLinkError`` on a bad CRC)."""
        while self._read_exact(1, "sync byte")[0] != SYNC:
            pass
        type_, length = self._read_exact(2, "frame header")
        rest = self._read_exact(length + 2, "frame payload")
        payload, check = rest[:length], int.from_bytes(rest[length:], "big")
        if crc16(bytes([type_, length]) + payload) != check:
            raise HostLinkError(f"answer of type {type_:#04x} has a bad CRC")
        return type_, payload

    def command(self, name: str, payload: bytes = b"") -> bytes:
        """Send command ``name`` with ``payload``; return the answer's payload.

        Raises :class:`NakError` if the link rejects the frame.
        """
        type_ = COMMANDS[name]
        self.transport.write(frame(type_, payload))
        return self.expect(type_)

    def expect(self, type_: int) -> bytes:
        """Read the answer to a command of type ``type_``; return its payload."""
        got, payload = self.read_frame()
        if got == NAK:
            code = ERRORS.get(payload[0], f"code {payload[0]}") if payload else "?"
            raise NakError(
                f"the link rejected the frame ({code}; its type byte was {payload[1]:#04x})",
                code,
            )
        if got != type_ | 0x80:
            raise HostLinkError(f"expected an answer of type {type_ | 0x80:#04x}, not {got:#04x}")
        return payload

    # -- commands -------------------------------------------------------------------------------
    def status(self) -> Status:
        """Return the link's status (timestep, counters, flags)."""
        status = Status.unpack(self.command("STATUS"))
        self.timestep = status.timestep
        return status

    def region(self, name: str) -> dict:
        """Return the map entry of region ``name`` (``KeyError`` naming the regions)."""
        if name not in self._regions:
            raise KeyError(
                f"the link has no region {name!r}; its regions are: {', '.join(self._regions)}"
            )
        return self._regions[name]

    def _pack(self, region: dict, values) -> list[int]:
        """Return raw words for ``values`` (ints, or a dict of per-field arrays)."""
        if isinstance(values, Mapping):
            fields = region["fields"] or {}
            for key in values:
                if key not in fields:
                    raise KeyError(f"region {region['name']!r} has no field {key!r}")
            n = max(len(np.atleast_1d(v)) for v in values.values())
            words = np.zeros(n, dtype=object)
            for key, (offset, width, _) in fields.items():
                v = np.broadcast_to(np.asarray(values.get(key, 0), dtype=np.int64), n)
                words += (v.astype(object) & ((1 << width) - 1)) << offset
            return [int(w) for w in words]
        mask = (1 << region["width"]) - 1
        return [int(v) & mask for v in np.atleast_1d(np.asarray(values, dtype=np.int64))]

    def write(self, region: str, values, addr: int = 0) -> None:
        """Write words ``values`` (ints, or ``{field: array}``) to ``region`` from ``addr``."""
        r = self.region(region)
        words = self._pack(r, values)
        nb = r["bytes"]
        per_frame = min(255, (255 - 4) // nb)
        for start in range(0, len(words), per_frame):
            chunk = words[start : start + per_frame]
            at = addr + start
            body = bytes([r["index"]]) + at.to_bytes(2, "little") + bytes([len(chunk)])
            body += b"".join(w.to_bytes(nb, "little") for w in chunk)
            self.command("WRITE", body)

    def read(self, region: str, addr: int = 0, count: int | None = None):
        """Read ``count`` words of ``region`` from ``addr`` (default: to its end).

        Returns an int array, or ``{field: int array}`` for a struct word (signed fields
        sign-extended).
        """
        r = self.region(region)
        count = r["depth"] - addr if count is None else count
        nb = r["bytes"]
        words = []
        per_frame = 255 // nb
        for start in range(0, count, per_frame):
            n = min(per_frame, count - start)
            at = addr + start
            payload = self.command(
                "READ", bytes([r["index"]]) + at.to_bytes(2, "little") + bytes([n])
            )
            words += [int.from_bytes(payload[i * nb : i * nb + nb], "little") for i in range(n)]
        raw = np.array(words, dtype=object)

        def field(offset, width, signed):
            v = ((raw >> offset) & ((1 << width) - 1)).astype(np.int64)
            return np.where(v >= 1 << (width - 1), v - (1 << width), v) if signed else v

        if r["fields"]:
            return {k: field(*spec) for k, spec in r["fields"].items()}
        return field(0, r["width"], r["signed"])

    def write_weights(self, region: str, weights) -> None:
        """Write a ``dense`` layer's whole ``(n_in, n_out)`` weight matrix into ``region``."""
        r = self.region(region)
        pack = r.get("pack") or {}
        if pack.get("synapse") != "dense":
            raise ValueError(f"region {region!r} is not a dense weight memory")
        w = np.asarray(weights, dtype=np.int64)
        if w.shape != (pack["n_in"], pack["n_out"]):
            raise ValueError(
                f"weights for {region!r} must have shape ({pack['n_in']}, {pack['n_out']}), "
                f"not {w.shape}"
            )
        lanes, bits, rows = pack["lanes"], pack["lane_bits"], pack["words_per_row"]
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        if w.size and (w.min() < lo or w.max() > hi):
            raise ValueError(f"weights for {region!r} must fit {bits} signed bits")
        padded = np.zeros((pack["n_in"], rows * lanes), dtype=np.int64)
        padded[:, : pack["n_out"]] = w
        raw = (padded & ((1 << bits) - 1)).reshape(-1, lanes).astype(object)
        words = sum(raw[:, lane] << (lane * bits) for lane in range(lanes))
        self.write(region, [int(x) for x in words])

    def push_spikes(self, input_name: str, addrs) -> None:
        """Send address-events ``addrs`` to spike input ``input_name`` (for the next step)."""
        self.write(f"{input_name}_aer", list(addrs))

    def run_steps(self, steps: int) -> int:
        """Run ``steps`` timesteps; return the timestep count after them."""
        while steps > 0:
            n = min(steps, 0xFFFF)
            payload = self.command("RUN", n.to_bytes(2, "little"))
            self.timestep = int.from_bytes(payload, "little")
            steps -= n
        return self.timestep

    def spikes(self) -> list[tuple[int, str, int]]:
        """Drain the spike FIFOs; return ``(timestep, population, neuron)`` events in order.

        The link stamps events with the timestep mod 65536; they are unwrapped against the
        timestep count of the last RUN or STATUS (read spikes at least every 65536 steps).
        """
        events = []
        t = self.timestep
        while True:
            payload = self.command("SPIKES", bytes([MAX_EVENTS]))
            for i in range(0, len(payload), 5):
                ts = int.from_bytes(payload[i : i + 2], "little")
                pop = payload[i + 2]
                addr = int.from_bytes(payload[i + 3 : i + 5], "little")
                step = t - 1 - ((t - 1 - ts) % 65536)
                events.append((step, self._pops[pop], addr))
            if len(payload) < 5 * MAX_EVENTS:
                return events

    def counters(self) -> dict[str, int]:
        """Return each population's spike count since reset or :meth:`clear`."""
        counts = self.read("spike_count")
        return {name: int(counts[i]) for i, name in enumerate(self._pops)}

    def clear(self) -> None:
        """Empty the spike FIFOs; zero the spike counters, ``dropped`` and ``rejected``."""
        self.command("CLEAR")

    def run(self, inputs: Mapping | None = None, steps: int | None = None) -> dict:
        """Run the network as :meth:`NetworkModel.run` does; return the same dict.

        Before each timestep it writes the value inputs (only when they changed) and pushes the
        spike inputs' events; it runs steps with nothing to write between them in one RUN,
        reads back the probed state fields after every step and drains the spikes (timestamped)
        before a population could have filled its FIFO. Raises :class:`HostLinkError` if spike
        events were dropped.
        """
        inputs = {k: np.asarray(v, dtype=np.int64) for k, v in (inputs or {}).items()}
        regions = self.map["regions"]
        drivers = [r for r in regions if r["kind"] in ("write", "aer") and "source" in r]
        for r in drivers:
            if r["source"] not in inputs:
                raise HostLinkError(f"input {r['source']!r} is missing")
        if steps is None:
            lengths = {a.shape[0] for a in inputs.values()}
            if len(lengths) != 1:
                raise HostLinkError("give steps= (inputs missing or of different lengths)")
            steps = lengths.pop()
        probes = self.map["probes"]
        out = {
            p["name"]: {
                "spike": np.zeros((steps, p["size"]), dtype=np.bool_),
                **{
                    f: np.zeros((steps, p["size"]), dtype=np.int64)
                    for f in probes.get(p["name"], ())
                },
            }
            for p in self.map["populations"]
        }
        start = self.timestep
        written = {}
        # a population sends at most `size` events a step: drain the FIFOs before they can fill
        depth = self.map["spike_fifo_depth"]
        drain_every = max(1, min(depth // p["size"] for p in self.map["populations"]))
        pending = undrained = 0  # steps not yet run; steps run since the last drain

        def flush():
            nonlocal pending, undrained
            if pending:
                self.run_steps(pending)
                undrained += pending
                pending = 0
            if undrained:
                for step, pop, addr in self.spikes():
                    out[pop]["spike"][step - start, addr] = True
                undrained = 0

        self.spikes()  # events from before this run are not its
        for t in range(steps):
            writes = []
            for r in drivers:
                src = inputs[r["source"]]
                if r["kind"] == "aer":
                    addrs = np.flatnonzero(src[t]).tolist()
                    if addrs:
                        writes.append((r["name"], addrs))
                    continue
                k = t - r["delay"]
                values = src[k] if k >= 0 else np.zeros(r["depth"], dtype=np.int64)
                if r["name"] in written and np.array_equal(written[r["name"]], values):
                    continue
                writes.append((r["name"], {r["port"]: values} if r["port"] else values))
                written[r["name"]] = values
            if writes and pending:  # run the steps before this one first
                self.run_steps(pending)
                undrained += pending
                pending = 0
            for name, values in writes:
                self.write(name, values)
            pending += 1
            if any(probes.values()):
                self.run_steps(1)
                pending, undrained = 0, undrained + 1
                for pop, fields in probes.items():
                    if fields:
                        state = self.read(f"{pop}_rd")
                        for f in fields:
                            out[pop][f][t] = state[f]
            if pending + undrained >= drain_every:
                flush()
        flush()
        status = self.status()
        if "SPIKES_DROPPED" in status.flags:
            raise HostLinkError(
                f"{status.dropped} spike events were dropped: a population sent more than "
                f"spike_fifo_depth={self.map['spike_fifo_depth']} events in one timestep"
            )
        return out

    def close(self) -> None:
        """Close the transport."""
        close = getattr(self.transport, "close", None)
        if close is not None:
            close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
