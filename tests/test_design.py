"""TOML design files: loading, and errors that name the file, the line and the place."""

from __future__ import annotations

import re

import numpy as np
import pytest

from neurogate.core.design import DesignError, load, loads

GOOD = """\
[network]
name = "demo"

[inputs.drive]
size = 3
kind = "value"
width = 12
signed = true

[populations.a]
neuron = "lif_shift"
size = 3
params = { threshold = 100 }
probe = ["v"]

[populations.b]
neuron = "if_neuron"
size = 3
params = { threshold = 50 }

[[connections]]
from = "drive"
to = "a"
delay = 0

[[connections]]
from = "drive"
to = "b"
"""


def test_good_design_matches_python_builder(rng_seed):
    from neurogate.core.network import Network

    net = loads(GOOD)
    py = Network("demo")
    py.input("drive", 3, kind="value", width=12, signed=True)
    py.population("a", "lif_shift", 3, threshold=100)
    py.population("b", "if_neuron", 3, threshold=50)
    py.connect("drive", "a", delay=0)
    py.connect("drive", "b")
    py.probe("a", "v")
    rng = np.random.default_rng(rng_seed)
    x = rng.integers(-200, 400, size=(50, 3))
    got, want = net.model().run({"drive": x}), py.model().run({"drive": x})
    assert net.name == "demo"
    for pop in ("a", "b"):
        for key in want[pop]:
            np.testing.assert_array_equal(got[pop][key], want[pop][key])
    assert set(got["a"]) == {"spike", "v"}


def _err(text, msg, name="<design>"):
    with pytest.raises(DesignError, match="^" + re.escape(msg) + "$"):
        loads(text, name=name)


def test_unknown_component_is_placed_on_its_table():
    _err(
        GOOD.replace('neuron = "if_neuron"', 'neuron = "if_nueron"'),
        "<design>:17: populations.b: population 'b': no component named 'if_nueron'; known "
        "components: " + ", ".join(__import__("neurogate").components()),
    )


@pytest.mark.parametrize(
    ("old", "new", "msg"),
    [
        (
            "size = 3\nparams = { threshold = 100 }",
            "sise = 3\nparams = { threshold = 100 }",
            "<design>:12: populations.a: unknown key 'sise' (did you mean 'size'?); valid keys: "
            "neuron, size, params, port_values, probe",
        ),
        (
            '[populations.a]\nneuron = "lif_shift"\nsize = 3',
            '[populations.a]\nneuron = "lif_shift"',
            "<design>:10: populations.a: missing required key 'size'",
        ),
        ("width = 12", 'width = "12"', "<design>:7: inputs.drive: width must be an int, not '12'"),
        (
            "signed = true",
            "signed = 1",
            "<design>:8: inputs.drive: signed must be true or false, not 1",
        ),
        (
            "delay = 0",
            "delay = -2",
            "<design>:24: connections[0]: connection 'drive' -> 'a' delay must be an int 0..65536, "
            "not -2",
        ),
        (
            'to = "b"',
            'to = "c"',
            "<design>:28: connections[1]: connection 'drive' -> 'c': the target "
            "'c' is unknown; targets are populations",
        ),
        (
            'probe = ["v"]',
            'probe = ["u"]',
            "<design>:14: populations.a: probe 'a': lif_shift has no state 'u'; its state is: v",
        ),
        (
            "threshold = 100",
            "threshold = 100, leak_shift = -1",
            "<design>:13: populations.a: population 'a': lif_shift.leak_shift must be an int in "
            "0..31, not -1",
        ),
        (
            "threshold = 100",
            "thresold = 100",
            "<design>:13: populations.a: population 'a': lif_shift has no parameter 'thresold'; "
            "its parameters are: data_width, leak_shift, threshold, v_reset, refractory, overflow",
        ),
        (
            "[network]",
            "[netwrk]",
            "<design>:1: unknown table 'netwrk' (did you mean 'network'?); valid tables: network, "
            "inputs, encoders, populations, connections, mesh",
        ),
        (
            "size = 3\nkind",
            "size = 3 3\nkind",
            "<design>:5: invalid TOML: Expected newline or end of document after a statement",
        ),
    ],
    ids=lambda x: x[:30] if isinstance(x, str) else "",
)
def test_errors_name_the_line(old, new, msg):  # fmt: skip
    assert old in GOOD
    _err(GOOD.replace(old, new, 1), msg)


def test_spike_source_without_synapse():
    text = GOOD.replace('from = "drive"\nto = "b"', 'from = "a"\nto = "b"')
    _err(
        text,
        "<design>:26: connections[1]: connection 'a' -> 'b': a spike source needs a synapse "
        "(e.g. synapse='dense') to drive the 16-bit port 'current'",
    )


def test_unconnected_input_and_missing_file(tmp_path):
    text = GOOD + "\n[inputs.spare]\nsize = 2\n"
    _err(text, "<design>:1: network: demo: input 'spare' is not connected to anything")
    with pytest.raises(DesignError, match=re.escape(f"{tmp_path / 'nope.toml'}: cannot read")):
        load(tmp_path / "nope.toml")


def test_npy_params_resolve_relative_to_the_file(tmp_path):
    np.save(tmp_path / "th.npy", np.array(7))
    text = GOOD.replace("params = { threshold = 50 }", 'params = { threshold = "missing.npy" }')
    path = tmp_path / "d.toml"
    path.write_text(text)
    with pytest.raises(DesignError, match=r"^.*d\.toml:19: populations\.b: params\.threshold: "
                       r"cannot load .*missing\.npy"):  # fmt: skip
        load(path)


def test_dump_round_trip(tmp_path, rng_seed):
    net = loads(GOOD)
    net.population("c", "lif", 3, leak_k=20, overflow="wrap")
    net.connect("drive", "c", delay=2)
    rng = np.random.default_rng(rng_seed)
    if "dense" in __import__("neurogate").components():
        weights = rng.integers(-50, 50, size=(3, 3))
        net.connect("a", "c", "dense", weights=weights, acc_bits=12)
    path = tmp_path / "sub" / "copy.toml"
    path.parent.mkdir()
    from neurogate.core.design import dump

    dump(net, path)
    again = load(path)
    x = rng.integers(-200, 400, size=(60, 3))
    got, want = again.model().run({"drive": x}), net.model().run({"drive": x})
    assert again.name == net.name
    assert list(again.populations) == list(net.populations)
    for pop in want:
        for key in want[pop]:
            np.testing.assert_array_equal(got[pop][key], want[pop][key])
    if len(net.connections) > 3:  # the dense layer's weights went to a .npy file beside it
        np.testing.assert_array_equal(
            np.load(path.parent / "copy_connections_3_weights.npy"), weights
        )


def test_encoders_table_and_round_trip(tmp_path, rng_seed):
    text = GOOD + '\n[encoders.r]\nencoder = "rate"\nsource = "drive"\nparams = { width = 12 }\n'
    _err(
        text.replace("width = 12 }", "width = 12, stochastic = 1 }"),
        "<design>:33: encoders.r: encoder 'r': rate.stochastic must be a bool, not 1",
    )
    _err(text.replace('encoder = "rate"', 'encoder = "delta"'),
         "<design>:31: encoders.r: encoder 'r': 'delta' is not a temporal or SC encoder (one "
         "input port and a 1-bit 'spike' output: burst, latency, phase, rate, sigma_delta; or a "
         "1-bit 'bit' output: bernoulli, halton, lfsr, sobol, vdc)")  # fmt: skip
    _err(
        text,
        "<design>:30: encoders.r: encoder 'r': 'drive' values (signed 12-bit [-2048, 2047]) do "
        "not fit the encoder's input (unsigned 12-bit [0, 4095])",
    )
    text = text.replace("signed = true", "signed = false")
    _err(text, "<design>:1: network: demo: encoder 'r' is not connected to anything")
    text += '\n[[connections]]\nfrom = "r"\nto = "b"\nsynapse = "dense"\n'
    text += "params = { weights = [[5, 0, 0], [0, 5, 0], [0, 0, 5]] }\n"
    text = text.replace('[[connections]]\nfrom = "drive"\nto = "b"\n', "")
    net = loads(text)
    from neurogate.core.design import dump

    dump(net, tmp_path / "d.toml")
    again = load(tmp_path / "d.toml")
    x = np.random.default_rng(rng_seed).integers(0, 2000, size=(40, 3))
    want, got = net.model().run({"drive": x}), again.model().run({"drive": x})
    assert want["b"]["spike"].any()
    for pop in want:
        for key in want[pop]:
            np.testing.assert_array_equal(got[pop][key], want[pop][key])
