"""The UART host link: a framed, CRC-checked protocol around a network's gateware.

:class:`HostLinkGateware` puts a design (a :class:`~neurogate.gateware.network.NetworkGateware`,
or a :class:`~neurogate.core.network.Network` it builds one for) behind two pins, ``rx`` and
``tx``: a UART (:mod:`neurogate.gateware.uart`) and a command interpreter that writes inputs,
parameters and weights, runs timesteps, records every population's spikes as address-events
with their timestep, and reports counters and status. The host side is
:class:`neurogate.boards.hostlink.HostLink`.

Frames
------
Both directions use the same frame::

    0xA5 | type (1 byte) | length n (1 byte, 0..255) | payload (n bytes) | CRC-16 (2 bytes)

The CRC is CRC-16/CCITT-FALSE (polynomial 0x1021, initial value 0xFFFF, not reflected, no final
XOR; ``crc16(b"123456789") == 0x29B1``) over ``type``, ``length`` and the payload, sent most
significant byte first. Multi-byte fields are little-endian. The link receives a whole frame
into a 256-byte buffer, checks its CRC, then its type, length and arguments, and only then
executes it: a frame that fails any check is **rejected** (never applied), counted in the
``rejected`` counter and answered by a ``NAK`` frame. A gap of more than ``timeout`` seconds
between two bytes of a frame rejects it as truncated. Bytes between frames that are not
``0xA5`` are skipped. The host sends one frame and waits for its answer; a byte that arrives
while the link is busy may be lost (the UART's sticky ``overrun`` flag in the status).

Commands (the answer's type is the command's ``| 0x80``):

=========  ====  =======================================  =======================================
command    type  payload                                  answer payload
=========  ====  =======================================  =======================================
STATUS     0x01  (none)                                   ``design_id`` u32, ``timestep`` u32,
                                                          ``rejected`` u16, ``dropped`` u16,
                                                          ``flags`` u16 (:data:`FLAGS`)
WRITE      0x02  ``region`` u8, ``addr`` u16, ``count``   (none)
                 u8, ``count`` words of the region's
                 ``bytes`` each
READ       0x03  ``region`` u8, ``addr`` u16, ``count``   ``count`` words of the region's
                 u8                                       ``bytes`` each
RUN        0x04  ``steps`` u16                            ``timestep`` u32 after the run
SPIKES     0x05  ``max`` u8 (at most 51 are sent)         events, 5 bytes each: ``timestep``
                                                          u16 (mod 65536), ``population`` u8,
                                                          ``addr`` u16
CLEAR      0x06  (none)                                   (none): empties the spike FIFOs,
                                                          zeroes the spike counters, ``dropped``,
                                                          ``rejected`` and the overflow flag
NAK        0xFF  (answer only)                            ``code`` u8 (:data:`ERRORS`), the
                                                          rejected frame's ``type`` u8
=========  ====  =======================================  =======================================

Regions
-------
WRITE and READ address **regions**, a map derived from the design (:attr:`HostLinkGateware.
link_map`, a JSON-able dict the client reads; :attr:`HostLinkGateware.design_id` is a CRC-32 of
it, reported by STATUS so the client can check it talks to the design it has the map of). A
region has a ``kind``, a ``depth`` (words), a word ``width`` in bits sent as ``bytes`` bytes
(little-endian, bits above ``width`` ignored) and, for a struct word, its ``fields``
(``name: [offset, width, signed]``):

* ``write``: a memory write port of the design, found generically: every ``X_addr`` /
  ``X_data`` / ``X_we`` triple in its signature (value inputs ``<population>_in``, encoder
  inputs ``<encoder>_in``), plus the per-neuron parameter memories of its cores
  (``<population>_par``) and the weight memories of its synapses (``<source>_<target>_w``;
  ``dense`` words hold ``lanes`` weights, described under ``pack``);
* ``aer``: a spike-input stream ``<input>_aer``; WRITE pushes ``count`` address-events (the
  ``addr`` field is ignored);
* ``read``: a state read port ``X_addr`` / ``X_data`` (``<population>_rd``);
* ``count``: the 32-bit spike counter of each population (address = population index).

A WRITE or READ past a region's ``depth`` is rejected (``RANGE``), as is a region of the wrong
kind (``REGION``) or a length that does not match the count (``LENGTH``).

Spikes
------
Every transfer on a core's ``aer`` stream (the spikes it sends, read without disturbing them) is
counted and pushed, with the low 16 bits of the current timestep, into that population's spike
FIFO (``spike_fifo_depth`` entries of block RAM). A full FIFO drops the event, counts it in
``dropped`` and raises the ``SPIKES_DROPPED`` flag; the counters still count it. SPIKES drains
the FIFOs in population order. ``timestep`` counts the design's ``done`` strobes since reset.
"""

from __future__ import annotations

import json
import math
import zlib

from amaranth.hdl import Array, Cat, Const, Module, Mux, Shape, Signal
from amaranth.lib import data, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from neurogate.core.network import Network
from neurogate.gateware.uart import UARTRx, UARTTx, divisor

__all__ = [
    "COMMANDS",
    "ERRORS",
    "FLAGS",
    "NAK",
    "SYNC",
    "HostLinkGateware",
    "crc16",
    "frame",
]

#: The first byte of every frame.
SYNC = 0xA5
#: Command types.
COMMANDS = {"STATUS": 0x01, "WRITE": 0x02, "READ": 0x03, "RUN": 0x04, "SPIKES": 0x05, "CLEAR": 0x06}
#: Type of the answer to a rejected frame.
NAK = 0xFF
#: NAK codes.
ERRORS = {1: "CRC", 2: "TIMEOUT", 3: "TYPE", 4: "LENGTH", 5: "REGION", 6: "RANGE"}
#: STATUS ``flags`` bits.
FLAGS = {
    "SPIKES_DROPPED": 0,  # a spike FIFO was full (since reset or CLEAR)
    "UART_OVERRUN": 1,  # a received byte was lost (sticky until reset)
    "UART_FRAME_ERROR": 2,  # a byte had a bad stop bit (sticky until reset)
    "SYNAPSE_OVERRUN": 3,  # a synapse's overrun flag (more events than max_events in a step)
    "SYNAPSE_BAD_ADDR": 4,  # a synapse's bad_addr flag (an event past n_in)
    "BUSY": 5,  # the design is running a timestep
}
#: Most events in one SPIKES answer (5 bytes each in a 255-byte payload).
MAX_EVENTS = 51
#: Protocol version in the map.
PROTOCOL = 1

_CRC_TABLE = []
for _byte in range(256):
    _crc = _byte << 8
    for _ in range(8):
        _crc = (_crc << 1) ^ (0x1021 if _crc & 0x8000 else 0)
    _CRC_TABLE.append(_crc & 0xFFFF)


def crc16(data: bytes, crc: int = 0xFFFF) -> int:
    """Return the CRC-16/CCITT-FALSE of ``data`` (continuing from ``crc``).

    >>> hex(crc16(b"123456789"))
    '0x29b1'
    """
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC_TABLE[(crc >> 8) ^ byte]
    return crc


def frame(type_: int, payload: bytes = b"") -> bytes:
    """Return the frame of ``type_`` with ``payload`` (sync, type, length, payload, CRC).

    >>> frame(0x01).hex(" ")
    'a5 01 00 2e 3e'
    """
    if len(payload) > 255:
        raise ValueError(f"frame payload must be at most 255 bytes, not {len(payload)}")
    body = bytes([type_, len(payload)]) + bytes(payload)
    return bytes([SYNC]) + body + crc16(body).to_bytes(2, "big")


def _crc16_hdl(crc, byte):
    """Return the CRC-16/CCITT-FALSE register after ``byte`` (combinational, MSB first).

    The CRC is linear: each bit of the result is the XOR of some bits of ``crc`` and ``byte``,
    found here by running the bitwise algorithm on sets of those bits.
    """
    bits = [{("c", i)} for i in range(16)]
    for i in reversed(range(8)):
        feedback = bits[15] ^ {("b", i)}
        shifted = [set(), *bits[:15]]
        bits = [shifted[k] ^ feedback if (0x1021 >> k) & 1 else shifted[k] for k in range(16)]
    src = {"c": crc, "b": byte}
    return Cat(*(_xor([src[w][i] for w, i in sorted(terms)]) for terms in bits))


def _xor(values):
    out = values[0]
    for v in values[1:]:
        out = out ^ v
    return out


def _width(shape) -> tuple[int, bool, dict | None]:
    """Return ``(width, signed, fields)`` of a port shape (``fields`` for a struct layout)."""
    if isinstance(shape, data.Layout):
        fields = {}
        for name, field in shape:
            s = Shape.cast(field.shape)
            fields[name] = [field.offset, s.width, s.signed]
        return shape.size, False, fields
    s = Shape.cast(shape)
    return s.width, s.signed, None


class _Region:
    """One region of the map: its description (``info``) and the design's ports it drives."""

    def __init__(self, name, kind, depth, shape, ports, **extra):
        width, signed, fields = _width(shape)
        self.info = {
            "name": name,
            "kind": kind,
            "depth": int(depth),
            "width": width,
            "bytes": max(1, math.ceil(width / 8)),
            "signed": signed,
            "fields": fields,
            **extra,
        }
        self.ports = ports

    @property
    def nbytes(self) -> int:
        return self.info["bytes"]


def _regions(design, net: Network) -> list[_Region]:
    """Derive the region map of ``design`` from its signature (and its cores and synapses)."""
    members = dict(design.signature.members.items())
    regions: list[_Region] = []
    used = {"step", "busy", "done"}
    for key in ("step", "busy", "done"):
        if key not in members:
            raise ValueError(f"the host link needs a design with a {key!r} port")
    sizes = {**{k: v.size for k, v in net.inputs.items()}}
    sizes.update({k: v.size for k, v in net.encoders.items()})
    sizes.update({k: v.size for k, v in net.populations.items()})
    value_edges = [c for c in net.connections if c.synapse is None]
    value_ports = {}  # id(we signal): value connection, where the design tells (value_port)
    if hasattr(design, "value_port"):
        for conn in value_edges:
            if net.node(conn.source).kind == "value":
                value_ports[id(design.value_port(conn)[2])] = conn

    def depth_of(stem, port):
        if stem in sizes:
            return sizes[stem]
        for conn in net.connections:
            if stem == f"{conn.source}_{conn.target}":
                return sizes[conn.target]
        return 1 << len(port)

    for key, member in members.items():
        if not key.endswith("_we") or member.is_signature or member.flow != In:
            continue
        base = key[: -len("_we")]
        if f"{base}_addr" not in members or f"{base}_data" not in members:
            continue
        used |= {key, f"{base}_addr", f"{base}_data"}
        extra = {}
        ports = tuple(getattr(design, f"{base}_{s}") for s in ("addr", "data", "we"))
        stem = base[: -len("_in")] if base.endswith("_in") else base
        depth = depth_of(stem, ports[0])
        conn = value_ports.get(id(ports[2]))
        if conn is not None:
            # the design says which value connection this port takes and whether its data is
            # the population's whole input word (the value in field `port`) or the value alone
            whole_word = design.value_port(conn)[3]
            port = conn.port if whole_word else None
            extra = {"source": conn.source, "port": port, "delay": conn.delay}
            depth = net.populations[conn.target].size
        elif stem in net.encoders:
            extra = {"source": net.encoders[stem].source, "port": None, "delay": 0}
        else:
            edges = [c for c in value_edges if stem == c.target]
            if len(edges) == 1:
                conn = edges[0]
                extra = {"source": conn.source, "port": conn.port, "delay": conn.delay}
        shape = members[f"{base}_data"].shape
        regions.append(_Region(base, "write", depth, shape, ports, **extra))
    for key, member in members.items():
        if key in used or member.is_signature or member.flow != In or not key.endswith("_addr"):
            continue
        base = key[: -len("_addr")]
        out = members.get(f"{base}_data")
        if out is None or out.is_signature or out.flow != Out:
            continue
        used |= {key, f"{base}_data"}
        pop = base[: -len("_rd")] if base.endswith("_rd") else base
        ports = (getattr(design, key), getattr(design, f"{base}_data"))
        depth = depth_of(pop, ports[0])
        regions.append(_Region(base, "read", depth, out.shape, ports, population=pop))
    for key, member in members.items():
        if key in used or not member.is_signature or member.flow != In:
            continue
        payload = member.signature.members.get("payload")
        if payload is None or not isinstance(payload.shape, data.Layout):
            continue
        if "addr" not in dict(payload.shape.members):
            continue
        used.add(key)
        source = key[: -len("_aer")] if key.endswith("_aer") else key
        stream = getattr(design, key)
        shape = payload.shape["addr"].shape
        depth = depth_of(source, stream.payload.addr)
        regions.append(_Region(key, "aer", depth, shape, (stream,), source=source))
    leftover = [k for k, mem in members.items() if k not in used and mem.flow == In]
    if leftover:
        raise ValueError(
            f"the host link does not know how to drive the design's input port(s) "
            f"{', '.join(sorted(leftover))}"
        )
    names = {r.info["name"] for r in regions}
    # per-neuron parameters and weights are not in the signature: drive the cores' and the
    # synapses' write ports directly (unless the design already exposes them)
    for name, core in getattr(design, "cores", {}).items():
        if "par_we" not in core.signature.members or f"{name}_par" in names:
            continue
        ports = (core.par_addr, core.par_data, core.par_we)
        shape = core.signature.members["par_data"].shape
        regions.append(_Region(f"{name}_par", "write", net.populations[name].size, shape, ports))
    for conn, syn in zip(net.connections, getattr(design, "synapses", []), strict=False):
        if syn is None or "w_we" not in syn.signature.members:
            continue
        base = f"{conn.source}_{conn.target}_w"
        name, k = base, 1
        while name in names:
            k += 1
            name = f"{base}{k}"
        names.add(name)
        extra = {}
        if conn.synapse.name == "dense":
            s = conn.synapse
            extra = {
                "pack": {
                    "synapse": "dense",
                    "n_in": s.n_in,
                    "n_out": s.n_out,
                    "lanes": s.lanes,
                    "lane_bits": s.weight_bits,
                    "words_per_row": s.words_per_row,
                }
            }
            depth = s.n_in * s.words_per_row
        elif conn.synapse.name == "sparse":
            s = conn.synapse
            extra = {"pack": {"synapse": "sparse", "target_bits": s.target_width}}
            depth = max(1, s.n_connections)
        else:
            depth = 1 << len(syn.w_addr)
        ports = (syn.w_addr, syn.w_data, syn.w_we)
        shape = syn.signature.members["w_data"].shape
        regions.append(_Region(name, "write", depth, shape, ports, **extra))
    pops = list(getattr(design, "cores", {}))
    regions.append(_Region("spike_count", "count", len(pops), 32, ()))
    if len(regions) > 256:
        raise ValueError(f"the host link addresses at most 256 regions, not {len(regions)}")
    for index, region in enumerate(regions):
        region.info = {"index": index, **region.info}
    return regions


class HostLinkGateware(wiring.Component):
    """A design behind a UART host link (see the module docstring for the protocol).

    Parameters
    ----------
    design : NetworkGateware or Network
        The design (a :class:`~neurogate.core.network.Network` is built with ``memory``).
    clk_freq : float
        Clock frequency of the ``sync`` domain, Hz.
    baud : float
        Baud of the UART (within 1 % of ``clk_freq`` / an integer >= 4).
    timeout : float
        Longest gap between two bytes of a frame, seconds (at least 2 byte times are used).
    spike_fifo_depth : int
        Events each population's spike FIFO holds.

    Members
    -------
    rx : in, 1
        Serial data from the host (idle high).
    tx : out, 1
        Serial data to the host (idle high).
    """

    def __init__(
        self,
        design,
        *,
        clk_freq: float,
        baud: float = 115200,
        timeout: float = 0.01,
        spike_fifo_depth: int = 256,
        memory: str = "ebr",
    ):
        self._MustUse__silence = True  # no "never used" warning if the arguments are refused
        if isinstance(spike_fifo_depth, bool) or not isinstance(spike_fifo_depth, int):
            raise TypeError(f"spike_fifo_depth must be an int, not {spike_fifo_depth!r}")
        if spike_fifo_depth < 1:
            raise ValueError(f"spike_fifo_depth must be at least 1, not {spike_fifo_depth!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        cycles_per_bit = divisor(clk_freq, baud)
        if isinstance(design, Network):
            from neurogate.gateware.network import NetworkGateware

            design = NetworkGateware(design, memory)
        net = getattr(design, "network", None)
        if not isinstance(net, Network):
            raise TypeError(
                f"design must be a Network or a NetworkGateware, not {type(design).__name__}"
            )
        self._design = design
        self._cpb = cycles_per_bit
        self._timeout_cycles = max(math.ceil(timeout * clk_freq), 20 * self._cpb)
        self._fifo_depth = spike_fifo_depth
        self._regions = _regions(design, net)
        pops = list(design.cores)
        link_map = {
            "protocol": PROTOCOL,
            "network": net.name,
            "clk_freq": clk_freq,
            "baud": baud,
            "cycles_per_bit": self._cpb,
            "timeout_cycles": self._timeout_cycles,
            "spike_fifo_depth": spike_fifo_depth,
            "populations": [
                {"index": i, "name": p, "size": net.populations[p].size} for i, p in enumerate(pops)
            ],
            "probes": {k: list(v) for k, v in net.probes.items()},
            "regions": [r.info for r in self._regions],
        }
        self._design_id = zlib.crc32(json.dumps(link_map, sort_keys=True).encode())
        self._map = {"design_id": self._design_id, **link_map}
        super().__init__({"rx": In(1, init=1), "tx": Out(1, init=1)})
        self._MustUse__silence = False

    @property
    def design(self):
        """The design behind the link."""
        return self._design

    @property
    def cycles_per_bit(self) -> int:
        """Clock cycles per UART bit."""
        return self._cpb

    @property
    def design_id(self) -> int:
        """CRC-32 of the map (reported by STATUS)."""
        return self._design_id

    @property
    def link_map(self) -> dict:
        """The region map, as the JSON the client reads (a deep copy)."""
        return json.loads(json.dumps(self._map))

    def map_json(self) -> str:
        """Return :attr:`link_map` as JSON text (for a ``hostlink.json`` next to a bitstream)."""
        return json.dumps(self._map, indent=1, sort_keys=True)

    def elaborate(self, platform):
        m = Module()
        design = self._design
        m.submodules.design = design
        m.submodules.uart_rx = urx = UARTRx(self._cpb)
        m.submodules.uart_tx = utx = UARTTx(self._cpb)
        m.d.comb += [urx.rx.eq(self.rx), self.tx.eq(utx.tx)]
        m.submodules.buffer = buf = Memory(shape=8, depth=256, init=[])
        brd, bwr = buf.read_port(), buf.write_port()
        regions = self._regions
        infos = [r.info for r in regions]

        # -- counters and spike taps ---------------------------------------------------------
        timestep = Signal(32)
        rejected = Signal(16)
        dropped = Signal(16)
        overflow = Signal()
        clear = Signal()
        with m.If(design.done):
            m.d.sync += timestep.eq(timestep + 1)
        cores = list(design.cores.values())
        fifos, counters, drops = [], [], []
        for i, core in enumerate(cores):
            aw = len(core.aer.payload.addr)
            fifo = SyncFIFOBuffered(width=aw + 16, depth=self._fifo_depth)
            m.submodules[f"spikes{i}"] = fifo
            fire = core.aer.valid & core.aer.ready
            count = Signal(32, name=f"spike_count{i}")
            drop = Signal(name=f"spike_drop{i}")
            m.d.comb += [
                fifo.w_en.eq(fire),
                fifo.w_data.eq(Cat(core.aer.payload.addr, timestep[:16])),
                drop.eq(fire & ~fifo.w_rdy),
            ]
            with m.If(clear):
                m.d.sync += count.eq(0)
            with m.Elif(fire):
                m.d.sync += count.eq(count + 1)
            fifos.append(fifo)
            counters.append(count)
            drops.append(drop)
        any_drop = Signal()
        m.d.comb += any_drop.eq(Cat(*drops).any() if drops else 0)
        with m.If(clear):
            m.d.sync += [dropped.eq(0), overflow.eq(0)]
        with m.Elif(any_drop):
            m.d.sync += overflow.eq(1)
            with m.If(dropped != 0xFFFF):
                m.d.sync += dropped.eq(dropped + 1)
        syn_flags = {"overrun": 0, "bad_addr": 0}
        for syn in getattr(design, "synapses", []):
            for key in syn_flags:
                if syn is not None and key in syn.signature.members:
                    syn_flags[key] = syn_flags[key] | getattr(syn, key)
        flags = Signal(16)
        m.d.comb += [
            flags[FLAGS["SPIKES_DROPPED"]].eq(overflow),
            flags[FLAGS["UART_OVERRUN"]].eq(urx.overrun),
            flags[FLAGS["UART_FRAME_ERROR"]].eq(urx.frame_error),
            flags[FLAGS["SYNAPSE_OVERRUN"]].eq(syn_flags["overrun"]),
            flags[FLAGS["SYNAPSE_BAD_ADDR"]].eq(syn_flags["bad_addr"]),
            flags[FLAGS["BUSY"]].eq(design.busy),
        ]

        # -- frame state -----------------------------------------------------------------------
        typ, length, index = Signal(8), Signal(8), Signal(8)
        args = [Signal(8, name=f"arg{i}") for i in range(4)]
        region, count = args[0], args[3]
        crc = Signal(16)
        rx_byte = urx.data.payload
        rx_take = Signal()
        m.d.comb += rx_take.eq(urx.data.valid & urx.data.ready)
        crc_next = _crc16_hdl(crc, rx_byte)
        timer = Signal(range(self._timeout_cycles + 1))
        code = Signal(8)  # NAK code
        resp_type = Signal(8)

        # emitter: writes the response payload into the buffer, a byte per cycle, from `shift`
        word_bits = max(112, 40, *(8 * i["bytes"] for i in infos))
        shift = Signal(word_bits)
        emit_left = Signal(range(word_bits // 8 + 1))
        wptr = Signal(8)  # next response byte
        rptr = Signal(8)  # buffer read address (request payload, then the response)
        m.d.comb += brd.addr.eq(rptr)
        with m.If(emit_left != 0):
            m.d.comb += [bwr.addr.eq(wptr), bwr.data.eq(shift[:8]), bwr.en.eq(1)]
            m.d.sync += [shift.eq(shift >> 8), wptr.eq(wptr + 1), emit_left.eq(emit_left - 1)]

        def emit(value, nbytes):
            m.d.sync += [shift.eq(value), emit_left.eq(nbytes)]

        # WRITE / READ: the word being assembled, its address, words left
        acc_bits = max([8 * i["bytes"] for i in infos if i["kind"] in ("write", "aer")] + [8])
        acc = Signal(acc_bits)
        addr = Signal(16)
        left = Signal(8)
        byte_index = Signal(range(max(2, acc_bits // 8)))
        nbytes = Signal(range(word_bits // 8 + 1))
        with m.Switch(region):
            for r in regions:
                with m.Case(r.info["index"]):
                    m.d.comb += nbytes.eq(r.nbytes)
        for r in regions:
            if r.info["kind"] == "write":
                port_addr, port_data, _ = r.ports
                m.d.comb += [
                    port_addr.eq(addr),
                    port_data.eq(acc[: r.info["width"]]),
                ]
            elif r.info["kind"] == "aer":
                (stream,) = r.ports
                m.d.comb += stream.payload.addr.eq(acc)
            elif r.info["kind"] == "read":
                m.d.comb += r.ports[0].eq(addr)
        steps = Signal(16)
        spike_max = Signal(8)
        pop = Signal(range(len(fifos) + 1))
        t_wait = Signal()  # the buffer's output is not yet the byte at rptr
        m.d.sync += t_wait.eq(0)
        tx_crc = Signal(16)
        tx_byte = utx.data.payload
        tx_take = Signal()
        m.d.comb += tx_take.eq(utx.data.valid & utx.data.ready)
        resp_len = Signal(8)

        receiving = Signal()
        m.d.comb += urx.data.ready.eq(receiving)
        with m.If(receiving & ~rx_take & (timer != self._timeout_cycles)):
            m.d.sync += timer.eq(timer + 1)
        with m.If(rx_take):
            m.d.sync += timer.eq(0)
        timed_out = receiving & (timer == self._timeout_cycles)

        with m.FSM(name="link"):
            with m.State("HUNT"):
                m.d.comb += receiving.eq(1)
                with m.If(rx_take & (rx_byte == SYNC)):
                    m.d.sync += crc.eq(0xFFFF)
                    m.next = "TYPE"
            for state, following in (("TYPE", "LEN"), ("CRC_HI", "CRC_LO")):
                with m.State(state):
                    m.d.comb += receiving.eq(1)
                    with m.If(timed_out):
                        m.d.sync += code.eq(2)
                        m.next = "REJECT"
                    with m.Elif(rx_take):
                        m.d.sync += crc.eq(crc_next)
                        if state == "TYPE":
                            m.d.sync += typ.eq(rx_byte)
                        m.next = following
            with m.State("LEN"):
                m.d.comb += receiving.eq(1)
                with m.If(timed_out):
                    m.d.sync += code.eq(2)
                    m.next = "REJECT"
                with m.Elif(rx_take):
                    m.d.sync += [crc.eq(crc_next), length.eq(rx_byte), index.eq(0)]
                    m.d.sync += [a.eq(0) for a in args]
                    with m.If(rx_byte == 0):
                        m.next = "CRC_HI"
                    with m.Else():
                        m.next = "DATA"
            with m.State("DATA"):
                m.d.comb += receiving.eq(1)
                with m.If(timed_out):
                    m.d.sync += code.eq(2)
                    m.next = "REJECT"
                with m.Elif(rx_take):
                    m.d.comb += [bwr.addr.eq(index), bwr.data.eq(rx_byte), bwr.en.eq(1)]
                    m.d.sync += [crc.eq(crc_next), index.eq(index + 1)]
                    with m.Switch(index):
                        for i, a in enumerate(args):
                            with m.Case(i):
                                m.d.sync += a.eq(rx_byte)
                    with m.If(index == length - 1):
                        m.next = "CRC_HI"
            with m.State("CRC_LO"):
                m.d.comb += receiving.eq(1)
                with m.If(timed_out):
                    m.d.sync += code.eq(2)
                    m.next = "REJECT"
                with m.Elif(rx_take):
                    with m.If(crc_next == 0):
                        m.next = "CHECK"
                    with m.Else():
                        m.d.sync += code.eq(1)
                        m.next = "REJECT"
            with m.State("REJECT"):
                with m.If(rejected != 0xFFFF):
                    m.d.sync += rejected.eq(rejected + 1)
                m.d.sync += [wptr.eq(0), resp_type.eq(NAK)]
                emit(Cat(code, typ), 2)
                m.next = "TX_SYNC"
            with m.State("CHECK"):
                # a CRC-clean frame: check its type, length and arguments, set its command up

                def reject(error):
                    m.d.sync += code.eq({v: k for k, v in ERRORS.items()}[error])
                    m.next = "REJECT"

                m.d.sync += [wptr.eq(0), resp_type.eq(typ | 0x80)]
                m.d.sync += [addr.eq(Cat(args[1], args[2])), left.eq(count), rptr.eq(4)]
                m.d.sync += [steps.eq(Cat(args[0], args[1])), pop.eq(0)]
                m.d.sync += spike_max.eq(Mux(args[0] > MAX_EVENTS, MAX_EVENTS, args[0]))
                end = Cat(args[1], args[2]) + count
                with m.Switch(typ):
                    for command, (want, state) in {
                        "STATUS": (0, "STATUS"),
                        "RUN": (2, "RUN"),
                        "SPIKES": (1, "SPIKES"),
                        "CLEAR": (0, "CLEAR"),
                    }.items():
                        with m.Case(COMMANDS[command]):
                            with m.If(length != want):
                                reject("LENGTH")
                            with m.Else():
                                m.next = state
                    with m.Case(COMMANDS["WRITE"]):
                        with m.If(length < 4):
                            reject("LENGTH")
                        with m.Else(), m.Switch(region):
                            for r in regions:
                                kind, depth = r.info["kind"], r.info["depth"]
                                if kind not in ("write", "aer"):
                                    continue
                                with m.Case(r.info["index"]):
                                    with m.If(length != 4 + count * r.nbytes):
                                        reject("LENGTH")
                                    with m.Elif(end > (depth if kind == "write" else 0xFFFF)):
                                        reject("RANGE")
                                    with m.Else():
                                        m.next = "W_NEXT"
                            with m.Default():
                                reject("REGION")
                    with m.Case(COMMANDS["READ"]):
                        with m.If(length != 4):
                            reject("LENGTH")
                        with m.Else(), m.Switch(region):
                            for r in regions:
                                if r.info["kind"] not in ("read", "count"):
                                    continue
                                with m.Case(r.info["index"]):
                                    with m.If(count * r.nbytes > 255):
                                        reject("LENGTH")
                                    with m.Elif(end > r.info["depth"]):
                                        reject("RANGE")
                                    with m.Else():
                                        m.next = "R_WAIT"
                            with m.Default():
                                reject("REGION")
                    with m.Default():
                        reject("TYPE")
            with m.State("STATUS"):
                emit(Cat(Const(self._design_id, 32), timestep, rejected, dropped, flags), 14)
                m.next = "TX_SYNC"
            with m.State("W_NEXT"):
                with m.If(left == 0):
                    m.next = "TX_SYNC"
                with m.Else():
                    m.d.sync += byte_index.eq(0)
                    m.next = "W_ADDR"
            with m.State("W_ADDR"):
                m.next = "W_BYTE"  # rptr stable for a cycle: the buffer shows its byte
            with m.State("W_BYTE"):
                with m.Switch(byte_index):
                    for i in range(acc_bits // 8):
                        with m.Case(i):
                            m.d.sync += acc[8 * i : 8 * i + 8].eq(brd.data)
                m.d.sync += [rptr.eq(rptr + 1), byte_index.eq(byte_index + 1)]
                with m.If(byte_index == nbytes - 1):
                    m.next = "W_STROBE"
                with m.Else():
                    m.next = "W_ADDR"
            with m.State("W_STROBE"):
                done = Signal()
                with m.Switch(region):
                    for r in regions:
                        with m.Case(r.info["index"]):
                            if r.info["kind"] == "write":
                                m.d.comb += [r.ports[2].eq(1), done.eq(1)]
                            elif r.info["kind"] == "aer":
                                (stream,) = r.ports
                                m.d.comb += [stream.valid.eq(1), done.eq(stream.ready)]
                with m.If(done):
                    m.d.sync += [addr.eq(addr + 1), left.eq(left - 1)]
                    m.next = "W_NEXT"
            with m.State("R_WAIT"):
                with m.If(left == 0):
                    m.next = "TX_SYNC"
                with m.Elif(emit_left == 0):
                    m.next = "R_LOAD"  # addr stable for a cycle: rd_data is its word
            with m.State("R_LOAD"):
                with m.Switch(region):
                    for r in regions:
                        with m.Case(r.info["index"]):
                            if r.info["kind"] == "read":
                                emit(r.ports[1].as_value(), r.nbytes)
                            elif r.info["kind"] == "count" and counters:
                                emit(Array(counters)[addr], 4)
                m.d.sync += [addr.eq(addr + 1), left.eq(left - 1)]
                m.next = "R_WAIT"
            with m.State("RUN"):
                with m.If(steps == 0):
                    emit(timestep, 4)
                    m.next = "TX_SYNC"
                with m.Elif(~design.busy):
                    m.d.comb += design.step.eq(1)
                    m.next = "RUN_WAIT"
            with m.State("RUN_WAIT"), m.If(design.done):
                m.d.sync += steps.eq(steps - 1)
                m.next = "RUN"
            with m.State("SPIKES"):
                with m.If((spike_max == 0) | (pop == len(fifos))):
                    m.next = "TX_SYNC"
                with m.Elif(emit_left == 0), m.Switch(pop):
                    for i, fifo in enumerate(fifos):
                        with m.Case(i):
                            aw = fifo.width - 16
                            with m.If(fifo.r_rdy):
                                event = Cat(
                                    fifo.r_data[aw:],
                                    Const(i, 8),
                                    fifo.r_data[:aw],
                                    Const(0, 16),
                                )
                                emit(event[:40], 5)
                                m.d.comb += fifo.r_en.eq(1)
                                m.d.sync += spike_max.eq(spike_max - 1)
                            with m.Else():
                                m.d.sync += pop.eq(pop + 1)
            with m.State("CLEAR"):
                m.d.comb += clear.eq(1)
                m.d.comb += [fifo.r_en.eq(1) for fifo in fifos]
                m.d.sync += rejected.eq(0)
                with m.If(~Cat(0, *[f.r_rdy for f in fifos]).any()):
                    m.next = "TX_SYNC"
            with m.State("TX_SYNC"), m.If(emit_left == 0):
                m.d.comb += [tx_byte.eq(SYNC), utx.data.valid.eq(1)]
                with m.If(tx_take):
                    m.d.sync += [tx_crc.eq(0xFFFF), resp_len.eq(wptr), rptr.eq(0)]
                    m.next = "TX_TYPE"
            with m.State("TX_TYPE"):
                m.d.comb += [tx_byte.eq(resp_type), utx.data.valid.eq(1)]
                with m.If(tx_take):
                    m.d.sync += tx_crc.eq(_crc16_hdl(tx_crc, tx_byte))
                    m.next = "TX_LEN"
            with m.State("TX_LEN"):
                m.d.comb += [tx_byte.eq(resp_len), utx.data.valid.eq(1)]
                with m.If(tx_take):
                    m.d.sync += tx_crc.eq(_crc16_hdl(tx_crc, tx_byte))
                    m.next = "TX_DATA"
                    with m.If(resp_len == 0):
                        m.next = "TX_CRC_HI"
            with m.State("TX_DATA"):
                m.d.comb += [tx_byte.eq(brd.data), utx.data.valid.eq(~t_wait)]
                with m.If(tx_take):
                    m.d.sync += [
                        tx_crc.eq(_crc16_hdl(tx_crc, tx_byte)),
                        rptr.eq(rptr + 1),
                        t_wait.eq(1),
                    ]
                    with m.If(rptr == resp_len - 1):
                        m.next = "TX_CRC_HI"
            with m.State("TX_CRC_HI"):
                m.d.comb += [tx_byte.eq(tx_crc[8:]), utx.data.valid.eq(1)]
                with m.If(tx_take):
                    m.next = "TX_CRC_LO"
            with m.State("TX_CRC_LO"):
                m.d.comb += [tx_byte.eq(tx_crc[:8]), utx.data.valid.eq(1)]
                with m.If(tx_take):
                    m.next = "HUNT"

        return m
