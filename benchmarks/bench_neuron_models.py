#!/usr/bin/env python3
"""NumPy throughput of every registered neuron model (neuron-updates per second).

Each model runs ``n`` neurons for ``steps`` steps on a seeded random stimulus over a quarter of
each input port's range (integer ufuncs run on one thread); the script prints the best and the
median of ``--repeat`` runs after one warm-up run.

    python benchmarks/bench_neuron_models.py                   # n = 65536, 200 steps
    python benchmarks/bench_neuron_models.py --n 4096 --steps 1000 --repeat 7
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

import neurogate as ng


def stimulus(component, steps: int, n: int, seed: int) -> dict:
    """A random stimulus within a quarter of each input port's range, in its narrowest dtype."""
    rng = np.random.default_rng(seed)
    stim = {}
    for key, port in component.inputs.items():
        fmt = port.format
        lo, hi = fmt.min // 4, fmt.max // 4
        dtype = np.int16 if fmt.width <= 16 else np.int32 if fmt.width <= 32 else np.int64
        stim[key] = rng.integers(lo, hi, size=(steps, n), endpoint=True).astype(dtype)
    return stim


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=65536, help="neurons (default 65536)")
    parser.add_argument("--steps", type=int, default=200, help="steps (default 200)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="stimulus seed")
    args = parser.parse_args(argv)
    print(f"neurogate {ng.__version__}, NumPy {np.__version__}, n={args.n}, steps={args.steps}, "
          f"best and median of {args.repeat}")  # fmt: skip
    print(f"{'model':<14} {'best M upd/s':>13} {'median':>8}  spikes/neuron/step")
    for name, cls in ng.components().items():
        if cls.kind != "neuron":
            continue
        comp = ng.component(name)
        stim = stimulus(comp, args.steps, args.n, args.seed)
        comp.model(args.n).run(stim)  # warm-up
        times = []
        for _ in range(args.repeat):
            model = comp.model(args.n)
            t0 = time.perf_counter()
            out = model.run(stim)
            times.append(time.perf_counter() - t0)
        updates = args.n * args.steps
        rate = float(np.mean(out["spike"]))
        print(f"{name:<14} {updates / min(times) / 1e6:>13.1f} "
              f"{updates / statistics.median(times) / 1e6:>8.1f}  {rate:.3f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
