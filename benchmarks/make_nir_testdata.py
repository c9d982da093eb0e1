"""Export the NIR test graphs of tests/test_nir*.py from snnTorch (run in a side venv).

    python3 -m venv /tmp/venv-snn
    /tmp/venv-snn/bin/pip install torch==2.13.0 snntorch nir nirtorch
    /tmp/venv-snn/bin/python benchmarks/make_nir_testdata.py

writes into tests/data/:

* ``snntorch_leaky.nir``: Linear(6, 5) + bias -> Leaky -> Linear(5, 3) + bias -> Leaky (NIR
  ``Affine`` and ``LIF`` nodes);
* ``snntorch_synaptic.nir``: Linear(6, 5) -> Synaptic -> Linear(5, 3) -> Synaptic (NIR
  ``Linear`` and ``CubaLIF``);
* ``snntorch_rleaky.nir``: Linear(6, 5) + bias -> RLeaky (all-to-all recurrent weights) ->
  Linear(5, 3) + bias -> Leaky (nirtorch flattens the recurrent layer into the nodes
  ``1.lif`` and ``1.w_rec``: a cycle);
* ``snntorch_vectors.npz``: for each, random input spikes (``<name>_input``, (samples, steps,
  6)) and the spikes snnTorch computed for them, hidden (``<name>_hidden``) and output
  (``<name>_output``), each (samples, steps, n) uint8.

The neurons reset to zero in the step they fire (``reset_mechanism="zero", reset_delay=False``:
NIR's reset to ``v_reset``; snnTorch's default delayed reset of ``Synaptic`` also discards the
next step's update), and their parameters are per-neuron tensors (NIR wants sized parameters,
snnTorch's export of a scalar ``beta`` fails NIR's type check). snnTorch runs without delay
between layers, so the vectors are what ``ng.nir.load(..., delay=0).reference`` must give.
"""

from __future__ import annotations

from pathlib import Path

import nir
import numpy as np
import snntorch as snn
import torch
from snntorch import utils
from snntorch.export_nir import export_to_nir

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SAMPLES, STEPS, N_IN = 6, 50, 6


def leaky(n, beta, threshold, output=False):
    return snn.Leaky(
        beta=torch.full((n,), beta),
        threshold=torch.full((n,), threshold),
        reset_mechanism="zero",
        reset_delay=False,
        init_hidden=True,
        output=output,
    )


def rleaky(n, beta, threshold):
    return snn.RLeaky(
        beta=torch.full((n,), beta),
        threshold=torch.full((n,), threshold),
        linear_features=n,
        reset_mechanism="zero",
        reset_delay=False,
        init_hidden=True,
    )


def synaptic(n, alpha, beta, threshold, output=False):
    return snn.Synaptic(
        alpha=torch.full((n,), alpha),
        beta=torch.full((n,), beta),
        threshold=torch.full((n,), threshold),
        reset_mechanism="zero",
        reset_delay=False,
        init_hidden=True,
        output=output,
    )


def run(net, x):
    """Hidden and output spikes of ``net`` (a Sequential: linear, neuron, linear, neuron)."""
    hidden = []
    hook = net[1].register_forward_hook(lambda mod, inp, out: hidden.append(out.detach()))
    utils.reset(net)
    out = []
    with torch.no_grad():
        for t in range(x.shape[1]):
            res = net(x[:, t])
            out.append(res[0])
    hook.remove()
    return _stack(hidden), _stack(out)


def _stack(seq) -> np.ndarray:
    return torch.stack(seq, dim=1).numpy().astype(np.uint8)


def main():
    torch.manual_seed(3)
    rng = np.random.default_rng(3)
    x = torch.tensor(rng.random((SAMPLES, STEPS, N_IN)) < 0.4, dtype=torch.float32)
    nets = {
        "leaky": torch.nn.Sequential(
            torch.nn.Linear(N_IN, 5),
            leaky(5, 0.85, 0.7),
            torch.nn.Linear(5, 3),
            leaky(3, 0.75, 1.0, output=True),
        ),
        "synaptic": torch.nn.Sequential(
            torch.nn.Linear(N_IN, 5, bias=False),
            synaptic(5, 0.6, 0.85, 1.0),
            torch.nn.Linear(5, 3, bias=False),
            synaptic(3, 0.7, 0.8, 1.0, output=True),
        ),
        "rleaky": torch.nn.Sequential(
            torch.nn.Linear(N_IN, 5),
            rleaky(5, 0.8, 0.8),
            torch.nn.Linear(5, 3),
            leaky(3, 0.75, 1.0, output=True),
        ),
    }
    vectors = {}
    for name, net in nets.items():
        with torch.no_grad():  # weights that make both layers fire now and then
            net[0].weight.mul_(2.0)
            net[2].weight.mul_(2.5)
            if name == "leaky":
                net[0].bias.add_(0.05)
                net[2].weight.abs_().mul_(1.5)
                net[2].bias.add_(0.1)
        graph = export_to_nir(net, torch.zeros(1, N_IN), ignore_dims=[0])
        nir.write(DATA / f"snntorch_{name}.nir", graph)
        hidden, out = run(net, x)
        vectors[f"{name}_input"] = x.numpy().astype(np.uint8)
        vectors[f"{name}_hidden"] = hidden
        vectors[f"{name}_output"] = out
        print(f"{name}: {hidden.sum()} hidden and {out.sum()} output spikes")
    np.savez_compressed(DATA / "snntorch_vectors.npz", **vectors)
    print(f"wrote {DATA}/snntorch_*.nir and snntorch_vectors.npz")


if __name__ == "__main__":
    main()
