"""The example classifier (examples/classifier/): a 16 -> 24 -> 4 LIF network trained in
snnTorch (train_snntorch.py), shipped as NIR and as the design file ``neurogate import`` made
of it, simulated bit-true and compared with its float reference on the shipped test set.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import neurogate as ng
from neurogate.core.design import dumps

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "classifier"


@pytest.fixture(scope="module")
def test_set():
    data = np.load(EXAMPLE / "test_set.npz")
    shape = tuple(int(s) for s in data["shape"])
    x = np.unpackbits(data["spikes"], axis=-1, count=shape[-1]).reshape(shape)
    return x, data["labels"], data["snntorch_counts"]


@pytest.fixture(scope="module")
def imported():
    return ng.nir.load(EXAMPLE / "classifier.nir")


def test_design_file_is_what_import_writes(imported):
    """classifier.toml (+ .npy) is `neurogate import classifier.nir -o classifier.toml`."""
    text, arrays = dumps(imported.network)
    assert (EXAMPLE / "classifier.toml").read_text() == text
    for file, arr in arrays.items():
        np.testing.assert_array_equal(np.load(EXAMPLE / file), arr)
    net = ng.load_design(EXAMPLE / "classifier.toml")
    assert [(c.source, c.target, c.delay) for c in net.connections] == [
        ("input", "n1", 1),
        ("n1", "n3", 1),
    ]


def test_reference_reproduces_snntorch(test_set):
    """The float reference with snnTorch's timing (delay 0) counts the same spikes."""
    x, labels, counts = test_set
    imp = ng.nir.load(EXAMPLE / "classifier.nir", delay=0)
    ref = imp.reference(x)["output"].sum(axis=1)
    np.testing.assert_array_equal(ref, counts)
    accuracy = float((counts.argmax(axis=1) == labels).mean())
    print(f"snnTorch accuracy {accuracy:.4f}")
    assert accuracy >= 0.8


def test_quantised_classifier_agrees_with_reference(imported, test_set):
    x, labels, _ = test_set
    cmp = imported.compare(x, labels=labels)
    print(imported.report, cmp, sep="\n")
    out = cmp.outputs["output"]
    assert out["class agreement"] >= 0.95
    assert abs(out["accuracy net"] - out["accuracy ref"]) <= 0.03
    assert out["accuracy net"] >= 0.8
    assert cmp["n1"].agreement >= 0.99
    assert cmp["n3"].agreement >= 0.95


def test_classifier_runs_bit_exact_as_gateware(imported, test_set, rng_seed):
    from neurogate.sim.network import compare

    x, _, _ = test_set
    out = compare(imported.network, {"input": x[0, :10]}, seed=rng_seed)
    assert out["n1"]["spike"].any()
