"""Train the example classifier in snnTorch and export it to NIR (run in a side venv).

The task: 16 input channels fire at random (rate 0.03 per step) except around a centre whose
position says the class (4 classes, the centre jittered so that classes overlap); 40 timesteps
per sample. The network is 16 -> 24 LIF -> 4 LIF (weights without bias: when it was trained,
a bias did not run as gateware yet; it does now, as per-neuron port values), trained with
backpropagation through time (arctan surrogate) on the output spike counts.

    python3 -m venv /tmp/venv-snn
    /tmp/venv-snn/bin/pip install torch==2.13.0 snntorch nir nirtorch
    /tmp/venv-snn/bin/python examples/classifier/train_snntorch.py

writes ``classifier.nir`` and ``test_set.npz`` (the test inputs as packed bits, their labels
and snnTorch's output spike counts) beside this file. Then, with neurogate installed::

    neurogate import examples/classifier/classifier.nir -o examples/classifier/classifier.toml

Everything is seeded; torch's CPU kernels make the run reproducible on one machine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import snntorch as snn
import torch
from snntorch import functional as SF
from snntorch import utils
from snntorch.export_nir import export_to_nir

HERE = Path(__file__).resolve().parent
CHANNELS, CLASSES, STEPS, HIDDEN = 16, 4, 40, 24
BETA, THRESHOLD = 0.9, 1.0


def make_data(n: int, rng: np.random.Generator):
    """``(spikes (n, STEPS, CHANNELS) uint8, labels (n,))``: a rate bump per class."""
    labels = rng.integers(0, CLASSES, n)
    centres = (labels + 0.5) * CHANNELS / CLASSES + rng.normal(0.0, 1.5, n)
    ch = np.arange(CHANNELS)
    rate = 0.03 + 0.3 * np.exp(-0.5 * ((ch[None, :] - centres[:, None]) / 2.5) ** 2)
    spikes = rng.random((n, STEPS, CHANNELS)) < rate[:, None, :]
    return spikes.astype(np.uint8), labels


def build() -> torch.nn.Sequential:
    def leaky(n, output=False):
        return snn.Leaky(
            beta=torch.full((n,), BETA),  # per-neuron tensors: NIR needs sized parameters
            threshold=torch.full((n,), THRESHOLD),
            reset_mechanism="zero",  # NIR's LIF resets to v_reset (no subtraction)
            reset_delay=False,  # the reset in the step of the spike, as NIR has it
            init_hidden=True,
            output=output,
        )

    return torch.nn.Sequential(
        torch.nn.Linear(CHANNELS, HIDDEN, bias=False),
        leaky(HIDDEN),
        torch.nn.Linear(HIDDEN, CLASSES, bias=False),
        leaky(CLASSES, output=True),
    )


def forward(net, x: torch.Tensor) -> torch.Tensor:
    """Output spikes ``(STEPS, batch, CLASSES)`` for inputs ``(batch, STEPS, CHANNELS)``."""
    utils.reset(net)
    out = []
    for t in range(x.shape[1]):
        spk, _ = net(x[:, t])
        out.append(spk)
    return torch.stack(out)


def main() -> None:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x_train, y_train = make_data(1200, rng)
    x_test, y_test = make_data(300, rng)
    net = build()
    opt = torch.optim.Adam(net.parameters(), lr=5e-3)
    loss_fn = SF.ce_count_loss()
    xt, yt = torch.tensor(x_train, dtype=torch.float32), torch.tensor(y_train)
    for epoch in range(40):
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt), 64):
            idx = perm[i : i + 64]
            loss = loss_fn(forward(net, xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        if epoch % 10 == 9:
            with torch.no_grad():
                counts = forward(net, torch.tensor(x_test, dtype=torch.float32)).sum(0)
            acc = (counts.argmax(1).numpy() == y_test).mean()
            print(f"epoch {epoch + 1}: loss {loss.item():.3f}, test accuracy {acc:.3f}")
    with torch.no_grad():
        counts = forward(net, torch.tensor(x_test, dtype=torch.float32)).sum(0).numpy()
    print(f"snnTorch test accuracy: {(counts.argmax(1) == y_test).mean():.3f}")
    graph = export_to_nir(net, torch.zeros(1, CHANNELS), ignore_dims=[0])
    import nir

    nir.write(HERE / "classifier.nir", graph)
    np.savez_compressed(
        HERE / "test_set.npz",
        spikes=np.packbits(x_test.astype(bool), axis=-1),
        shape=np.array(x_test.shape),
        labels=y_test,
        snntorch_counts=counts.astype(np.int64),
    )
    print(f"wrote {HERE / 'classifier.nir'} and {HERE / 'test_set.npz'}")


if __name__ == "__main__":
    main()
