"""Cross-check the ``lif`` and ``lfsr`` models against SC-NeuroCore, and time both side by side.

SC-NeuroCore (PyPI ``sc-neurocore``, AGPL-3.0) is only *run* by this script, when it is
importable; neurogate neither depends on it nor contains any of its code. Install it in a
separate virtual environment together with neurogate's own dependencies::

    python -m venv /tmp/venv-scn
    /tmp/venv-scn/bin/pip install sc-neurocore "amaranth>=0.5.10,<0.6" pluggy tqdm
    /tmp/venv-scn/bin/pip install --only-binary=:all: sc-neurocore-engine   # optional (Rust)
    PYTHONPATH=. /tmp/venv-scn/bin/python benchmarks/crosscheck_scneurocore.py

Bit-for-bit checks, every step of every instance:

* ``lif(overflow="wrap", leak_k=None, gain_k=None, noise=True)`` against
  ``sc_neurocore.neurons.fixed_point_lif.FixedPointLIFNeuron`` (the Python model of its
  ``sc_lif_neuron.v``) over random parameter sets and stimuli, with ``fraction < data_width``
  (SC-NeuroCore's rule);
* ``lif(overflow="wrap", refractory=..)`` with constant ``leak_k``/``gain_k`` against the Rust
  engine's ``batch_lif_run_multi``, when ``sc_neurocore_engine`` is installed;
* ``lfsr`` (width 16) against ``FixedPointBitstreamEncoder`` (bits and generator states).

It also tests two statements in SC-NeuroCore's docstrings (the encoder's ``P(bit=1)`` and the
period of ``FixedPointLFSR`` at widths other than 16) and times SC-NeuroCore's LIF models next
to neurogate's on the same stimuli (single thread; ``--engine-threads`` for the Rust engine).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import importlib
import sys
import time
from pathlib import Path

import numpy as np

try:
    import neurogate as ng
except ImportError:  # run from a checkout with another interpreter: use the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import neurogate as ng


# -- SC-NeuroCore, when present -------------------------------------------------------------
def import_optional(name: str):
    """Return the module ``name``, or ``None`` when it is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


# -- lif ------------------------------------------------------------------------------------
def random_lif_case(rng, first: bool):
    """Return ``(neurogate params, SC-NeuroCore FixedPointLIFNeuron kwargs)``."""
    if first:  # SC-NeuroCore's defaults
        dw, f, v_rest, v_reset, th, refr = 16, 8, 0, 0, 256, 2
    else:
        dw = int(rng.choice([4, 8, 12, 16, 24, 32]))
        f = int(rng.integers(0, dw))  # SC-NeuroCore requires fraction < data_width
        lo, hi = -(1 << (dw - 1)), (1 << (dw - 1)) - 1
        v_rest, v_reset = (int(x) for x in rng.integers(lo // 4, hi // 4 + 1, size=2))
        th = int(rng.integers(max(lo, v_reset), hi + 1))
        refr = int(rng.integers(0, 4))
    ours = dict(
        data_width=dw,
        fraction=f,
        v_rest=v_rest,
        v_reset=v_reset,
        v_threshold=th,
        refractory=refr,
        leak_k=None,
        gain_k=None,
        noise=True,
        overflow="wrap",
    )
    theirs = dict(
        data_width=dw,
        fraction=f,
        v_rest=v_rest,
        v_reset=v_reset,
        v_threshold=th,
        refractory_period=refr,
    )
    return ours, theirs


def lif_stimulus(rng, lif, steps: int, n: int, full_range: bool) -> dict:
    """Random stimulus: either full port range, or a range typical of a working neuron."""
    dw, f = lif.data_width, lif.fraction
    lo, hi = -(1 << (dw - 1)), (1 << (dw - 1)) - 1
    one = 1 << f

    def draw(a, b):
        return rng.integers(max(lo, a), min(hi, b), size=(steps, n), endpoint=True)

    if full_range:
        return {key: draw(lo, hi) for key in lif.inputs}
    return {
        "current": draw(-(one // 2), 2 * one),
        "leak_k": draw(0, max(1, one // 8)),
        "gain_k": draw(one // 2, 2 * one),
        "noise": draw(-(one // 16), one // 16),
    }


def run_scn_lif(neuron_cls, kwargs, stim, steps, n):
    """Step SC-NeuroCore's Python neuron; return ``(v, spike)`` arrays of shape ``(steps, n)``."""
    cols = {k: np.asarray(a).T.tolist() for k, a in stim.items()}
    v = np.empty((steps, n), dtype=np.int64)
    s = np.empty((steps, n), dtype=np.uint8)
    for i in range(n):
        neuron = neuron_cls(**kwargs)
        step = neuron.step
        rows = zip(
            cols["leak_k"][i], cols["gain_k"][i], cols["current"][i], cols["noise"][i], strict=True
        )
        out = [step(k, g, c, z) for k, g, c, z in rows]
        s[:, i] = [o[0] for o in out]
        v[:, i] = [o[1] for o in out]
    return v, s


def check_lif(scn_lif, rng, cases: int, steps: int, n: int) -> int:
    """Compare ``cases`` random parameter sets; return the number of neuron-steps compared."""
    compared = 0
    for case in range(cases):
        ours, theirs = random_lif_case(rng, case == 0)
        lif = ng.component("lif", **ours)
        stim = lif_stimulus(rng, lif, steps, n, full_range=bool(case % 2))
        out = lif.model(n).run(stim)
        v, s = run_scn_lif(scn_lif.FixedPointLIFNeuron, theirs, stim, steps, n)
        bad = np.argwhere((out["v"] != v) | (out["spike"] != s))
        if len(bad):
            t, i = (int(x) for x in bad[0])
            raise SystemExit(
                f"lif disagrees with FixedPointLIFNeuron {theirs} at step {t}, instance {i}: "
                f"neurogate v={out['v'][t, i]} spike={out['spike'][t, i]}, "
                f"SC-NeuroCore v={v[t, i]} spike={s[t, i]}"
            )
        compared += steps * n
    return compared


def check_engine_lif(engine, rng, cases: int, steps: int, n: int) -> int:
    """Compare the Rust ``batch_lif_run_multi`` (16-bit, constant inputs per neuron)."""
    compared = 0
    for case in range(cases):
        if case == 0:
            v_rest, v_reset, th, refr, leak, gain = 0, 0, 256, 2, 16, 256
        else:
            v_rest, v_reset = (int(x) for x in rng.integers(-2000, 2000, size=2))
            th = int(rng.integers(v_reset, 4000))
            refr = int(rng.integers(0, 4))
            leak, gain = int(rng.integers(0, 64)), int(rng.integers(0, 1024))
        currents = rng.integers(-64, 256, size=n).astype(np.int16)
        spikes, volts = engine.batch_lif_run_multi(
            n, steps, leak, gain, currents, 16, 8, v_rest, v_reset, th, refr
        )
        lif = ng.component(
            "lif",
            v_rest=v_rest,
            v_reset=v_reset,
            v_threshold=th,
            refractory=refr,
            leak_k=leak,
            gain_k=gain,
            overflow="wrap",
        )
        out = lif.model(n).run({"current": np.broadcast_to(currents, (steps, n))})
        if not (np.array_equal(out["v"].T, volts) and np.array_equal(out["spike"].T, spikes)):
            raise SystemExit(f"lif disagrees with batch_lif_run_multi (case {case})")
        compared += steps * n
    return compared


# -- lfsr -----------------------------------------------------------------------------------
def check_lfsr(scn_lif, rng, seeds: int, steps: int) -> int:
    compared = 0
    for _ in range(seeds):
        seed = int(rng.integers(1, 1 << 16))
        x = rng.integers(0, 1 << 16, size=steps)
        out = ng.component("lfsr", seed=seed).model(1).run({"x": x[:, None]})
        enc = scn_lif.FixedPointBitstreamEncoder(data_width=16, seed_init=seed)
        bits, states = [], []
        for value in x.tolist():
            bits.append(enc.step(value))
            states.append(enc.lfsr.reg)
        if not (
            np.array_equal(out["bit"][:, 0], bits) and np.array_equal(out["state"][:, 0], states)
        ):
            raise SystemExit(f"lfsr disagrees with FixedPointBitstreamEncoder (seed {seed:#x})")
        compared += steps
    return compared


def check_claims(scn_lif) -> list[str]:
    """Test two docstring statements of SC-NeuroCore; return a line per finding."""
    findings = []
    period = (1 << 16) - 1
    counts = {}
    for x in (1, 2, 0x8000, 0xFFFF):
        enc = scn_lif.FixedPointBitstreamEncoder(data_width=16, seed_init=0xACE1)
        counts[x] = sum(enc.step(x) for _ in range(period))
    exact = all(c == x - 1 for x, c in counts.items())
    findings.append(
        "FixedPointBitstreamEncoder documents P(bit=1) ~ x / (2**16 - 1); over one full period "
        f"it emits exactly x - 1 ones ({exact}): "
        + ", ".join(f"x={x}: {c}" for x, c in counts.items())
        + " (the LFSR never visits 0), as neurogate's lfsr documents"
    )
    short = []
    for width in range(6, 17):
        lfsr = scn_lif.FixedPointLFSR(width=width, seed=1)
        start, steps = lfsr.reg, 0
        while True:
            lfsr.step()
            steps += 1
            if lfsr.reg == start or steps > (1 << width):
                break
        if steps != (1 << width) - 1:
            short.append(f"{width}: {steps}")
    findings.append(
        "FixedPointLFSR(width=w) keeps the width-16 taps (w-1, w-3, w-4, w-6) at every width; "
        "periods that are not 2**w - 1: " + (", ".join(short) or "none")
    )
    try:
        scn_lif.FixedPointLFSR(width=5, seed=1).step()
    except ValueError as exc:
        findings.append(f"FixedPointLFSR(width=5).step() raises ValueError: {exc}")
    return findings


# -- timing ---------------------------------------------------------------------------------
def best_of(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def report(what: str, n: int, steps: int, seconds: float) -> None:
    rate = n * steps / seconds / 1e6
    print(f"{what:<56} {n:>6} {steps:>6} {seconds:>9.4f} {rate:>9.4g}")


def time_lifs(scn_lif, engine, args) -> None:
    """Time SC-NeuroCore's LIF models and neurogate's on the same stimuli."""
    rng = np.random.default_rng(5)
    steps = args.steps
    ours, theirs = random_lif_case(rng, first=True)  # SC-NeuroCore's defaults
    lif = ng.component("lif", **ours)
    print(f"\n{'what':<56} {'n':>6} {'steps':>6} {'seconds':>9} {'M upd/s':>9}")
    for n in args.sizes:
        stim = lif_stimulus(rng, lif, steps, n, full_range=False)
        stim16 = {k: a.astype(np.int16) for k, a in stim.items()}
        model = lif.model(n)
        model.run(stim16)
        seconds = best_of(lambda model=model, stim16=stim16: model.run(stim16), args.repeat)
        report("neurogate lif model (runtime k, noise, wrap, refr 2)", n, steps, seconds)
        if n <= args.max_python_n:
            repeat = args.repeat if n * steps <= 100_000 else 1

            def python_model(stim=stim, n=n):
                return run_scn_lif(scn_lif.FixedPointLIFNeuron, theirs, stim, steps, n)

            seconds = best_of(python_model, repeat)
            report("SC-NeuroCore FixedPointLIFNeuron (Python)", n, steps, seconds)
    if engine is None:
        return
    # The Rust batch API takes one constant current per neuron and constant leak/gain.
    lif = ng.component("lif", refractory=2, leak_k=16, gain_k=256, overflow="wrap")
    for n in args.sizes:
        currents = rng.integers(0, 64, size=n, endpoint=True).astype(np.int16)
        stim = {"current": np.broadcast_to(currents, (steps, n))}
        model = lif.model(n)
        model.run(stim)
        seconds = best_of(lambda model=model, stim=stim: model.run(stim), args.repeat)
        report("neurogate lif model (constant k and current, refr 2)", n, steps, seconds)

        def rust_batch(n=n, currents=currents):
            return engine.batch_lif_run_multi(n, steps, 16, 256, currents)

        seconds = best_of(rust_batch, args.repeat)
        report(
            f"SC-NeuroCore batch_lif_run_multi (Rust, {args.engine_threads} thr)", n, steps, seconds
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=40, help="random lif parameter sets")
    parser.add_argument("--steps", type=int, default=1000, help="steps per timed run")
    parser.add_argument(
        "--sizes",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[1, 64, 4096, 65536],
        help="comma-separated neuron counts to time (default 1,64,4096,65536)",
    )
    parser.add_argument(
        "--max-python-n",
        type=int,
        default=4096,
        help="largest n to time SC-NeuroCore's Python model at (default 4096)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="best of this many runs")
    parser.add_argument(
        "--engine-threads",
        type=int,
        default=1,
        help="RAYON_NUM_THREADS for the Rust engine (default 1)",
    )
    parser.add_argument("--no-timing", action="store_true", help="only check bit-exactness")
    args = parser.parse_args(argv)
    os.environ["RAYON_NUM_THREADS"] = str(args.engine_threads)

    scn_lif = import_optional("sc_neurocore.neurons.fixed_point_lif")
    if scn_lif is None:
        print(
            "sc-neurocore is not importable here; see this script's docstring to install it "
            "in a separate virtual environment. Nothing checked."
        )
        return 0
    engine = import_optional("sc_neurocore_engine")
    engine = getattr(engine, "sc_neurocore_engine", None) if engine else None
    print(
        f"neurogate {ng.__version__}, sc-neurocore {package_version('sc-neurocore')}, "
        f"sc-neurocore-engine {package_version('sc-neurocore-engine') if engine else '-'}, "
        f"NumPy {np.__version__}, Python {sys.version.split()[0]}"
    )

    rng = np.random.default_rng(2026)
    count = check_lif(scn_lif, rng, args.cases, steps=200, n=4)
    print(f"lif == FixedPointLIFNeuron: {args.cases} parameter sets, {count} neuron-steps")
    if engine is not None:
        count = check_engine_lif(engine, rng, 10, steps=500, n=64)
        print(
            f"lif == sc_neurocore_engine.batch_lif_run_multi: 10 parameter sets, "
            f"{count} neuron-steps"
        )
    count = check_lfsr(scn_lif, rng, seeds=8, steps=5000)
    print(f"lfsr == FixedPointBitstreamEncoder: 8 seeds, {count} steps (bits and states)")
    for line in check_claims(scn_lif):
        print("note: " + line)
    if not args.no_timing:
        time_lifs(scn_lif, engine, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
