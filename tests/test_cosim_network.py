"""Whole networks under Verilator and Icarus via cocotb, against the NumPy model.

The network host (:mod:`neurogate.sim.network`) is one bench program on every backend, so the
generated Verilog of a network runs the same timesteps as in ``pysim``. The networks here cover
the gateware's modes: value inputs with delays and biases, dense and sparse layers, recurrence
and several ports ("merge" mode), SC encoders into ``sc_dense``, a 2 x 2 mesh of routers, and
the two example designs. All of them go into one generated top (``network.run_many``), so each
simulator compiles once; every spike and probed state value must equal the model's.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import neurogate as ng
from neurogate.core.network import Network
from neurogate.sim import network as netsim

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _three_layer(rng, steps=14):
    net = Network("three")
    net.input("x", 5)
    net.input("b", 4, kind="value", width=10, signed=True)
    net.population("a", "if_neuron", 4, threshold=int(rng.integers(20, 60)))
    net.population("h", "lif_shift", 6, threshold=int(rng.integers(30, 80)))
    net.population("o", "if_neuron", 3, threshold=int(rng.integers(30, 90)), reset="zero")
    net.connect("b", "a", delay=2)
    net.connect("x", "h", "dense", weights=rng.integers(0, 60, size=(5, 6)), acc_bits=7)
    net.connect("h", "o", "dense", weights=rng.integers(-10, 50, size=(6, 3)))
    net.probe("h", "v")
    net.probe("o", "v")
    inputs = {
        "x": (rng.random((steps, 5)) < 0.4).astype(np.uint8),
        "b": rng.integers(-10, 40, size=(steps, 4)),
    }
    return net, inputs


def _merge(rng, steps=16):
    net = Network("merge")
    net.input("x", 4)
    net.input("i", 3, kind="value", width=7, signed=True)
    net.input("j", 2, kind="value", width=5)
    net.population("a", "if_neuron", 3, threshold=40, data_width=9,
                   port_values={"current": rng.integers(-6, 6, 3)})  # fmt: skip
    net.population("b", "lif", 2, noise=True, v_threshold=300)
    net.connect("x", "a", "dense", weights=rng.integers(-8, 40, (4, 3)), delay=3)
    net.connect("i", "a", delay=1)
    net.connect("i", "a", delay=0)
    net.connect("a", "b", "dense", weights=rng.integers(0, 90, (3, 2)), delay=2)
    net.connect("b", "a", "dense", weights=rng.integers(-30, 10, (2, 3)), delay=1)
    net.connect("j", "b", port="noise", delay=1)
    net.connect("x", "b", "sparse", n_in=4, n_out=2, connections=[(0, 1, 40), (3, 0, 70)], delay=2)
    net.probe("a", "v")
    net.probe("b", "v")
    inputs = {
        "x": (rng.random((steps, 4)) < 0.5).astype(np.uint8),
        "i": rng.integers(-20, 40, (steps, 3)),
        "j": rng.integers(0, 31, (steps, 2)),
    }
    return net, inputs


def _stochastic(rng, steps=20):
    net = Network("scnet")
    net.input("px", 4, kind="value", width=8)
    net.encoder("bits", "lfsr", source="px", width=8)
    net.population("p", "if_neuron", 3, threshold=3)
    net.connect("bits", "p", "sc_dense", weights=rng.integers(-60, 127, (4, 3)), lfsr_width=8,
                delay=2)  # fmt: skip
    net.probe("p", "v")
    return net, {"px": rng.integers(0, 256, (steps, 4))}


def _mesh(rng, steps=12):
    net = Network("multi")
    net.input("x", 5)
    net.input("px", 3, kind="value", width=8)
    net.encoder("r", "rate", source="px")
    net.population("a", "if_neuron", 4, threshold=30)
    net.population("b", "lif_shift", 6, threshold=40)
    net.connect("x", "a", "dense", weights=rng.integers(0, 40, (5, 4)))
    net.connect("r", "b", "dense", weights=rng.integers(0, 40, (3, 6)))
    net.connect("a", "b", "dense", weights=rng.integers(0, 30, (4, 6)), delay=2)
    net.connect("b", "a", "dense", weights=rng.integers(-20, 10, (6, 4)))
    net.mesh(2, 2, place={"x": (0, 0), "r": (1, 0), "a": (1, 1), "b": (0, 1)})
    net.probe("b", "v")
    inputs = {
        "x": (rng.random((steps, 5)) < 0.5).astype(np.uint8),
        "px": rng.integers(0, 256, (steps, 3)),
    }
    return net, inputs


def _example(path: Path, rng, steps=10):
    net = ng.load_design(path)
    inputs = {}
    for key, node in net.inputs.items():
        if node.kind == "spike":
            inputs[key] = (rng.random((steps, node.size)) < 0.3).astype(np.uint8)
        else:
            fmt = node.port.format
            inputs[key] = rng.integers(max(fmt.min, -64), min(fmt.max, 64), (steps, node.size),
                                       endpoint=True)  # fmt: skip
    return net, inputs


def _late():
    """Known answer: a spike of step 0 through delay 3 reaches v at step 3, by hand."""
    net = Network("late")
    net.input("x", 1)
    net.population("p", "if_neuron", 1, threshold=100)
    net.connect("x", "p", "dense", weights=[[7]], delay=3)
    net.probe("p", "v")
    return net, {"x": [[1], [0], [1], [0], [0], [0]]}


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["verilator", "icarus"])
def test_networks_equal_the_model(backend, rng_seed, require_backend, quick_builds):
    require_backend(backend)
    rng = np.random.default_rng(rng_seed)
    jobs = [
        _three_layer(rng), _merge(rng), _stochastic(rng), _mesh(rng), _late(),
        _example(EXAMPLES / "feedforward.toml", rng),
        _example(EXAMPLES / "classifier" / "classifier.toml", rng),
    ]  # fmt: skip
    runs = netsim.run_many([(net, inputs, None) for net, inputs in jobs], backend,
                           seed=rng_seed)  # fmt: skip
    spikes = 0
    for (net, inputs), got in zip(jobs, runs, strict=True):
        want = net.model().run(inputs)
        for pop, rec in want.items():
            for key, arr in rec.items():
                diff = np.argwhere(arr != got[pop][key])
                assert not diff.size, (
                    f"{net.name}: model and {backend} differ first at timestep {diff[0][0]}, "
                    f"{pop}.{key}[{diff[0][1]}] (seed {rng_seed})"
                )
            spikes += int(rec["spike"].sum())
    assert runs[4]["p"]["v"][:, 0].tolist() == [0, 0, 0, 7, 7, 14]
    assert spikes > 50  # the networks did fire


@pytest.mark.slow
def test_sim_run_and_compare_take_cosim_backends(rng_seed, require_backend):
    """``ng.sim.run(net, backend="icarus")`` and ``compare(..., backends=...)``."""
    require_backend("icarus")
    net, inputs = _late()
    got = ng.sim.run(net, inputs, backend="icarus")
    assert got["p"]["v"][:, 0].tolist() == [0, 0, 0, 7, 7, 14]
    net, inputs = _three_layer(np.random.default_rng(rng_seed), steps=6)
    netsim.compare(net, inputs, backends=("model", "pysim", "icarus"), seed=rng_seed)


@pytest.mark.slow
def test_cli_verify_design_on_icarus(capsys, require_backend):
    from neurogate.cli import main

    require_backend("icarus")
    design = str(EXAMPLES / "feedforward.toml")
    argv = ["verify", design, "--backends", "model,pysim,icarus", "--steps", "8", "--seed", "2"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "model == pysim == icarus on every spike and probed state, 8 timesteps, seed=2" in out


def test_cli_verify_design_mismatch_writes_waves(tmp_path, monkeypatch, capsys):
    """A planted fault in the model: the first differing timestep, and pysim's waveform."""
    from neurogate.cli import main
    from neurogate.core.network import NetworkModel

    honest = NetworkModel.run

    def planted(self, inputs, steps=None, **kwargs):
        out = honest(self, inputs, steps, **kwargs)
        out["hidden"]["spike"][3, 1] ^= True
        return out

    monkeypatch.setattr(NetworkModel, "run", planted)
    design = str(EXAMPLES / "feedforward.toml")
    argv = ["verify", design, "--steps", "20", "--seed", "5", "--vcd", str(tmp_path)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert re.search(
        r"^MISMATCH: ff: model and pysim differ first at timestep 3, hidden\.spike\[1\]: "
        r"model=\d, pysim=\d \(seed=5\)$", err, re.MULTILINE
    )  # fmt: skip
    vcd = tmp_path / "feedforward-pysim-seed5.vcd"
    assert f"waves: {vcd} (timesteps 0..11)" in err
    assert "$enddefinitions" in vcd.read_text()
