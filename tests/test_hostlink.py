"""The UART host link end to end: HostLink client -> UART pins -> gateware, in pysim.

Every run compares the link's spikes and probed state with ``net.model().run`` bit for bit;
corrupted frames must be rejected, counted and not applied.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest
from amaranth.hdl import Module, Signal
from amaranth.lib.crc import catalog
from amaranth.sim import Simulator

import neurogate as ng
from neurogate.boards.hostlink import (
    HostLink,
    HostLinkError,
    HostLinkTimeout,
    NakError,
    SerialTransport,
    SimTransport,
)
from neurogate.gateware.hostlink import (
    COMMANDS,
    HostLinkGateware,
    _crc16_hdl,
    crc16,
    frame,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


def assert_same(got: dict, want: dict) -> None:
    for pop, rec in want.items():
        for key, arr in rec.items():
            np.testing.assert_array_equal(got[pop][key], arr, err_msg=f"{pop}.{key}")


# -- CRC and frames ---------------------------------------------------------------------------
def test_crc16_known_answers(rng):
    # CRC-16/CCITT-FALSE check values (reveng catalogue): "123456789" -> 0x29B1
    assert crc16(b"123456789") == 0x29B1
    assert crc16(b"") == 0xFFFF
    assert crc16(b"A") == 0xB915
    # appending the CRC, most significant byte first, leaves a zero register
    data = bytes(rng.integers(0, 256, 40).tolist())
    assert crc16(data + crc16(data).to_bytes(2, "big")) == 0
    ref = catalog.CRC16_CCITT_FALSE()
    for n in (1, 7, 64):
        data = bytes(rng.integers(0, 256, n).tolist())
        assert crc16(data) == ref.compute(data)


def test_crc16_gateware_matches(rng):
    crc, byte, out = Signal(16), Signal(8), Signal(16)
    m = Module()
    m.d.comb += out.eq(_crc16_hdl(crc, byte))
    cases = [
        (0xFFFF, 0x31),
        *zip(rng.integers(0, 1 << 16, 100), rng.integers(0, 256, 100), strict=True),
    ]

    async def bench(ctx):
        for c, b in cases:
            ctx.set(crc, int(c))
            ctx.set(byte, int(b))
            assert ctx.get(out) == crc16(bytes([int(b)]), int(c))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()


def test_frame_layout():
    assert frame(0x01) == bytes.fromhex("a5 01 00 2e 3e")
    f = frame(0x04, b"\x03\x00")
    assert f[:4] == bytes.fromhex("a5 04 02 03")
    assert len(f) == 7
    assert crc16(f[1:]) == 0
    with pytest.raises(ValueError, match=exact("frame payload must be at most 255 bytes, not 256")):
        frame(0x02, bytes(256))


# -- networks --------------------------------------------------------------------------------
def feedforward():
    return ng.load_design(EXAMPLES / "feedforward.toml")


def chain(rng, weights1=None, leak=None):
    """Spike input -> dense -> if_neuron -> dense -> lif with per-neuron leak and gain."""
    threshold = int(rng.integers(30, 60))
    w1, w2 = rng.integers(-5, 40, size=(6, 5)), rng.integers(0, 90, size=(5, 3))
    leak_k = rng.integers(4, 64, 3) if leak is None else leak
    net = ng.Network("chain")
    net.input("s", 6)
    net.population("a", "if_neuron", 5, threshold=threshold)
    net.population(
        "b", "lif", 3, port_values={"leak_k": leak_k, "gain_k": [256, 200, 300]},
        v_threshold=200, leak_k=None, gain_k=None,
    )  # fmt: skip
    net.connect("s", "a", "dense", weights=w1 if weights1 is None else weights1)
    net.connect("a", "b", "dense", weights=w2)
    net.probe("a", "v")
    net.probe("b", "v")
    return net


def test_feedforward_end_to_end(rng):
    net = feedforward()
    link = HostLink(SimTransport(net))
    steps = 8
    inputs = {"bias": rng.integers(0, 1024, size=(steps, 4))}
    inputs["bias"][3:7] = inputs["bias"][2]  # unchanged inputs are not written again
    got = link.run(inputs)
    want = net.model().run(inputs)
    assert want["hidden"]["spike"].any()
    assert_same(got, want)
    status = link.status()
    assert (status.timestep, status.rejected, status.dropped) == (steps, 0, 0)
    assert status.flags == frozenset()
    assert link.counters() == {"hidden": int(want["hidden"]["spike"].sum())}


@pytest.mark.slow
def test_chain_end_to_end_and_state_carries_over(rng):
    net = chain(rng)
    link = HostLink(SimTransport(net))
    model = net.model()
    for steps in (4, 3):  # two runs: state carries over, as in the model
        inputs = {"s": rng.random((steps, 6)) < 0.5}
        assert_same(link.run(inputs), model.run(inputs))
    assert link.status().timestep == 7


@pytest.mark.slow
def test_write_weights_and_parameters(rng):
    w_new = rng.integers(-5, 40, size=(6, 5))
    leak_new = np.array([60, 3, 17])
    net = chain(np.random.default_rng(1))
    # the same network with other weights and per-neuron leaks: what the writes must give
    want_net = chain(np.random.default_rng(1), weights1=w_new, leak=leak_new)
    link = HostLink(SimTransport(net))
    regions = {r["name"]: r["kind"] for r in link.map["regions"]}
    assert regions == {
        "a_rd": "read",
        "b_rd": "read",
        "s_aer": "aer",
        "b_par": "write",
        "s_a_w": "write",
        "a_b_w": "write",
        "spike_count": "count",
    }
    link.write_weights("s_a_w", w_new)
    link.write("b_par", {"leak_k": leak_new, "gain_k": [256, 200, 300]})
    inputs = {"s": rng.random((5, 6)) < 0.6}
    assert_same(link.run(inputs), want_net.model().run(inputs))


def test_spike_events_and_clear(rng):
    net = feedforward()
    link = HostLink(SimTransport(net))
    link.write("hidden_in", {"current": [250, 0, 100, 201]})
    assert link.run_steps(5) == 5
    events = link.spikes()
    want = net.model().run({"bias": np.tile([250, 0, 100, 201], (5, 1))})["hidden"]["spike"]
    assert events == [(int(t), "hidden", int(i)) for t, i in np.argwhere(want)]
    assert link.spikes() == []
    assert link.counters() == {"hidden": int(want.sum())}
    link.clear()
    assert link.counters() == {"hidden": 0}
    model = net.model()
    model.run({"bias": np.tile([250, 0, 100, 201], (5, 1))})
    np.testing.assert_array_equal(link.read("hidden_rd")["v"], model.state["hidden"]["v"])
    np.testing.assert_array_equal(
        link.read("hidden_rd", 1, 2)["v"], model.state["hidden"]["v"][1:3]
    )


# -- bad frames ------------------------------------------------------------------------------
def raw(link: HostLink, data: bytes) -> tuple[int, bytes]:
    link.transport.write(data)
    return link.read_frame()


def test_corrupt_frames_rejected_counted_not_applied(rng):
    net = feedforward()
    link = HostLink(SimTransport(net, timeout=200e-6))
    values = [150, 20, 90, 201]
    link.write("hidden_in", {"current": values})
    region = link.region("hidden_in")["index"]
    evil = bytes([region, 0, 0, 4]) + b"".join(v.to_bytes(2, "little") for v in [999] * 4)
    good = frame(COMMANDS["WRITE"], evil)
    bad_crc = good[:-1] + bytes([good[-1] ^ 0x01])
    flipped = good[:5] + bytes([good[5] ^ 0x80]) + good[6:]  # a payload bit, CRC kept
    short_len = good[:2] + bytes([good[2] - 1]) + good[3:]  # length says one byte less
    cases = [
        (bad_crc, "CRC"),
        (flipped, "CRC"),
        (short_len, "CRC"),
        (good[:-3], "TIMEOUT"),  # truncated: the link times out between bytes
        (frame(0x42, b"\x01"), "TYPE"),
        (frame(COMMANDS["WRITE"], evil[:-1]), "LENGTH"),  # count 4, 7 data bytes
        (frame(COMMANDS["RUN"], b"\x05"), "LENGTH"),
        (frame(COMMANDS["STATUS"], b"\x00"), "LENGTH"),
        (frame(COMMANDS["WRITE"], bytes([200, 0, 0, 0])), "REGION"),
        (frame(COMMANDS["READ"], bytes([region, 0, 0, 1])), "REGION"),  # not readable
        (frame(COMMANDS["WRITE"], bytes([region, 3, 0, 2]) + bytes(4)), "RANGE"),
        (frame(COMMANDS["READ"], bytes([link.region("hidden_rd")["index"], 2, 0, 3])), "RANGE"),
    ]
    for k, (data, code) in enumerate(cases, 1):
        type_, payload = raw(link, data)
        assert type_ == 0xFF, code
        assert payload[0] == {"CRC": 1, "TIMEOUT": 2, "TYPE": 3, "LENGTH": 4, "REGION": 5,
                              "RANGE": 6}[code], (code, payload)  # fmt: skip
        assert link.status().rejected == k
    status = link.status()
    assert (status.timestep, status.dropped) == (0, 0)
    # nothing was applied: the inputs are the ones written before, no step ran
    link.run_steps(3)
    want = net.model().run({"bias": np.tile(values, (3, 1))})
    events = link.spikes()
    assert events == [(int(t), "hidden", int(i)) for t, i in np.argwhere(want["hidden"]["spike"])]
    np.testing.assert_array_equal(link.read("hidden_rd")["v"], want["hidden"]["v"][-1])
    # a bad frame's leftover bytes are skipped: the next frame is answered
    assert link.status().rejected == len(cases)


def test_nak_error_from_command():
    link = HostLink(SimTransport(feedforward()))
    with pytest.raises(NakError) as exc:
        link.write("hidden_in", {"current": [1] * 5})  # one past the 4 neurons
    assert str(exc.value) == "the link rejected the frame (RANGE; its type byte was 0x02)"
    assert exc.value.code == "RANGE"
    with pytest.raises(KeyError, match="the link has no region 'nope'; its regions are: "):
        link.region("nope")


def test_spike_fifo_overflow_is_reported():
    net = ng.Network("busy")
    net.input("d", 8, kind="value", width=8)
    net.population("p", "if_neuron", 8, threshold=1)
    net.connect("d", "p", delay=0)
    link = HostLink(SimTransport(net, spike_fifo_depth=4))
    msg = (
        "4 spike events were dropped: a population sent more than spike_fifo_depth=4 events "
        "in one timestep"
    )
    with pytest.raises(HostLinkError, match=exact(msg)):
        link.run({"d": np.full((1, 8), 5)})
    status = link.status()
    assert "SPIKES_DROPPED" in status.flags
    assert status.dropped == 4
    assert link.counters() == {"p": 8}  # the counters count every event
    link.clear()
    assert link.status().flags == frozenset()


# -- the host side without a design -----------------------------------------------------------
def map_only(net, **kwargs) -> dict:
    """Return the link map of ``net`` (the gateware is never simulated: no unused warnings)."""
    gw = HostLinkGateware(net, clk_freq=1e6, baud=250e3, **kwargs)
    design = gw.design
    for obj in [gw, design, *design.cores.values(), *filter(None, design.synapses)]:
        obj._MustUse__silence = True
    return gw.link_map


class Silent:
    """A transport that never answers."""

    link_map = map_only(feedforward())

    def write(self, data):
        pass

    def read(self, n, timeout):
        return b""

    def __str__(self):
        return "serial port /dev/null"


def test_no_answer_times_out_with_message():
    msg = (
        "no answer from serial port /dev/null within 0.25 s (sync byte: got 0 of 1 bytes); is "
        "the board programmed with the host link and the baud 250000?"
    )
    with pytest.raises(HostLinkTimeout, match=exact(msg)):
        HostLink(Silent(), timeout=0.25)


def test_wrong_design_id():
    other = Silent.link_map | {"design_id": 0x1234}
    sim = SimTransport(feedforward())
    msg = (
        f"the link runs design {sim.link_map['design_id']:#010x}, not the map's 0x00001234 "
        "('ff'): wrong bitstream or wrong hostlink.json"
    )
    with pytest.raises(HostLinkError, match=exact(msg)):
        HostLink(sim, other)


def test_map_json_roundtrip(tmp_path):
    gw = HostLinkGateware(feedforward(), clk_freq=1e6, baud=125e3)
    path = tmp_path / "hostlink.json"
    path.write_text(gw.map_json())
    link = HostLink(SimTransport(gw), path)
    assert link.map == gw.link_map
    assert link.map["cycles_per_bit"] == 8


def test_missing_pyserial(monkeypatch):
    monkeypatch.setitem(sys.modules, "serial", None)
    msg = "HostLink on a serial port needs pyserial: pip install 'neurogate[serial]'"
    with pytest.raises(ImportError, match=exact(msg)):
        SerialTransport("/dev/ttyUSB9", 115200)
    with pytest.raises(ImportError, match=exact(msg)):
        HostLink("/dev/ttyUSB9", Silent.link_map)


def test_gateware_arguments():
    net = feedforward()
    with pytest.raises(
        TypeError, match=exact("design must be a Network or a NetworkGateware, not int")
    ):
        HostLinkGateware(3, clk_freq=1e6, baud=250e3)
    with pytest.raises(ValueError, match=exact("spike_fifo_depth must be at least 1, not 0")):
        HostLinkGateware(net, clk_freq=1e6, baud=250e3, spike_fifo_depth=0)
    with pytest.raises(
        ValueError, match=exact("timeout must be a positive number of seconds, not 0")
    ):
        HostLinkGateware(net, clk_freq=1e6, baud=250e3, timeout=0)


def test_merge_mode_value_and_spikes_into_one_population(rng):
    # a value input (delay 2) and a dense layer into one port: the design's "merge" mode, with
    # a staging memory per value connection; the map learns which from the design
    net = ng.Network("merge")
    net.input("b", 3, kind="value", width=8, signed=True)
    net.input("x", 4)
    net.population("a", "if_neuron", 3, threshold=60)
    net.connect("b", "a", delay=2)
    net.connect("x", "a", "dense", weights=rng.integers(-10, 40, size=(4, 3)))
    net.probe("a", "v")
    link = HostLink(SimTransport(net))
    (region,) = [r for r in link.map["regions"] if r.get("source") == "b"]
    assert (region["depth"], region["delay"]) == (3, 2)
    inputs = {"b": rng.integers(-20, 60, size=(4, 3)), "x": rng.random((4, 4)) < 0.5}
    assert_same(link.run(inputs), net.model().run(inputs))
