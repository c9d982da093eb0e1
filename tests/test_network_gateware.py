"""A whole network as gateware (NeuronCores + dense synapses + sequencer) against its model."""

from __future__ import annotations

import re

import numpy as np
import pytest

import neurogate as ng
from neurogate.core.network import Network, NetworkError
from neurogate.gateware.network import plan
from neurogate.sim.network import NetworkMismatchError, compare, run_pysim


def _three_layer(rng, n_x=5, sizes=(4, 6, 3), acc_bits=None, rate=0.4, steps=12):
    net = Network("three")
    net.input("x", n_x)
    net.input("b", sizes[0], kind="value", width=10, signed=True)
    net.population("a", "if_neuron", sizes[0], threshold=int(rng.integers(20, 60)))
    net.population("h", "lif_shift", sizes[1], threshold=int(rng.integers(30, 80)))
    net.population("o", "if_neuron", sizes[2], threshold=int(rng.integers(30, 90)), reset="zero")
    net.connect("b", "a", delay=int(rng.integers(0, 3)))
    extra = {} if acc_bits is None else {"acc_bits": acc_bits}
    net.connect("x", "h", "dense", weights=rng.integers(0, 60, size=(n_x, sizes[1])), **extra)
    net.connect("h", "o", "dense", weights=rng.integers(-10, 50, size=(sizes[1], sizes[2])))
    net.probe("h", "v")
    net.probe("o", "v")
    inputs = {
        "x": (rng.random((steps, n_x)) < rate).astype(np.uint8),
        "b": rng.integers(-10, 40, size=(steps, sizes[0])),
    }
    return net, inputs


@pytest.mark.parametrize(
    ("sizes", "acc_bits"),
    [((4, 6, 3), None), ((1, 1, 1), None), ((3, 9, 5), 7), ((2, 5, 2), 6)],
)
def test_model_equals_pysim(rng_seed, sizes, acc_bits):
    rng = np.random.default_rng(rng_seed)
    net, inputs = _three_layer(rng, sizes=sizes, acc_bits=acc_bits)
    result = compare(net, inputs, seed=rng_seed)
    # the test must exercise something: spikes flow through both synapse layers
    assert result["h"]["spike"].any() or not inputs["x"].any()


def test_known_answer_chain():
    """x -> (w=5) -> a (threshold 5) -> (w=5) -> b (threshold 10), by hand."""
    net = Network("chain")
    net.input("x", 2)
    net.population("a", "if_neuron", 2, threshold=5)
    net.population("b", "if_neuron", 2, threshold=10)
    net.connect("x", "a", "dense", weights=[[5, 0], [0, 5]])
    net.connect("a", "b", "dense", weights=[[5, 0], [0, 5]])
    net.probe("b", "v")
    x = [[1, 0], [1, 0], [0, 1], [0, 0], [0, 0]]
    got = ng.sim.run(net, {"x": x}, backend="pysim")
    # a fires one step after each x spike; b gets 5 per a-spike one step later, fires at 10
    assert got["a"]["spike"].astype(int).tolist() == [[0, 0], [1, 0], [1, 0], [0, 1], [0, 0]]
    assert got["b"]["spike"].astype(int).tolist() == [[0, 0], [0, 0], [0, 0], [1, 0], [0, 0]]
    assert got["b"]["v"].tolist() == [[0, 0], [0, 0], [5, 0], [0, 0], [0, 5]]


def test_design_file_runs_bit_exact(tmp_path, rng_seed):
    rng = np.random.default_rng(rng_seed)
    np.save(tmp_path / "w1.npy", rng.integers(-8, 40, size=(6, 5)))
    (tmp_path / "net.toml").write_text(
        """
[inputs.spikes]
size = 6

[populations.hidden]
neuron = "lif_shift"
size = 5
params = { threshold = 60 }
probe = ["v"]

[[connections]]
from = "spikes"
to = "hidden"
synapse = "dense"
params = { weights = "w1.npy" }
"""
    )
    net = ng.load_design(tmp_path / "net.toml")
    x = (rng.random((15, 6)) < 0.5).astype(np.uint8)
    compare(net, {"spikes": x}, seed=rng_seed)


class _BrokenIF(ng.NeuronKernel):
    """if_neuron whose model forgets to reset (a deliberately wrong model)."""

    name = "test_broken_if"

    def state_fields(self):
        return ng.component("if_neuron").state_fields()

    def input_ports(self):
        return ng.component("if_neuron").input_ports()

    def update_np(self, state, inputs):
        nxt, spike = ng.component("if_neuron", threshold=256).update_np(state, inputs)
        return {"v": np.where(spike, np.minimum(state["v"] + inputs["current"], 2**15 - 1),
                              nxt["v"])}, spike  # fmt: skip

    def update_hdl(self, m, state, inputs):
        return ng.component("if_neuron", threshold=256).update_hdl(m, state, inputs)


def test_mismatch_is_reported_with_the_place():
    net = Network("bad")
    net.input("i", 2, kind="value", width=12, signed=True)
    net.population("p", _BrokenIF(), 2)
    net.connect("i", "p", delay=0)
    net.probe("p", "v")
    msg = "bad: model and pysim differ first at timestep 2, p.v[1]: model=300, pysim=44 (seed=0)"
    with pytest.raises(NetworkMismatchError, match="^" + re.escape(msg) + "$"):
        compare(net, {"i": [[10, 100], [10, 100], [10, 100]]})


def test_unsupported_networks_are_named():
    net = Network("n")
    net.input("x", 2)
    net.population("a", "if_neuron", 2)
    net.connect("x", "a", "dense", weights=np.ones((2, 2), int), delay=0)
    msg = (
        "connection 'x' -> 'a': the gateware routes spikes at the end of a timestep, so a "
        "spike connection needs delay >= 1; delay=0 is only in the model"
    )
    with pytest.raises(NetworkError, match="^" + re.escape(msg) + "$"):
        run_pysim(net, {"x": [[0, 1]]})
    message = (
        "a network runs on the 'model', 'pysim', 'verilator', 'icarus' backends, "
        "not 'verilator-bulk'"
    )
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        ng.sim.run(net, {"x": [[0, 1]]}, backend="verilator-bulk")


@pytest.mark.parametrize(
    ("encoder", "params"),
    [("rate", {"stochastic": True}), ("rate", {}), ("latency", {}), ("sigma_delta", {})],
)
def test_encoders_model_equals_pysim(rng_seed, encoder, params):
    rng = np.random.default_rng(rng_seed)
    net = Network("enc")
    net.input("x", 5, kind="value", width=8)
    net.encoder("e", encoder, "x", **params)
    net.population("p", "if_neuron", 3, threshold=40)
    net.connect("e", "p", "dense", weights=rng.integers(0, 30, size=(5, 3)))
    net.probe("p", "v")
    x = rng.integers(0, 256, size=(14, 5))
    result = compare(net, {"x": x}, seed=rng_seed)
    assert result["p"]["v"].any()


def test_sparse_synapse_in_a_network(rng_seed):
    rng = np.random.default_rng(rng_seed)
    pairs = {(int(rng.integers(6)), int(rng.integers(4))) for _ in range(12)}
    connections = [(i, j, int(rng.integers(-5, 40))) for i, j in sorted(pairs)]
    net = Network("sp")
    net.input("x", 6)
    net.population("p", "if_neuron", 4, threshold=45)
    net.connect("x", "p", "sparse", n_in=6, n_out=4, connections=connections)
    net.probe("p", "v")
    x = (rng.random((14, 6)) < 0.5).astype(np.uint8)
    compare(net, {"x": x}, seed=rng_seed)


def test_per_neuron_bias_in_gateware(rng_seed, tmp_path):
    rng = np.random.default_rng(rng_seed)
    net = Network("bias")
    net.input("x", 4)
    net.population("p", "lif", 3, noise=True, port_values={"noise": rng.integers(-20, 60, 3)})
    net.connect("x", "p", "dense", weights=rng.integers(0, 300, size=(4, 3)), weight_bits=10)
    net.probe("p", "v")
    x = (rng.random((16, 4)) < 0.4).astype(np.uint8)
    want = compare(net, {"x": x}, seed=rng_seed)
    from neurogate.core.design import dump

    dump(net, tmp_path / "bias.toml")  # per-neuron values go to a .npy file named after it
    assert (tmp_path / "bias_populations_p_noise.npy").exists()
    again = ng.load_design(tmp_path / "bias.toml").model().run({"x": x})
    np.testing.assert_array_equal(again["p"]["v"], want["p"]["v"])


@pytest.mark.parametrize(
    ("neuron", "params", "scale"),
    [
        ("alif", {}, 200),
        ("cuba_lif", {"du": 500, "dv": 300, "vth": 2000}, 3000),
        ("izhikevich", {}, 4000),
        ("lif", {"leak_k": None, "gain_k": None}, 300),
        ("li", {}, 50),
        ("lif_shift", {"refractory": 2}, 100),
        ("hh_stn", {"stages": 3, "lut_bits": 0}, 30000),  # pipelined: 3 more cycles a step
    ],
)
def test_every_kernel_behind_a_dense_layer(rng_seed, neuron, params, scale):
    """Each neuron kernel as a population in the network gateware; other ports per neuron."""
    rng = np.random.default_rng(rng_seed)
    kernel = ng.component(neuron, **params)
    ports = kernel.input_ports()
    first = next(iter(ports))
    values = {}
    for key, port in list(ports.items())[1:]:  # e.g. lif's runtime leak_k/gain_k
        fmt = port.format
        values[key] = rng.integers(max(fmt.min, 0), min(fmt.max, 300), size=4, endpoint=True)
    net = Network("k")
    net.input("x", 5)
    net.population("p", kernel, 4, port_values=values)
    w = rng.integers(0, scale, size=(5, 4))
    net.connect("x", "p", "dense", weights=w, weight_bits=int(scale).bit_length() + 1, port=first)
    net.probe("p", *kernel.state_fields())
    x = (rng.random((14, 5)) < 0.5).astype(np.uint8)
    compare(net, {"x": x}, seed=rng_seed)


@pytest.mark.parametrize("data_width", [16, 7])
def test_several_synapses_into_one_population(rng_seed, data_width):
    """Fan-in 3 (two inputs and a recurrent layer) and 2, summed then saturated to the port."""
    rng = np.random.default_rng(rng_seed)
    net = Network("fanin")
    net.input("x", 5)
    net.input("y", 3)
    net.population("a", "if_neuron", 4, threshold=40, data_width=data_width)
    net.population("b", "lif_shift", 4, threshold=60)
    net.connect("x", "a", "dense", weights=rng.integers(-5, 60, size=(5, 4)))
    net.connect("y", "a", "dense", weights=rng.integers(-5, 60, size=(3, 4)))
    net.connect("a", "b", "dense", weights=rng.integers(0, 30, size=(4, 4)))
    net.connect("b", "a", "dense", weights=rng.integers(-40, 10, size=(4, 4)))
    net.connect("x", "b", "sparse", n_in=5, n_out=4, connections=[(0, 1, 9), (4, 3, 20)])
    net.probe("a", "v")
    net.probe("b", "v")
    x = (rng.random((20, 5)) < 0.5).astype(np.uint8)
    y = (rng.random((20, 3)) < 0.5).astype(np.uint8)
    result = compare(net, {"x": x, "y": y}, seed=rng_seed)
    assert result["a"]["spike"].any()


def test_synapses_into_different_ports(rng_seed):
    """Two synapses into two ports of one population: "merge" mode, one field per port."""
    rng = np.random.default_rng(rng_seed)
    net = Network("ports")
    net.input("x", 3)
    net.population("p", "lif", 2, noise=True)
    net.connect("x", "p", "dense", weights=rng.integers(0, 120, (3, 2)), port="current")
    net.connect("x", "p", "dense", weights=rng.integers(-30, 30, (3, 2)), port="noise")
    net.probe("p", "v")
    assert plan(net)["mode"] == {"p": "merge"}
    result = compare(net, {"x": (rng.random((16, 3)) < 0.5).astype(np.uint8)}, seed=rng_seed)
    assert result["p"]["spike"].any()


@pytest.mark.parametrize("fan_in", [1, 2])
def test_bias_on_a_synapse_driven_port(rng_seed, fan_in):
    """port_values of the driven port is a per-neuron bias added before the saturation."""
    rng = np.random.default_rng(rng_seed)
    net = Network("bias2")
    net.input("x", 5)
    bias = rng.integers(-30, 25, size=4)
    net.population("a", "if_neuron", 4, threshold=40, data_width=8, port_values={"current": bias})
    for _ in range(fan_in):
        net.connect("x", "a", "dense", weights=rng.integers(-10, 60, size=(5, 4)))
    net.probe("a", "v")
    x = (rng.random((16, 5)) < 0.5).astype(np.uint8)
    result = compare(net, {"x": x}, seed=rng_seed)
    # the bias is there from step 0 (no spikes arrive before step 1)
    first = np.clip(bias, -128, 127)
    np.testing.assert_array_equal(result["a"]["v"][0], np.where(first >= 40, first - 40, first))


def test_bias_on_a_value_driven_port(rng_seed):
    net = Network("vb")
    net.input("i", 2, kind="value", width=8)
    net.population("p", "if_neuron", 2, threshold=100, port_values={"current": [5, -7]})
    net.connect("i", "p", delay=0)
    net.probe("p", "v")
    assert plan(net)["mode"] == {"p": "merge"}
    got = compare(net, {"i": [[1, 2], [3, 4], [10, 1]]}, seed=rng_seed)
    # by hand: v accumulates i + bias from step 0 (delay 0)
    assert got["p"]["v"].tolist() == [[6, -5], [14, -8], [29, -14]]


@pytest.mark.parametrize("n", [1, 3, 6])
def test_merge_mode_sweep(rng_seed, n):
    """Value inputs mixed with synapses (recurrent included), delays 1-4, the same input twice,
    biases, and several ports: model == pysim with random valid gaps on the spike input."""
    rng = np.random.default_rng(rng_seed + n)
    net = Network("merge")
    net.input("x", 4)
    net.input("i", n, kind="value", width=7, signed=True)
    net.input("j", 2, kind="value", width=5)
    bias = rng.integers(-6, 6, n)
    net.population("a", "if_neuron", n, threshold=int(rng.integers(30, 60)), data_width=9,
                   port_values={"current": bias})  # fmt: skip
    net.population("b", "lif", 2, noise=True, v_threshold=int(rng.integers(200, 400)))
    net.connect(
        "x", "a", "dense", weights=rng.integers(-8, 40, (4, n)), delay=int(rng.integers(1, 5))
    )
    net.connect("i", "a", delay=int(rng.integers(0, 3)))
    net.connect("i", "a", delay=int(rng.integers(0, 3)))
    net.connect(
        "a", "b", "dense", weights=rng.integers(0, 90, (n, 2)), delay=int(rng.integers(1, 4))
    )
    net.connect(
        "b", "a", "dense", weights=rng.integers(-30, 10, (2, n)), delay=int(rng.integers(1, 4))
    )
    net.connect("j", "b", port="noise", delay=1)
    net.connect("x", "b", "sparse", n_in=4, n_out=2, connections=[(0, 1, 40), (3, 0, 70)], delay=2)
    net.probe("a", "v")
    net.probe("b", "v")
    steps = 24
    inputs = {
        "x": (rng.random((steps, 4)) < 0.5).astype(np.uint8),
        "i": rng.integers(-20, 40, (steps, n)),
        "j": rng.integers(0, 31, (steps, 2)),
    }
    print("delays", [c.delay for c in net.connections])
    assert plan(net)["mode"] == {"a": "merge", "b": "merge"}
    result = compare(net, inputs, seed=rng_seed)
    assert result["a"]["spike"].any()
    assert result["b"]["spike"].any()


def test_delay_known_answer():
    """A spike of step 0 through delay 3 reaches v at step 3 (and not before), by hand."""
    net = Network("late")
    net.input("x", 1)
    net.population("p", "if_neuron", 1, threshold=100)
    net.connect("x", "p", "dense", weights=[[7]], delay=3)
    net.probe("p", "v")
    got = ng.sim.run(net, {"x": [[1], [0], [1], [0], [0], [0]]}, backend="pysim")
    assert got["p"]["v"][:, 0].tolist() == [0, 0, 0, 7, 7, 14]


@pytest.mark.parametrize("encoder", ["lfsr", "sobol", "halton", "bernoulli"])
def test_sc_network(rng_seed, encoder, tmp_path):
    """SC encoders (bitstream nodes) and spike sources into sc_dense synapses (delays 2-4),
    with a dense layer beside them: model == pysim; a dumps/loads round trip runs the same."""
    from neurogate.core.design import dump, load

    rng = np.random.default_rng(rng_seed)
    net = Network("scnet")
    net.input("px", 4, kind="value", width=8)
    net.input("s", 2)
    net.encoder("bits", encoder, source="px", width=8)
    net.population("p", "if_neuron", 3, threshold=int(rng.integers(2, 6)))
    net.population("q", "if_neuron", 2, threshold=4)
    w = rng.integers(-60, 127, (4, 3))
    net.connect("bits", "p", "sc_dense", weights=w, lfsr_width=8, delay=int(rng.integers(2, 5)))
    net.connect("s", "p", "sc_dense", weights=rng.integers(-60, 127, (2, 3)), lfsr_width=8,
                delay=2)  # fmt: skip
    net.connect("p", "q", "dense", weights=rng.integers(0, 4, (3, 2)))
    net.probe("p", "v")
    inputs = {
        "px": rng.integers(0, 256, (30, 4)),
        "s": (rng.random((30, 2)) < 0.5).astype(np.uint8),
    }
    print("delay", net.connections[0].delay)
    result = compare(net, inputs, seed=rng_seed)
    assert result["p"]["spike"].any()
    again = load(dump(net, tmp_path / "sc.toml"))
    got = again.model().run(inputs)
    np.testing.assert_array_equal(got["p"]["v"], result["p"]["v"])


def test_sc_synapse_known_answer():
    """weight_bits=1, weight -1: the weight stream is all ones, so y = -x exactly; through
    delay 3, v at step t is minus the number of input spikes up to step t - 3."""
    net = Network("sck")
    net.input("s", 1)
    net.population("p", "if_neuron", 1, threshold=100)
    net.connect("s", "p", "sc_dense", weights=[[-1]], weight_bits=1, lfsr_width=4, delay=3)
    net.probe("p", "v")
    x = [[1], [0], [1], [1], [0], [0], [0]]
    got = ng.sim.run(net, {"s": x}, backend="pysim")
    assert got["p"]["v"][:, 0].tolist() == [0, 0, 0, -1, -1, -2, -3]


def test_sc_network_errors():
    net = Network("sce")
    net.input("px", 2, kind="value", width=8)
    net.encoder("bits", "lfsr", source="px", width=8)
    net.population("p", "if_neuron", 2)
    msg = (
        "connection 'bits' -> 'p': dense takes spikes; 'bits' carries bitstreams (an SC "
        "synapse such as 'sc_dense' takes bitstreams)"
    )
    with pytest.raises(NetworkError, match="^" + re.escape(msg) + "$"):
        net.connect("bits", "p", "dense", weights=np.ones((2, 2), int))
    msg = (
        "connection 'bits' -> 'p': a bitstream source needs a synapse (e.g. "
        "synapse='sc_dense') to drive the 16-bit port 'current'"
    )
    with pytest.raises(NetworkError, match="^" + re.escape(msg) + "$"):
        net.connect("bits", "p")
    # the encoder's elements took lfsr allocations 0 and 1: seeds 0xe1, 0x91
    msg = (
        "connection 'bits' -> 'p': sc_dense.row1 would produce the same sequence as encoder "
        "'bits' element 1: lfsr width=8 taps=(8, 6, 5, 4) seed=0x91 (give other seeds, or "
        "leave seeds out and the network picks free ones)"
    )
    with pytest.raises(ng.sc.SeedCollisionError, match="^" + re.escape(msg) + "$"):
        net.connect("bits", "p", "sc_dense", weights=np.ones((2, 2), int), lfsr_width=8,
                    seeds=[0x11, 0x91])  # fmt: skip
    assert net.connections == []
    # without seeds, the network picks rows that no other source uses
    conn = net.connect("bits", "p", "sc_dense", weights=np.ones((2, 2), int), lfsr_width=8)
    keys = [u.sequence_key() for u in net.encoders["bits"].instances]
    keys += [g.sequence_key() for g in conn.synapse.random_sources().values()]
    assert len(set(keys)) == 4
    msg = (
        "connection 'bits' -> 'p': sc_dense's pipeline adds 1 timestep(s) in the gateware, so "
        "it needs delay >= 2; delay=1 is only in the model"
    )
    with pytest.raises(NetworkError, match="^" + re.escape(msg) + "$"):
        run_pysim(net, {"px": [[1, 2]]})


def test_mesh_known_answer():
    """One spike per step crosses a 4 x 4 mesh (6 hops): b gets 3 per a-spike, one step later.
    The route waits for events in flight (without that, b's sums arrive a step late)."""
    net = Network("far")
    net.input("x", 1)
    net.population("a", "if_neuron", 1, threshold=1)
    net.population("b", "if_neuron", 1, threshold=100)
    net.connect("x", "a", "dense", weights=[[1]])
    net.connect("a", "b", "dense", weights=[[3]])
    net.mesh(4, 4, place={"b": (3, 3)})
    net.probe("b", "v")
    got = compare(net, {"x": np.ones((8, 1), np.uint8)})
    assert got["b"]["v"][:, 0].tolist() == [0, 0, 3, 6, 9, 12, 15, 18]


@pytest.mark.parametrize(("width", "height"), [(2, 2), (3, 1), (1, 3)])
def test_mesh_network(rng_seed, width, height, tmp_path):
    """Populations, a spike input and an encoder spread over a mesh at random (multicast to
    several nodes, recurrent and sparse edges): model == pysim; the design file keeps the mesh."""
    from neurogate.core.design import dump, load

    rng = np.random.default_rng(rng_seed)
    net = Network("multi")
    net.input("x", 5)
    net.input("px", 3, kind="value", width=8)
    net.encoder("r", "rate", source="px")
    net.population("a", "if_neuron", 4, threshold=30)
    net.population("b", "lif_shift", 6, threshold=40)
    net.population("c", "if_neuron", 3, threshold=30)
    net.connect("x", "a", "dense", weights=rng.integers(0, 40, (5, 4)))
    net.connect("x", "b", "dense", weights=rng.integers(0, 40, (5, 6)))
    net.connect("r", "c", "dense", weights=rng.integers(0, 40, (3, 3)))
    net.connect("a", "b", "dense", weights=rng.integers(0, 30, (4, 6)))
    net.connect("b", "c", "dense", weights=rng.integers(0, 30, (6, 3)), delay=2)
    net.connect("c", "a", "dense", weights=rng.integers(-20, 10, (3, 4)))
    net.connect("b", "b", "sparse", n_in=6, n_out=6, connections=[(0, 1, 20), (5, 2, 30)])
    nodes = [(x, y) for x in range(width) for y in range(height)]
    place = {k: nodes[int(rng.integers(len(nodes)))] for k in ("x", "r", "a", "b", "c")}
    print("place", place)
    net.mesh(width, height, place=place)
    net.probe("b", "v")
    inputs = {
        "x": (rng.random((16, 5)) < 0.5).astype(np.uint8),
        "px": rng.integers(0, 256, (16, 3)),
    }
    result = compare(net, inputs, seed=rng_seed)
    assert result["b"]["spike"].any()
    again = load(dump(net, tmp_path / "multi.toml"))
    assert again.noc == net.noc


def test_mesh_errors(tmp_path):
    net = Network("m")
    net.input("x", 1)
    net.population("a", "if_neuron", 1)
    net.connect("x", "a", "dense", weights=[[1]])
    msg = "mesh: 'a' is placed on node (2, 0), outside the 2 x 1 mesh (x in 0..1, y in 0..0)"
    with pytest.raises(NetworkError, match="^" + re.escape(msg) + "$"):
        net.mesh(2, 1, place={"a": (2, 0)})
    msg = "mesh: the node of 'a' must be a pair (x, y), not 3"
    with pytest.raises(NetworkError, match="^" + re.escape(msg) + "$"):
        net.mesh(2, 1, place={"a": 3})
    net.mesh(2, 1, place={"ghost": (1, 0)})
    msg = "m: mesh: 'ghost' is placed but is no input, encoder or population"
    with pytest.raises(NetworkError, match="^" + re.escape(msg) + "$"):
        net.check()
    from neurogate.core.design import DesignError, loads

    text = (
        '[inputs.x]\nsize = 1\n[populations.a]\nneuron = "if_neuron"\nsize = 1\n'
        '[[connections]]\nfrom = "x"\nto = "a"\nsynapse = "dense"\n'
        "params = { weights = [[1]] }\n[mesh]\nwidth = 2\nheight = 1\nplace = { a = [5, 0] }\n"
    )
    msg = (
        "<design>:14: mesh: 'a' is placed on node (5, 0), outside the 2 x 1 mesh "
        "(x in 0..1, y in 0..0)"
    )
    with pytest.raises(DesignError, match="^" + re.escape(msg) + "$"):
        loads(text)
    msg = "<design>:12: mesh: unknown key 'widht' (did you mean 'width'?); valid keys: width, "
    with pytest.raises(DesignError, match="^" + re.escape(msg)):
        loads(text.replace("width = 2", "widht = 2"))


def test_fan_in_into_one_neuron(rng_seed):
    """ "sum" mode with three synapses (one recurrent) into a 1-neuron population: each round's
    accumulator write lands before the next round reads the same address."""
    rng = np.random.default_rng(rng_seed)
    net = Network("one")
    net.input("x", 3)
    net.input("y", 2)
    net.population("a", "if_neuron", 1, threshold=20)
    net.connect("x", "a", "dense", weights=rng.integers(0, 20, (3, 1)))
    net.connect("y", "a", "dense", weights=rng.integers(0, 20, (2, 1)))
    net.connect("a", "a", "dense", weights=[[-7]])
    net.probe("a", "v")
    assert plan(net)["mode"] == {"a": "sum"}
    inputs = {
        "x": (rng.random((30, 3)) < 0.6).astype(np.uint8),
        "y": (rng.random((30, 2)) < 0.6).astype(np.uint8),
    }
    assert compare(net, inputs, seed=rng_seed)["a"]["spike"].any()
