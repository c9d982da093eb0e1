"""The network graph: typed edges, errors naming the place, and the timestep semantics."""

from __future__ import annotations

import re

import numpy as np
import pytest

import neurogate as ng
from neurogate.core.component import Component, Int, Model, Param, Port
from neurogate.core.network import Network, NetworkError


class _Weights(Component):
    """A test synapse: ``values = spikes @ W`` with W = ``scale`` on the diagonal band."""

    name = "test_band"
    kind = "synapse"
    n_in = Param(3, Int(1), "sources")
    n_out = Param(3, Int(1), "targets")
    scale = Param(5, Int(), "weight")

    @property
    def ports(self):
        return {"dummy": Port("in", 1)}

    @property
    def out_port(self):
        return Port("out", 16, True, "current")

    @property
    def matrix(self):
        w = np.zeros((self.n_in, self.n_out), dtype=np.int64)
        for i in range(self.n_in):
            w[i, i % self.n_out] = self.scale
        return w

    def model(self, n=1):
        return _WeightsModel(self, n)


class _WeightsModel(Model):
    def reset(self):
        pass

    def step(self, spikes):
        return np.asarray(spikes, dtype=np.int64) @ self.component.matrix


def _exact(msg):
    return "^" + re.escape(msg) + "$"


def test_chain_known_answer():
    """x -> a (delay 1) -> b (delay 1): b fires two steps after a's input spike pattern."""
    net = Network("chain")
    net.input("x", size=3)
    net.population("a", "if_neuron", size=3, threshold=5)
    net.population("b", "if_neuron", size=3, threshold=10)
    net.connect("x", "a", _Weights(scale=5))
    net.connect("a", "b", _Weights(scale=5))
    net.probe("b", "v")
    x = np.zeros((6, 3), dtype=np.uint8)
    x[0, 0] = x[1, 0] = x[0, 2] = 1
    out = net.model().run({"x": x})
    # a integrates x of the previous step: 5 >= 5 fires at once (reset by subtraction)
    assert out["a"]["spike"].astype(int).tolist() == [
        [0, 0, 0], [1, 0, 1], [1, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0],
    ]  # fmt: skip
    # b gets 5 per a-spike one step later: neuron 0 reaches 10 at step 3, neuron 2 stays at 5
    assert out["b"]["spike"].astype(int).tolist() == [
        [0, 0, 0], [0, 0, 0], [0, 0, 0], [1, 0, 0], [0, 0, 0], [0, 0, 0],
    ]  # fmt: skip
    assert out["b"]["v"][:, 2].tolist() == [0, 0, 5, 5, 5, 5]


def test_zero_delay_orders_populations():
    net = Network()
    net.input("x", size=3)
    net.population("b", "if_neuron", size=3, threshold=5)  # declared first, updated second
    net.population("a", "if_neuron", size=3, threshold=5)
    net.connect("x", "a", _Weights(scale=5), delay=0)
    net.connect("a", "b", _Weights(scale=5), delay=0)
    assert net.order() == ["a", "b"]
    out = net.model().run({"x": [[1, 0, 0], [0, 0, 0]]})
    assert out["b"]["spike"].astype(int).tolist() == [[1, 0, 0], [0, 0, 0]]


def test_state_carries_over_between_runs_and_reset(rng_seed):
    rng = np.random.default_rng(rng_seed)
    net = Network()
    net.input("x", size=3)
    net.population("a", "lif_shift", size=3)
    net.connect("x", "a", _Weights(scale=300))
    net.probe("a", "v")
    x = rng.integers(0, 2, size=(40, 3))
    model = net.model()
    whole = model.run({"x": x})
    model.reset()
    first, second = model.run({"x": x[:17]}), model.run({"x": x[17:]})
    for key in ("spike", "v"):
        np.testing.assert_array_equal(
            whole["a"][key], np.concatenate([first["a"][key], second["a"][key]])
        )


def test_value_input_matches_parallel_model(rng_seed):
    """A value input wired straight to a port is the neuron's own parallel model."""
    rng = np.random.default_rng(rng_seed)
    lif = ng.component("lif", leak_k=20, gain_k=200)
    net = Network()
    net.input("i", size=8, kind="value", width=16, signed=True)
    net.population("p", lif, size=8)
    net.connect("i", "p", delay=0)
    net.probe("p", "v")
    cur = rng.integers(-300, 600, size=(200, 8))
    got = net.model().run({"i": cur})["p"]
    want = lif.model(n=8).run({"current": cur})
    np.testing.assert_array_equal(got["spike"], want["spike"].astype(bool))
    np.testing.assert_array_equal(got["v"], want["v"])


def test_drive_saturates_to_the_port():
    net = Network()
    net.input("x", size=2)
    net.population("p", "if_neuron", size=2, data_width=8, threshold=127)
    net.connect("x", "p", _Weights(n_in=2, n_out=2, scale=100), delay=0)
    net.connect("x", "p", _Weights(n_in=2, n_out=2, scale=100), delay=0)
    net.probe("p", "v")
    out = net.model().run({"x": [[1, 0]]})
    assert out["p"]["spike"].astype(int).tolist() == [[1, 0]]  # 200 clipped to 127 >= 127
    assert out["p"]["v"].tolist() == [[0, 0]]


_CASES = [
    (
        lambda n: n.input("x y", 3),
        "input name must be an identifier (letters, digits, _), not 'x y'",
    ),
    (lambda n: n.input("x", 0), "input 'x' size must be an int >= 1, not 0"),
    (
        lambda n: n.input("x", 2, kind="bits"),
        "input 'x' kind must be one of 'spike', 'value', not 'bits'",
    ),
    (
        lambda n: n.population("p", "nope", 3),
        "population 'p': no component named 'nope'; known components: "
        + ", ".join(ng.components()),
    ),
    (
        lambda n: n.population("p", "lfsr", 3),
        "population 'p': 'lfsr' is not a neuron kernel (a NeuronKernel component such as "
        "'lif_shift')",
    ),
    (
        lambda n: n.population("p", "if_neuron", 3, port_values={"leak": 1}),
        "population 'p': if_neuron has no input port 'leak'; its inputs are: current",
    ),
    (lambda n: n.population("src", "if_neuron", 3), "net: the name 'src' is already used"),
    (
        lambda n: n.connect("zz", "p2"),
        "connection 'zz' -> 'p2': no input, encoder or population named 'zz'",
    ),
    (
        lambda n: n.connect("src", "src"),
        "connection 'src' -> 'src': the target 'src' is an input (inputs have no ports); "
        "targets are populations",
    ),
    (
        lambda n: n.connect("src", "p2"),
        "connection 'src' -> 'p2': a spike source needs a synapse (e.g. synapse='dense') to "
        "drive the 16-bit port 'current'",
    ),
    (
        lambda n: n.connect("src", "p2", _Weights(n_in=3, n_out=4)),
        "connection 'src' -> 'p2': shape mismatch: test_band is 3 x 4, the edge needs 3 x 2",
    ),
    (
        lambda n: n.connect("src", "p2", _Weights(), port="gain"),
        "connection 'src' -> 'p2': if_neuron has no input port 'gain'; its inputs are: current",
    ),
    (
        lambda n: n.connect("val", "p2"),
        "connection 'val' -> 'p2': 'val' values (signed 17-bit [-65536, 65535]) do not fit "
        "port 'current' (signed 16-bit [-32768, 32767])",
    ),
    (
        lambda n: n.connect("src", "p2", _Weights(n_out=2), delay=-1),
        "connection 'src' -> 'p2' delay must be an int 0..65536, not -1",
    ),
    (lambda n: n.probe("p2", "u"), "probe 'p2': if_neuron has no state 'u'; its state is: v"),
]


@pytest.mark.parametrize(("build", "msg"), _CASES, ids=[m[:40] for _, m in _CASES])
def test_build_errors(build, msg):
    net = Network("net")
    net.input("src", 3)
    net.input("val", 2, kind="value", width=17, signed=True)
    net.population("p2", "if_neuron", 2)
    with pytest.raises(NetworkError, match=_exact(msg)):
        build(net)


def test_zero_delay_cycle_is_an_error_and_leaves_the_network_unchanged():
    net = Network("loop")
    net.input("x", 3)
    net.population("a", "if_neuron", 3)
    net.population("b", "if_neuron", 3)
    net.connect("x", "a", _Weights())
    net.connect("a", "b", _Weights(), delay=0)
    msg = "loop: a cycle of zero-delay connections: a -> b -> a (give one of them delay >= 1)"
    with pytest.raises(NetworkError, match=_exact(msg)):
        net.connect("b", "a", _Weights(), delay=0)
    assert len(net.connections) == 2
    net.connect("b", "a", _Weights(), delay=1)  # a delayed loop is fine
    assert net.order() == ["a", "b"]


def test_run_errors():
    net = Network("n")
    net.input("x", 3)
    net.population("a", "if_neuron", 3)
    with pytest.raises(NetworkError, match=_exact("n: input 'x' is not connected to anything")):
        net.model()
    net.connect("x", "a", _Weights())
    model = net.model()
    with pytest.raises(NetworkError, match=_exact("n has no input 'y'; its inputs are: x")):
        model.run({"x": np.zeros((2, 3), int), "y": 1})
    with pytest.raises(
        NetworkError, match=_exact("input 'x' must have shape (steps, 3), not (2, 4)")
    ):
        model.run({"x": np.zeros((2, 4), int)})
    msg = "input 'x' value 2 at step 1, element 0 does not fit unsigned 1-bit [0, 1]"
    with pytest.raises(NetworkError, match=_exact(msg)):
        model.run({"x": [[0, 0, 0], [2, 0, 0]]})
    with pytest.raises(NetworkError, match=_exact("n: input 'x' is missing")):
        model.run({})
    assert Network("e").populations == {}
    with pytest.raises(NetworkError, match=_exact("e: the network has no population")):
        Network("e").model()


def test_encoder_known_answer():
    """rate(width=3) on x=3 spikes at steps 2, 5, 7 (its docstring); one weight of 10 -> 10."""
    net = Network("enc")
    net.input("x", 1, kind="value", width=3)
    net.encoder("r", "rate", "x", width=3)
    net.population("p", "if_neuron", 1, threshold=1000)
    net.connect("r", "p", _Weights(n_in=1, n_out=1, scale=10))
    net.probe("p", "v")
    out = net.model().run({"x": [[3]] * 9})
    # the spikes of steps 2, 5, 7 arrive one step later
    assert out["p"]["v"][:, 0].tolist() == [0, 0, 0, 10, 10, 10, 20, 20, 30]


def test_random_encoders_get_distinct_seeds_and_match_their_own_models(rng_seed):
    rng = np.random.default_rng(rng_seed)
    net = Network()
    net.input("x", 5, kind="value", width=8)
    enc = net.encoder("r", "rate", "x", stochastic=True)
    assert len({inst.seed for inst in enc.instances}) == 5
    net.population("p", "if_neuron", 5, threshold=1)
    net.connect("r", "p", _Weights(n_in=5, n_out=5, scale=1))
    x = rng.integers(0, 256, size=(40, 5))
    got = net.model().run({"x": x})["p"]["spike"]
    for i, inst in enumerate(enc.instances):  # p fires one step after each encoder spike
        spikes = inst.model(1).run({"x": x[:, i : i + 1]})["spike"][:, 0].astype(bool)
        np.testing.assert_array_equal(got[1:, i], spikes[:-1])


@pytest.mark.parametrize(
    ("call", "msg"),
    [
        (
            lambda n: n.encoder("e", "delta", "v"),
            "encoder 'e': 'delta' is not a temporal or SC encoder (one input port and a 1-bit "
            "'spike' output: burst, latency, phase, rate, sigma_delta; or a 1-bit 'bit' output: "
            "bernoulli, halton, lfsr, sobol, vdc)",
        ),
        (
            lambda n: n.encoder("e", "rate", "s"),
            "encoder 'e': the source 's' must be a value input",
        ),
        (
            lambda n: n.encoder("e", "rate", "v", width=4),
            "encoder 'e': 'v' values (unsigned 8-bit [0, 255]) do not fit the encoder's input "
            "(unsigned 4-bit [0, 15])",
        ),
        (
            lambda n: n.encoder("e", "rate", "v", widht=4),
            "encoder 'e': rate has no parameter 'widht'; its parameters are: width, "
            "stochastic, seed",
        ),
    ],
    ids=["not-temporal", "spike-source", "too-wide", "bad-param"],
)
def test_encoder_errors(call, msg):
    net = Network()
    net.input("v", 2, kind="value", width=8)
    net.input("s", 2)
    with pytest.raises(NetworkError, match=_exact(msg)):
        call(net)


def test_per_neuron_port_values(rng_seed):
    """A per-neuron constant (lif's noise port as a bias) equals the parallel model's input."""
    rng = np.random.default_rng(rng_seed)
    lif = ng.component("lif", noise=True)
    bias = rng.integers(-50, 120, size=5)
    net = Network()
    net.input("i", 5, kind="value", width=16, signed=True)
    net.population("p", lif, 5, port_values={"noise": bias})
    net.connect("i", "p", delay=0)
    net.probe("p", "v")
    cur = rng.integers(-100, 200, size=(60, 5))
    got = net.model().run({"i": cur})["p"]
    want = lif.model(5).run({"current": cur, "noise": np.tile(bias, (60, 1))})
    np.testing.assert_array_equal(got["v"], want["v"])
    assert net.populations["p"].port_values["noise"].flags.writeable is False


@pytest.mark.parametrize(
    ("values", "msg"),
    [
        (
            {"noise": [1, 2]},
            "population 'p': noise must be an int or 3 ints (one per neuron), "
            "not an array of shape (2,)",
        ),
        (
            {"noise": [1.5, 2, 3]},
            "population 'p': noise must be an int or 3 ints (one per "
            "neuron), not an array of shape (3,) and dtype float64",
        ),
        (
            {"noise": [0, 40000, 0]},
            "population 'p': noise[1]=40000 does not fit signed 16-bit [-32768, 32767]",
        ),
        (
            {"noise": 40000},
            "population 'p': noise=40000 does not fit signed 16-bit [-32768, 32767]",
        ),
    ],
    ids=["shape", "dtype", "range", "scalar-range"],
)
def test_port_value_errors(values, msg):  # fmt: skip
    with pytest.raises(NetworkError, match=_exact(msg)):
        Network().population("p", "lif", 3, port_values=values, noise=True)


def test_params_go_with_a_name_not_with_a_component():
    net = Network()
    net.input("x", 2)
    msg = "population 'p': give params with a neuron name, not with a component"
    with pytest.raises(NetworkError, match=_exact(msg)):
        net.population("p", ng.component("if_neuron"), 2, threshold=3)
    net.population("p", "if_neuron", 2)
    msg = "connection 'x' -> 'p': give params with a synapse name, not with a component"
    with pytest.raises(NetworkError, match=_exact(msg)):
        net.connect("x", "p", _Weights(n_in=2, n_out=2), scale=3)


def test_unconnected_input_port_is_an_error():
    net = Network("open")
    net.input("x", 2)
    net.population("p", "lif", 2, noise=True)
    net.connect("x", "p", _Weights(n_in=2, n_out=2))
    msg = (
        "open: input port 'noise' of population 'p' (lif) is not connected; connect it, or "
        "give port_values={'noise': 0} for a constant"
    )
    with pytest.raises(NetworkError, match=_exact(msg)):
        net.model()
    fixed = Network("closed")
    fixed.input("x", 2)
    fixed.population("p", "lif", 2, noise=True, port_values={"noise": 0})  # a constant
    fixed.connect("x", "p", _Weights(n_in=2, n_out=2))
    assert fixed.model().run({"x": [[1, 0]]})["p"]["spike"].shape == (1, 2)
