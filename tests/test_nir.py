"""NIR import (``ng.nir``): node mappings against hand-computed spike trains, the float
reference against snnTorch's own run of the graphs it exported, quantised network against
reference, gateware against model, design-file round trip, the CLI, and every error text.

The snnTorch graphs and vectors in tests/data/ come from benchmarks/make_nir_testdata.py (run
in a side venv with torch); these tests need only the ``nir`` package.
"""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path

import nir
import numpy as np
import pytest

import neurogate as ng
from neurogate.cli import main
from neurogate.core.design import dumps, loads
from neurogate.core.nir import NIRImportError

DATA = Path(__file__).resolve().parent / "data"
DT = 1e-4


def _exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


def arr(*values) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def lif(n=1, tau_steps=2.0, thr=1.2, v_leak=0.0, v_reset=0.0, gain=1.0):
    """A LIF whose input enters ``gain``-fold per step (``dt / tau * r = gain``)."""
    tau = tau_steps * DT
    return nir.LIF(
        tau=np.full(n, tau),
        r=np.full(n, gain * tau_steps),
        v_leak=np.full(n, v_leak),
        v_threshold=np.full(n, thr),
        v_reset=np.full(n, v_reset),
    )


def spikes(*rows) -> np.ndarray:
    return np.array(rows, dtype=np.uint8)


def load(graph, **kwargs):
    kwargs.setdefault("weight_scale", 0.25)  # every weight below is a multiple: exact
    return ng.nir.load(graph, **kwargs)


def check_exact(imported, x) -> dict:
    """Run network and reference; they must agree exactly (weights and levels exact)."""
    net, ref = imported.run(x), imported.reference(x)
    for key in net:
        np.testing.assert_array_equal(net[key], ref[key])
    return net


# -- the optional dependency ----------------------------------------------------------------------
def test_importing_neurogate_does_not_import_nir():
    code = "import sys, neurogate; print('nir' in sys.modules, neurogate.nir.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "neurogate.core.nir"]


def test_load_without_nir_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "nir", None)  # `import nir` raises ImportError
    with pytest.raises(
        ImportError,
        match=_exact("neurogate.nir needs the 'nir' package: pip install 'neurogate[nir]'"),
    ):
        ng.nir.load(DATA / "snntorch_leaky.nir")


# -- node mappings, known answers -----------------------------------------------------------------
def test_if_known_answer():
    graph = nir.NIRGraph.from_list(
        nir.Linear(weight=np.array([[1.0, 0.5]])),
        nir.IF(r=arr(1 / DT), v_threshold=arr(1.5), v_reset=arr(0.0)),  # v += dt r x = x
    )
    x = spikes([1, 0], [0, 1], [0, 1], [1, 0], [1, 1], [0, 0])
    # v: 1, 1.5 (not > 1.5), 2 (fires, 0), 1, 2.5 (fires), 0
    imp = load(graph, delay=0)
    assert check_exact(imp, x)["output"].astype(int).tolist() == [[0], [0], [1], [0], [1], [0]]
    neuron = imp.network.populations["if"].neuron
    assert (neuron.name, neuron.threshold, neuron.reset) == ("if_neuron", 7, "zero")  # 1.5 / .25
    conn = imp.network.connections[0]
    assert conn.synapse.weight_matrix().tolist() == [[4], [2]]
    assert (conn.delay, imp.report["if"].threshold_raw) == (0, 7)
    # delay=1: every spike arrives one step later
    imp = load(graph)
    assert check_exact(imp, x)["output"].astype(int).tolist() == [[0], [0], [0], [1], [0], [1]]
    assert imp.network.connections[0].delay == 1


def test_lif_known_answer():
    graph = nir.NIRGraph.from_list(nir.Linear(weight=np.array([[1.0]])), lif(thr=1.2))
    # v = v / 2 + x: 1, 1.5 (fires, 0), 0, 1, 1.5 (fires), 1, 0.5, 0.25
    x = spikes([1], [1], [0], [1], [1], [1], [0], [0])
    imp = load(graph, delay=0)
    assert check_exact(imp, x)["output"][:, 0].astype(int).tolist() == [0, 1, 0, 0, 1, 0, 0, 0]
    p = imp.report["lif"].params
    assert imp.network.populations["lif"].neuron.name == "lif"
    assert p["leak_k"] == 1 << (p["fraction"] - 1)  # dt / tau = 1/2, exact
    assert p["gain_k"] == 1 << (p["fraction"] + 4)  # 4 guard bits: 16-bit state, (16 - 2) // 3
    assert p["v_threshold"] == int(1.2 / 0.25 * 16) + 1


def test_lif_rest_and_reset_levels():
    graph = nir.NIRGraph.from_list(
        nir.Linear(weight=np.array([[1.0]])), lif(thr=1.2, v_leak=0.5, v_reset=0.25)
    )
    # starts at v_leak = 0.5; v = v / 2 + 0.25 + x: 0.5, 1.5 (fires, 0.25), 0.375, 0.4375
    imp = load(graph, delay=0)
    out = check_exact(imp, spikes([0], [1], [0], [0]))
    assert out["output"][:, 0].astype(int).tolist() == [0, 1, 0, 0]
    p = imp.report["lif"].params
    assert (p["v_rest"], p["v_reset"]) == (0.5 / 0.25 * 16, 0.25 / 0.25 * 16)


def test_li_and_integrator_outputs_are_potentials():
    li = nir.LI(tau=arr(2 * DT), r=arr(2.0), v_leak=arr(0.0))
    graph = nir.NIRGraph.from_list(nir.Linear(weight=np.array([[1.0]])), li)
    imp = load(graph, delay=0)
    assert imp.outputs == {"output": ("li", "v")}
    out = check_exact(imp, spikes([1], [0], [0], [1]))
    assert out["output"][:, 0].tolist() == [1.0, 0.5, 0.25, 1.125]
    assert imp.network.populations["li"].neuron.name == "li"
    graph = nir.NIRGraph.from_list(nir.Linear(weight=np.array([[1.0]])), nir.I(r=arr(1 / DT)))
    imp = load(graph, delay=0)
    out = check_exact(imp, spikes([1], [0], [1], [1]))
    assert out["output"][:, 0].tolist() == [1.0, 1.0, 2.0, 3.0]
    assert imp.report["i"].params["leak_k"] == 0


def test_threshold_fused_into_a_leaky_integrator():
    li = nir.LI(tau=arr(2 * DT), r=arr(2.0), v_leak=arr(0.0))
    graph = nir.NIRGraph.from_list(
        nir.Linear(weight=np.array([[1.0]])), li, nir.Threshold(threshold=arr(0.9))
    )
    imp = load(graph, delay=0)
    assert list(imp.network.populations) == ["li"]  # one population: LI + Threshold
    assert imp.report["li"].nir_node == "li+threshold"
    # v: 1, 0.5, 1.25, 1.625 -> above 0.9: 1, 0, 1, 1 (no reset)
    out = check_exact(imp, spikes([1], [0], [1], [1]))
    assert out["output"][:, 0].astype(int).tolist() == [1, 0, 1, 1]


def test_threshold_after_weights_is_a_comparator():
    graph = nir.NIRGraph.from_list(
        nir.Affine(weight=np.array([[1.0, -1.0]]), bias=arr(0.25)),
        nir.Threshold(threshold=arr(0.5)),
    )
    x = spikes([1, 0], [0, 1], [1, 1], [0, 0])
    imp = load(graph, delay=0)  # x = 1.25, -0.75, 0.25, 0.25
    assert check_exact(imp, x)["output"][:, 0].astype(int).tolist() == [1, 0, 0, 0]
    neuron = imp.network.populations["threshold"].neuron
    assert (neuron.name, neuron.leak_k, neuron.fraction) == ("li", 1, 0)  # memoryless
    # the bias: a per-neuron constant added to the drive (0.25 = 1 LSB)
    assert imp.network.populations["threshold"].port_values["current"].tolist() == [1]
    imp = load(graph)  # delay 1: the bias is there from step 0, the spikes one step later
    assert check_exact(imp, x)["output"][:, 0].astype(int).tolist() == [0, 1, 0, 0]


def test_linear_readout_output():
    graph = nir.NIRGraph.from_list(
        nir.Affine(weight=np.array([[0.5, 0.25], [1.0, -1.0]]), bias=arr(0.25, 0.0))
    )
    imp = load(graph, delay=0)
    assert imp.outputs == {"output": ("output", "v")}
    out = check_exact(imp, spikes([1, 1], [0, 1], [1, 0]))
    assert out["output"].tolist() == [[1.0, 0.0], [0.5, -1.0], [0.75, 1.0]]


def test_scale_linear_and_affine_chains_are_folded():
    graph = nir.NIRGraph.from_list(
        nir.Scale(scale=arr(2.0, 0.5)),
        nir.Linear(weight=np.array([[1.0, 1.0], [0.5, -1.0]])),
        nir.Affine(weight=np.array([[1.0, 0.5]]), bias=arr(0.5)),
        nir.IF(r=arr(1 / DT), v_threshold=arr(2.0), v_reset=arr(0.0)),
    )
    imp = load(graph, delay=0)
    # W = [1, .5] @ [[1, 1], [.5, -1]] @ diag(2, .5) = [2.5, 0.25]
    weights = [c.synapse.weight_matrix()[:, 0].tolist() for c in imp.network.connections]
    assert weights == [[10, 1]]  # input -> if
    assert imp.network.populations["if"].port_values["current"].tolist() == [2]  # bias 0.5
    x = spikes([1, 0], [0, 0], [0, 1], [0, 1], [1, 1])
    # v = v + x + 0.5: 3 (fires, 0), 0.5, 1.25, 2 (not > 2), 5.25 (fires)
    assert check_exact(imp, x)["output"][:, 0].astype(int).tolist() == [1, 0, 0, 0, 1]


def test_two_inputs_and_a_recurrent_layer():
    nodes = {
        "a": nir.Input(input_type=np.array([1])),
        "b": nir.Input(input_type=np.array([1])),
        "wa": nir.Linear(weight=np.array([[1.0]])),
        "wb": nir.Linear(weight=np.array([[0.5]])),
        "n": nir.IF(r=arr(1 / DT), v_threshold=arr(1.0), v_reset=arr(0.0)),
        "rec": nir.Linear(weight=np.array([[0.75]])),
        "out": nir.Output(output_type=np.array([1])),
    }
    edges = [("a", "wa"), ("b", "wb"), ("wa", "n"), ("wb", "n"), ("n", "rec"), ("rec", "n")]
    graph = nir.NIRGraph(nodes=nodes, edges=[*edges, ("n", "out")])
    imp = load(graph, delay=0)
    delays = {(c.source, c.target): c.delay for c in imp.network.connections}
    assert delays == {("a", "n"): 0, ("b", "n"): 0, ("n", "n"): 1}  # the cycle gets 1
    x = {"a": spikes([1], [0], [0], [0], [0]), "b": spikes([0], [1], [1], [1], [0])}
    # v: 1 (not > 1), 1.5 (fires, 0), 0.75 + 0.5 = 1.25 (fires), 1.25 (fires), 0.75
    out = check_exact(imp, x)
    assert out["out"][:, 0].astype(int).tolist() == [0, 1, 1, 1, 0]


def cuba(v_leak=0.0, v_reset=0.0, tau_syn=2.5 * DT, tau_mem=1e-3):
    """A CubaLIF as snnTorch writes its Synaptic: input and current enter 1:1 per step."""
    return nir.CubaLIF(
        tau_syn=arr(tau_syn),
        tau_mem=arr(tau_mem),
        r=arr(tau_mem / DT),
        v_leak=arr(v_leak),
        v_threshold=arr(1.0),
        v_reset=arr(v_reset),
        w_in=arr(tau_syn / DT),
    )


def test_cuba_lif_parameters():
    graph = nir.NIRGraph.from_list(nir.Linear(weight=np.array([[0.9, -0.3]])), cuba())
    imp = ng.nir.load(graph)
    neuron = imp.network.populations["cubalif"].neuron
    # (du + 1) / 4096 = dt / tau_syn = 0.4; dv / 4096 = 0.1; q = thr / floor(127 / 0.9)
    assert (neuron.du, neuron.dv, neuron.vth, neuron.bias) == (1637, 410, 141, 0)
    assert imp.network.connections[0].synapse.weight_matrix()[:, 0].tolist() == [127, -42]
    layer = imp.report["cubalif"]
    assert layer.scale == pytest.approx(1 / 141)
    assert layer.fires_at == pytest.approx(1.0 + layer.v_scale)  # v > vth << 6: exact
    graph = nir.NIRGraph.from_list(nir.Linear(weight=np.array([[0.9, -0.3]])), cuba(v_leak=0.5))
    neuron = ng.nir.load(graph).network.populations["cubalif"].neuron
    # dt / tau_mem * v_leak = 0.05 in potential steps of 1 / 141 / 64: 451.2
    assert (neuron.bias_mant, neuron.bias_exp) == (451, 0)


# -- against snnTorch -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["leaky", "synaptic", "rleaky"])
def test_reference_reproduces_snntorch(name):
    """With delay=0 (snnTorch's timing) the float reference spikes exactly as snnTorch did."""
    vec = np.load(DATA / "snntorch_vectors.npz")
    imp = ng.nir.load(DATA / f"snntorch_{name}.nir", delay=0)
    x = vec[f"{name}_input"]
    cmp = imp.compare(x)
    net, ref = cmp.net, cmp.ref
    hidden, out = list(imp.populations)  # NIR nodes "1" and "3"
    np.testing.assert_array_equal(ref[hidden], vec[f"{name}_hidden"])
    np.testing.assert_array_equal(ref[out], vec[f"{name}_output"])
    np.testing.assert_array_equal(imp.reference(x)["output"], vec[f"{name}_output"].astype(bool))
    assert vec[f"{name}_hidden"].sum() > 100
    assert vec[f"{name}_output"].sum() > 100
    assert set(net) == {imp.populations[hidden], "n3"}


@pytest.mark.parametrize("name", ["leaky", "synaptic", "rleaky"])
@pytest.mark.parametrize("delay", [0, 1])
def test_quantised_network_agrees_with_reference(name, delay):
    vec = np.load(DATA / "snntorch_vectors.npz")
    imp = ng.nir.load(DATA / f"snntorch_{name}.nir", delay=delay)
    cmp = imp.compare(vec[f"{name}_input"])
    print(imp.report, cmp, sep="\n")
    kernel = {"leaky": "lif", "synaptic": "cuba_lif", "rleaky": "lif"}[name]
    assert [layer.kernel for layer in imp.report.layers] == [kernel, kernel]
    assert all(layer.clipped == 0 for layer in imp.report.layers)
    for layer in cmp.layers:
        assert layer.agreement >= 0.99
        assert abs(layer.net_spikes - layer.ref_spikes) <= 0.02 * layer.ref_spikes


@pytest.mark.parametrize("case", range(6))
def test_random_networks_agree_closely(rng, case):
    """Random two-layer LIF networks: 16-bit weights and 32-bit state agree almost exactly."""
    n_in, n_hid, n_out = (int(v) for v in rng.integers(2, 9, size=3))
    tau = rng.uniform(1.5, 20.0)
    graph = nir.NIRGraph.from_list(
        nir.Affine(weight=rng.normal(0.3, 0.5, (n_hid, n_in)), bias=rng.normal(0, 0.1, n_hid)),
        lif(n_hid, tau, thr=rng.uniform(0.5, 2.0), v_leak=rng.uniform(-0.2, 0.2)),
        nir.Linear(weight=rng.normal(0.4, 0.6, (n_out, n_hid))),
        lif(n_out, rng.uniform(1.5, 20.0), thr=rng.uniform(0.5, 2.0), v_reset=-0.1),
    )
    x = (rng.random((3, 60, n_in)) < 0.5).astype(np.uint8)
    fine = ng.nir.load(graph, weight_bits=16, state_format=32, delay=int(case % 2)).compare(x)
    coarse = ng.nir.load(graph, weight_bits=5, delay=int(case % 2)).compare(x)
    print(fine, coarse, sep="\n")
    for a, b in zip(fine.layers, coarse.layers, strict=True):
        assert a.agreement >= 0.995
        assert b.agreement >= 0.75


def test_snntorch_recurrent_layer():
    """snnTorch's RLeaky arrives as nodes '1.lif' and '1.w_rec' in a cycle."""
    imp = ng.nir.load(DATA / "snntorch_rleaky.nir", delay=0)
    assert imp.populations == {"1.lif": "n1_lif", "3": "n3"}
    delays = {(c.source, c.target): c.delay for c in imp.network.connections}
    assert delays == {
        ("n1_lif", "n1_lif"): 1,  # the recurrent weights: the previous step's spikes
        ("input", "n1_lif"): 0,
        ("n1_lif", "n3"): 0,
    }
    assert all(np.any(p.port_values["current"]) for p in imp.network.populations.values())


# -- gateware and design files --------------------------------------------------------------------
def test_imported_network_runs_bit_exact_as_gateware(rng_seed):
    from neurogate.sim.network import compare

    vec = np.load(DATA / "snntorch_vectors.npz")
    imp = ng.nir.load(DATA / "snntorch_synaptic.nir")
    x = vec["synaptic_input"][0, :12]
    out = compare(imp.network, {"input": x}, seed=rng_seed)
    assert out["n1"]["spike"].any()
    imp = ng.nir.load(DATA / "snntorch_leaky.nir")  # with biases (per-neuron port values)
    assert np.any(imp.network.populations["n1"].port_values["current"])
    out = compare(imp.network, {"input": vec["leaky_input"][0, :12]}, seed=rng_seed)
    assert out["n1"]["spike"].any()


def test_design_file_round_trip(tmp_path):
    imp = ng.nir.load(DATA / "snntorch_leaky.nir")
    text, arrays = dumps(imp.network)
    for file, a in arrays.items():
        np.save(tmp_path / file, a)
    again = loads(text, base=tmp_path)
    x = np.load(DATA / "snntorch_vectors.npz")["leaky_input"][0]
    want = imp.network.model().run({"input": x})
    got = again.model().run({"input": x})
    for pop in want:
        np.testing.assert_array_equal(want[pop]["spike"], got[pop]["spike"])
    assert "port_values = { current = " in text  # the biases
    assert 'neuron = "lif"' in text


# -- the command line -----------------------------------------------------------------------------
def test_cli_import(tmp_path, capsys):
    out_file = tmp_path / "leaky.toml"
    args = ["import", str(DATA / "snntorch_leaky.nir"), "-o", str(out_file), "--compare", "40"]
    assert main([*args, "--weight-bits", "6", "--state-bits", "20"]) == 0
    text = capsys.readouterr().out
    assert "NIR import: 2 populations, dt = 0.0001 s, 6-bit weights, delay 1" in text
    assert "n1 (NIR '1', LIF) -> lif x 5" in text
    assert f"wrote {out_file} (Network('snntorch_leaky': 1 inputs, 2 populations" in text
    assert "quantised network vs float64 reference: 1 sample(s) x 40 steps" in text
    net = ng.load_design(out_file)
    assert net.populations["n1"].neuron.data_width == 20
    assert net.connections[0].synapse.weight_bits == 6


def test_cli_import_errors(tmp_path, capsys):
    assert main(["import", str(tmp_path / "missing.nir"), "-o", str(tmp_path / "x.toml")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"neurogate: error: {tmp_path / 'missing.nir'}: no such file"
    big_bias = nir.NIRGraph.from_list(
        nir.Affine(weight=np.array([[1e-4]]), bias=arr(10.0)), lif(thr=1e-3)
    )
    nir.write(tmp_path / "bias.nir", big_bias)
    argv = ["import", str(tmp_path / "bias.nir"), "-o", str(tmp_path / "x.toml"), "--strict"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "neurogate: error: NIR node 'lif' (LIF): bias: 1 value(s) do not fit 16-bit signed "
        "weights (the first: 10 = 12700000 LSB of 7.87402e-07, at (i, j) = (0, 0))"
    )


# -- errors ---------------------------------------------------------------------------------------
def _graph(*nodes, edges=None, type_check=True):
    if edges is None:
        return nir.NIRGraph.from_list(*nodes, type_check=type_check)
    return nir.NIRGraph(nodes=nodes[0], edges=edges, type_check=type_check)


def test_unsupported_nodes_are_named():
    supported = "Input, Output, Affine, Linear, Scale, IF, LIF, CubaLIF, LI, Integrator, Threshold"
    cases = {
        "Delay": nir.Delay(delay=arr(1.0)),
        "CubaLI": nir.CubaLI(tau_syn=arr(1.0), tau_mem=arr(1.0), r=arr(1.0), v_leak=arr(0.0)),
        "Flatten": nir.Flatten(input_type={"input": np.array([1])}, start_dim=0, end_dim=-1),
    }
    for kind, node in cases.items():
        graph = _graph(nir.Linear(weight=np.ones((1, 1))), node, type_check=False)
        name = kind.lower()
        with pytest.raises(
            NIRImportError,
            match=_exact(
                f"NIR node {name!r} ({kind}) cannot be mapped to neurogate; the importer maps "
                f"{supported}"
            ),
        ):
            ng.nir.load(graph)
    inner = _graph(nir.Linear(weight=np.ones((1, 1))), lif())
    with pytest.raises(NIRImportError, match=r"^NIR node 'nirgraph' \(NIRGraph\) cannot be mapped"):
        ng.nir.load(_graph(nir.Linear(weight=np.ones((1, 1))), inner, type_check=False))
    with pytest.raises(
        NIRImportError, match=_exact("expected a nir.NIRGraph or a .nir file, not LIF")
    ):
        ng.nir.load(lif())


def test_shape_mismatch():
    nodes = {
        "x": nir.Input(input_type=np.array([3])),
        "w": nir.Linear(weight=np.ones((2, 4))),
        "n": lif(2),
    }
    graph = _graph(nodes, edges=[("x", "w"), ("w", "n")], type_check=False)
    with pytest.raises(
        NIRImportError,
        match=_exact(
            "NIR edge 'x' -> 'w': shape mismatch: NIR node 'x' (Input) gives 3 values, "
            "NIR node 'w' (Linear) takes 4"
        ),
    ):
        ng.nir.load(graph)
    nodes["w"] = nir.Linear(weight=np.ones((3, 3)))
    graph = _graph(nodes, edges=[("x", "w"), ("w", "n")], type_check=False)
    with pytest.raises(
        NIRImportError,
        match=_exact(
            "NIR edge 'w' -> 'n': shape mismatch: NIR node 'w' (Linear) gives 3 values, "
            "NIR node 'n' (LIF) takes 2"
        ),
    ):
        ng.nir.load(graph)
    bad = nir.IF(r=np.ones(2), v_threshold=np.ones(2), v_reset=np.zeros(2))
    bad.r = np.ones(3)  # (nir's constructor would refuse)
    graph = _graph({"x": nodes["x"], "n": bad}, edges=[("x", "n")], type_check=False)
    with pytest.raises(
        NIRImportError,
        match=_exact("NIR node 'n' (IF): shape mismatch: its parameters have sizes [2, 3]"),
    ):
        ng.nir.load(graph)
    with pytest.raises(
        NIRImportError,
        match=_exact(
            "NIR node 'linear' (Linear): weight must be a 2-D matrix, not shape (2, 2, 2)"
        ),
    ):
        ng.nir.load(_graph(nir.Linear(weight=np.ones((2, 2, 2))), lif(2), type_check=False))


def test_parameters_must_be_shared_by_a_population():
    node = lif(3)
    node.tau = arr(1e-3, 1e-3, 2e-3)
    graph = _graph(nir.Linear(weight=np.ones((3, 2))), node)
    with pytest.raises(
        NIRImportError,
        match=_exact(
            "NIR node 'lif' (LIF): tau differs between neurons (0.001 .. 0.002); a population "
            "shares one value"
        ),
    ):
        ng.nir.load(graph)
    node = lif(3)
    node.r = arr(1.0, 2.0, 3.0)  # r may differ: folded into the weights
    ng.nir.load(_graph(nir.Linear(weight=np.ones((3, 2))), node))


def test_weights_that_do_not_fit_are_clipped_or_refused():
    graph = _graph(nir.Linear(weight=np.array([[1.0, 40.0, -50.0]])), lif())
    message = (
        "NIR node 'lif' (LIF): weights from 'input': 2 value(s) do not fit 8-bit signed weights "
        "(the first: 40 = 160 LSB of 0.25, at (i, j) = (1, 0))"
    )
    with pytest.warns(UserWarning, match=_exact(message + "; clipped")):
        imp = ng.nir.load(graph, weight_scale=0.25)
    assert imp.network.connections[0].synapse.weight_matrix()[:, 0].tolist() == [4, 127, -128]
    assert imp.report["lif"].clipped == 2
    assert "2 clipped" in str(imp.report)
    with pytest.raises(NIRImportError, match=_exact(message)):
        ng.nir.load(graph, weight_scale={"lif": 0.25}, strict=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ng.nir.load(graph)  # the default scale fits every weight


def test_potentials_are_not_routed():
    li = nir.LI(tau=arr(2e-4), r=arr(2.0), v_leak=arr(0.0))
    graph = _graph(
        nir.Linear(weight=np.ones((1, 1))), li, nir.Linear(weight=np.ones((1, 1))), lif()
    )
    with pytest.raises(
        NIRImportError,
        match=_exact(
            "NIR node 'li' (LI) feeds NIR node 'linear_1' (Linear): its output is a potential, "
            "and neurogate routes only spikes between populations (an LI or Integrator may feed "
            "Output nodes and one Threshold)"
        ),
    ):
        ng.nir.load(graph)


def test_graph_structure_errors():
    x = nir.Input(input_type=np.array([1]))
    w1, w2 = nir.Linear(weight=np.ones((1, 1))), nir.Linear(weight=np.ones((1, 1)))
    graph = _graph(
        {"x": x, "a": w1, "b": w2, "n": lif()},
        edges=[("x", "a"), ("a", "b"), ("b", "a"), ("b", "n")],
        type_check=False,
    )
    with pytest.raises(
        NIRImportError, match=_exact("a cycle of NIR nodes without a spiking neuron: b -> a -> b")
    ):
        ng.nir.load(graph)
    graph = _graph({"a": w1, "n": lif()}, edges=[("a", "n")], type_check=False)
    with pytest.raises(NIRImportError, match=_exact("the NIR graph has no Input node")):
        ng.nir.load(graph)
    graph = _graph({"x": x, "o": nir.Output(output_type=np.array([1]))}, edges=[("x", "o")])
    with pytest.raises(
        NIRImportError,
        match=_exact("NIR node 'o' (Output) reads Input 'x' directly: there is nothing to compute"),
    ):
        ng.nir.load(graph)
    graph = _graph({"x": x, "a": w1, "n": lif()}, edges=[("x", "a"), ("a", "m")], type_check=False)
    with pytest.raises(NIRImportError, match=_exact("NIR edge 'a' -> 'm': no node named 'm'")):
        ng.nir.load(graph)


@pytest.mark.parametrize(
    ("kwargs", "msg"),
    [
        ({"dt": 0}, "dt must be a positive number of seconds, not 0"),
        ({"weight_bits": 1}, "weight_bits must be an int in 2..16, not 1"),
        ({"weight_bits": 17}, "weight_bits must be an int in 2..16, not 17"),
        ({"delay": -1}, "delay must be an int >= 0, not -1"),
        ({"state_format": 40}, "state_format width must be in 4..32, not 40"),
        (
            {"state_format": "q8"},
            "state_format must be a FixedFormat, an int width or None, not 'q8'",
        ),
        (
            {"state_format": ng.FixedFormat(8, 7)},
            "NIR node 'lif' (LIF): state_format has 7 guard bits; at most width - 2 = 6",
        ),
        (
            {"dt": 3e-4},
            "NIR node 'lif' (LIF): dt / tau = 1.5 > 1: forward Euler is unstable; use a smaller dt",
        ),
        ({"weight_scale": -1.0}, "NIR node 'lif' (LIF): weight_scale must be > 0, not -1.0"),
        (
            {"state_format": 8, "weight_scale": 0.001},
            "NIR node 'lif' (LIF): the threshold 1.2 is 1200 potential steps of 0.001, which "
            "does not fit the 8-bit state; give a wider state_format",
        ),
    ],
)
def test_argument_errors(kwargs, msg):
    graph = _graph(nir.Linear(weight=np.array([[0.1]])), lif())
    with pytest.raises(NIRImportError, match=_exact(msg)):
        ng.nir.load(graph, **kwargs)


def test_cuba_lif_needs_reset_to_zero():
    graph = _graph(nir.Linear(weight=np.ones((1, 1))), cuba(v_reset=0.5))
    with pytest.raises(
        NIRImportError,
        match=_exact(
            "NIR node 'cubalif' (CubaLIF): v_reset must be 0 for cuba_lif (Loihi resets to 0), "
            "not 0.5"
        ),
    ):
        ng.nir.load(graph)


def test_input_errors():
    imp = ng.nir.load(_graph(nir.Linear(weight=np.ones((1, 2))), lif()))
    with pytest.raises(
        NIRImportError, match=_exact("input 'input' must be spikes (0 or 1), not 2")
    ):
        imp.run(np.full((3, 2), 2))
    with pytest.raises(
        NIRImportError,
        match=_exact("input 'input' must have shape (steps, 2) or (samples, steps, 2), not (3, 3)"),
    ):
        imp.reference(np.zeros((3, 3)))
    with pytest.raises(NIRImportError, match=_exact("no input 'x'; the inputs are: 'input'")):
        imp.compare({"x": np.zeros((3, 2))})
    with pytest.raises(NIRImportError, match=_exact("inputs have 3 steps, fewer than steps=5")):
        imp.run(np.zeros((3, 2)), steps=5)
    batch = imp.run(np.zeros((4, 3, 2), dtype=np.uint8))  # a samples axis is kept
    assert batch["output"].shape == (4, 3, 1)
