#!/usr/bin/env python3
"""Accuracy of stochastic computing in neurogate: sources, correlation and decorrelators.

Everything here runs the components' bit-true NumPy models (the gateware is equal to them bit
for bit, which the test suite checks), so the numbers are those of the hardware.

1. **Multiplication error vs stream length.** ``and_mul`` of two streams encoding random
   operand pairs, for stream lengths N = 2^4 .. 2^width, with the operand streams from two
   differently seeded ``lfsr`` encoders, Sobol dimensions 1 and 2, Halton bases 2 and 3, and
   (for reference) ideal independent Bernoulli streams from NumPy. Pseudo-random sources
   should fall as O(1/sqrt(N)), low-discrepancy pairs about as O(1/N) (up to a log factor).
2. **Correlation.** The SCC of two ``lfsr`` streams from independent allocations (near 0), from
   the same seed (+1), and of a same-seed pair after each decorrelator, together with the
   value error each decorrelator introduces.

    pip install -e ".[bench]"
    python benchmarks/bench_sc_accuracy.py --plot benchmarks/sc_accuracy.png --markdown
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import neurogate as ng

WIDTH = 12


def encode(component, x: np.ndarray, steps: int) -> np.ndarray:
    """Run an encoder model on constant inputs ``x`` (one instance each) for ``steps``."""
    stim = {"x": np.broadcast_to(x, (steps, x.size))}
    return component.model(x.size).run(stim)["bit"]


def sources(width: int):
    """The operand-stream pairs compared, as (label, encoder a, encoder b)."""
    lfsr = ng.component("lfsr", width=width)
    digits3 = int(np.ceil(width / np.log2(3)))  # period 3**digits >= 2**width
    return [
        ("lfsr (two allocated seeds)", lfsr.allocate_seed(0), lfsr.allocate_seed(1)),
        ("sobol (dimensions 1, 2)", ng.component("sobol", width=width, dimension=1),
         ng.component("sobol", width=width, dimension=2)),
        ("halton (bases 2, 3)", ng.component("halton", width=width, base=2, digits=width),
         ng.component("halton", width=width, base=3, digits=digits3)),
    ]  # fmt: skip


def multiply_error(width: int, pairs: int, seed: int):
    """Return ``{label: [(N, mean absolute error), ...]}`` for and_mul over random pairs."""
    rng = np.random.default_rng(seed)
    full = 1 << width
    xa = rng.integers(0, full, pairs)
    xb = rng.integers(0, full, pairs)
    exact = (xa / full) * (xb / full)
    gate = ng.component("and_mul", registered=False)
    lengths = [1 << k for k in range(4, width + 1)]
    results = {}
    for label, enc_a, enc_b in sources(width):
        a = encode(enc_a, xa, lengths[-1])
        b = encode(enc_b, xb, lengths[-1])
        y = gate.model(pairs).run({"a": a, "b": b})["y"]
        ones = np.cumsum(y, axis=0)
        results[label] = [(n, float(np.mean(np.abs(ones[n - 1] / n - exact)))) for n in lengths]
    # Ideal independent Bernoulli streams, for reference.
    ua = rng.random((lengths[-1], pairs)) < xa / full
    ub = rng.random((lengths[-1], pairs)) < xb / full
    ones = np.cumsum(ua & ub, axis=0)
    results["ideal Bernoulli (NumPy)"] = [
        (n, float(np.mean(np.abs(ones[n - 1] / n - exact)))) for n in lengths
    ]
    return results


def slope(points) -> float:
    """Least-squares slope of log(error) against log(N)."""
    n, err = np.array(points).T
    return float(np.polyfit(np.log(n), np.log(err), 1)[0])


def correlation(width: int, pairs: int, seed: int):
    """Return rows (label, mean SCC, mean |value error| of the b stream) for the SCC study."""
    rng = np.random.default_rng(seed)
    full = 1 << width
    steps = full - 1
    xa = rng.integers(full // 8, full - full // 8, pairs)
    xb = rng.integers(full // 8, full - full // 8, pairs)
    lfsr = ng.component("lfsr", width=width)
    a = encode(lfsr, xa, steps)
    rows = []
    b_indep = encode(lfsr.allocate_seed(1), xb, steps)
    b_same = encode(lfsr, xb, steps)

    def row(label, b):
        scc = ng.sc.scc(a, b)  # streams along axis 0, one column per pair
        err = np.abs(b.mean(axis=0) - b_same.mean(axis=0))
        rows.append((label, float(np.mean(scc)), float(np.max(err))))

    row("independent allocations", b_indep)
    row("same seed (shared sequence)", b_same)
    decorrelators = [
        ("isolator", {"delay": 1}),
        ("isolator", {"delay": 7}),
        ("shuffle", {}),
        ("regen", {}),
        ("rescramble", {}),
    ]
    for name, params in decorrelators:
        if name not in ng.components():
            continue
        comp = ng.component(name, **params)
        if comp.sequence_key() is not None and comp.sequence_key() == lfsr.sequence_key():
            comp = comp.allocate_seed(1)
        out = comp.model(pairs).run({"a": b_same})
        # Compared with the first stream at the same step, as a gate downstream would see it.
        extra = ", ".join(f"{k}={v}" for k, v in params.items())
        row(f"same seed, then {name}" + (f" ({extra})" if extra else ""), out["y"])
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=int, default=WIDTH, help="encoder width (default 12)")
    parser.add_argument("--pairs", type=int, default=400, help="random operand pairs")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the operand draw")
    parser.add_argument("--plot", metavar="PNG", help="write the figure here")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    args = parser.parse_args(argv)

    mul = multiply_error(args.width, args.pairs, args.seed)
    lengths = [n for n, _ in next(iter(mul.values()))]
    print(f"and_mul mean absolute error over {args.pairs} random pairs, width {args.width}, "
          f"seed {args.seed}")  # fmt: skip
    header = "| source | " + " | ".join(f"N={n}" for n in lengths) + " | slope |"
    print(header)
    print("|---|" + "---:|" * (len(lengths) + 1))
    for label, pts in mul.items():
        cells = " | ".join(f"{e:.4f}" for _, e in pts)
        print(f"| {label} | {cells} | {slope(pts):+.2f} |")

    rows = []
    if hasattr(ng, "sc") and hasattr(ng.sc, "scc"):
        rows = correlation(args.width, min(args.pairs, 200), args.seed)
        print(f"\nSCC of lfsr stream pairs (full period {(1 << args.width) - 1}), and the largest")
        print("change of the second stream's value that producing it caused")
        print("| pair | mean SCC | max value change |")
        print("|---|---:|---:|")
        for label, scc, err in rows:
            print(f"| {label} | {scc:+.3f} | {err:.4f} |")

    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2 if rows else 1, figsize=(12 if rows else 6.5, 4.6))
        ax = axes[0] if rows else axes
        for label, pts in mul.items():
            n, err = np.array(pts).T
            ax.loglog(n, err, "o-", label=f"{label} (slope {slope(pts):+.2f})", base=2)
        n = np.array(lengths, dtype=float)
        ax.loglog(n, 0.25 / np.sqrt(n), "k:", lw=1, label="1/sqrt(N) reference", base=2)
        ax.loglog(n, 0.5 / n, "k--", lw=1, label="1/N reference", base=2)
        ax.set_xlabel("stream length N")
        ax.set_ylabel("mean |estimate - a*b|")
        ax.set_title(f"and_mul error, {args.pairs} random pairs, {args.width}-bit encoders")
        ax.legend(fontsize=7)
        ax.grid(True, which="both", alpha=0.3)
        if rows:
            ax2 = axes[1]
            labels = [r[0].replace("same seed, then ", "then ") for r in rows]
            ax2.barh(labels, [r[1] for r in rows], color="tab:blue")
            ax2.axvline(0, color="k", lw=0.8)
            ax2.set_xlim(-1.05, 1.05)
            ax2.set_xlabel("mean SCC with the first stream")
            ax2.set_title("correlation of lfsr stream pairs and decorrelators")
            ax2.invert_yaxis()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=110)
        print(f"\nwrote {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
