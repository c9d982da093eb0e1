"""Measure the throughput of the ``lif`` NumPy model, the pysim backend and the ``lfsr`` model.

Run from the repository root (single thread, best of ``--repeat`` wall-clock times)::

    python benchmarks/bench_lif_model.py                    # the full table (~1 minute)
    python benchmarks/bench_lif_model.py --sizes 4096 --no-pysim --repeat 9
    python benchmarks/bench_lif_model.py --json results.json

Reported: ``LIFModel.run`` in neuron-updates/s (``n`` neurons x ``steps`` steps per call,
including the input validation that every ``run`` does) for

* ``default``: ``ng.component("lif")`` driven by uniform random currents in 0..64 (about 8 % of
  the neurons spike on each step);
* ``default-fullrange``: the same neuron driven by uniform random currents over the whole port
  range (saturation on most steps; the model's slowest branch);
* ``refr2-runtime-wrap``: ``refractory=2``, ``leak_k``/``gain_k`` as runtime inputs,
  ``overflow="wrap"``;

next to a plain NumPy LIF (the obvious per-step code with temporaries, checked bit-exact against
the model), the Amaranth simulator (``ng.sim.run(..., backend="pysim")``) in cycles/s, and the
``lfsr`` encoder model in bits/s. The stimulus is stored as ``int16`` (the ports are 16-bit)
unless ``--stim-dtype`` says otherwise; ``int64`` stimuli cost more because ``run`` validates
every input value and the model reads four times the bytes.
"""

from __future__ import annotations

import os

# One thread, set before NumPy loads (integer ufuncs never thread, but BLAS-backed code might).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import neurogate as ng

CONFIGS = {
    "default": {},
    "default-fullrange": {},
    "refr2-runtime-wrap": {
        "refractory": 2,
        "leak_k": None,
        "gain_k": None,
        "overflow": "wrap",
    },
}


# -- machine ------------------------------------------------------------------------------------
def machine_info() -> dict:
    """Return the facts needed to interpret the numbers."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    env = {
        k: os.environ[k]
        for k in sorted(os.environ)
        if k.startswith(("OMP_", "OPENBLAS", "MKL_", "NUMEXPR_"))
    }
    return {
        "cpu": cpu,
        "cpus_available": cpus,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "neurogate": ng.__version__,
        "commit": commit,
        "platform": platform.platform(),
        "env": env,
    }


# -- stimuli ------------------------------------------------------------------------------------
def lif_stimulus(config: str, lif, steps: int, n: int, dtype, seed: int = 1) -> dict:
    """Return a ``(steps, n)`` stimulus for ``lif`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    if config == "default-fullrange":
        fmt = lif.ports["current"].format
        cur = rng.integers(fmt.min, fmt.max, size=(steps, n), endpoint=True)
        return {"current": cur.astype(dtype)}
    # A mean drive of 32 against a leak of 1/16 pulls the membrane towards 512, over the
    # threshold of 256: about 8 % of the neurons spike on each step.
    stim = {"current": rng.integers(0, 64, size=(steps, n), endpoint=True).astype(dtype)}
    if "leak_k" in lif.inputs:
        stim["leak_k"] = rng.integers(8, 24, size=(steps, n), endpoint=True).astype(dtype)
    if "gain_k" in lif.inputs:
        stim["gain_k"] = rng.integers(192, 320, size=(steps, n), endpoint=True).astype(dtype)
    return stim


# -- timing -------------------------------------------------------------------------------------
def timings(fn, repeat: int) -> list[float]:
    """Return the wall-clock times of ``repeat`` calls of ``fn``, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def plain_numpy_lif(current, leak_k, gain_k, fraction, v_rest, v_reset, v_threshold, lo, hi):
    """The straightforward NumPy LIF (saturating, no refractory period): the baseline.

    One new array per operation, ``int64`` throughout, exactly as one would first write it.
    """
    steps, n = current.shape
    v = np.full(n, v_rest, dtype=np.int64)
    out_v = np.empty((steps, n), dtype=np.int64)
    out_s = np.empty((steps, n), dtype=np.uint8)
    for t in range(steps):
        drive = (current[t].astype(np.int64) * gain_k) >> fraction
        v = v + (((v_rest - v) * leak_k) >> fraction) + drive
        v = np.clip(v, lo, hi)
        spike = v >= v_threshold
        v = np.where(spike, v_reset, v)
        out_v[t] = v
        out_s[t] = spike
    return {"spike": out_s, "v": out_v}


HEADER = (
    f"{'what':<36} {'n':>6} {'steps':>7} {'stimulus':>8} {'best s':>9} "
    f"{'M upd/s':>9} {'(median)':>9} {'spikes':>6}"
)


def add_row(rows: list, what: str, n: int, steps: int, stimulus: str, times, **extra) -> None:
    """Record one measurement and print it as a line of the table (rates from best, median)."""
    best, median = min(times), statistics.median(times)
    row = {
        "what": what,
        "n": n,
        "steps": steps,
        "stimulus": stimulus,
        "seconds": times,
        "best_s": best,
        "mups_best": n * steps / best / 1e6,
        "mups_median": n * steps / median / 1e6,
        **extra,
    }
    rows.append(row)
    rate = f"{row['spike_rate']:6.3f}" if "spike_rate" in row else f"{'':6}"
    line = (
        f"{what:<36} {n:>6} {steps:>7} {stimulus:>8} {best:>9.4f} "
        f"{row['mups_best']:>9.4g} {row['mups_median']:>9.4g} {rate}"
    )
    print(line.rstrip())


def bench_lif(args, rows: list) -> None:
    for config in args.configs:
        lif = ng.component("lif", **CONFIGS[config])
        for n in args.sizes:
            out = None
            for dt in args.stim_dtype:
                stim = lif_stimulus(config, lif, args.steps, n, dt)
                model = lif.model(n)
                times = timings(lambda model=model, stim=stim: model.run(stim), args.repeat)
                if out is None:
                    first, out = stim, lif.model(n).run(stim)
                    rate = float(out["spike"].mean())
                add_row(rows, f"lif model, {config}", n, args.steps, dt, times, spike_rate=rate)
            if config == "default" and args.baseline:
                fmt = lif.v_format

                def plain(stim=first, p=lif, fmt=fmt):
                    return plain_numpy_lif(
                        stim["current"],
                        p.leak_k,
                        p.gain_k,
                        p.fraction,
                        p.v_rest,
                        p.v_reset,
                        p.v_threshold,
                        fmt.min,
                        fmt.max,
                    )

                got = plain()
                if not all(np.array_equal(got[k], out[k]) for k in ("v", "spike")):
                    raise SystemExit("the plain NumPy baseline disagrees with the lif model")
                times = timings(plain, args.repeat)
                what = "plain NumPy LIF (baseline)"
                add_row(rows, what, n, args.steps, args.stim_dtype[0], times, spike_rate=rate)


def bench_pysim(args, rows: list) -> None:
    lif = ng.component("lif")
    print(f"{'what':<36} {'n':>6} {'steps':>7} {'seconds':>9} {'cycles/s':>9} {'upd/s':>9}")
    for n in (1, 8):
        stim = lif_stimulus("default", lif, args.pysim_steps, n, np.int16)
        start = time.perf_counter()
        out = ng.sim.run(lif, stim, backend="pysim", progress=False)
        seconds = time.perf_counter() - start
        ref = lif.model(n).run(stim)
        if not all(np.array_equal(out[k], ref[k]) for k in ("v", "spike")):
            raise SystemExit("pysim disagrees with the lif model")
        cycles = args.pysim_steps / seconds
        what = "lif pysim (Amaranth simulator)"
        rows.append(
            {
                "what": what,
                "n": n,
                "steps": args.pysim_steps,
                "seconds": seconds,
                "cycles_per_s": cycles,
                "updates_per_s": cycles * n,
            }
        )
        print(
            f"{what:<36} {n:>6} {args.pysim_steps:>7} {seconds:>9.3f} {cycles:>9.0f} "
            f"{cycles * n:>9.0f}"
        )


def warm_up(seconds: float = 1.0) -> None:
    """Keep the core busy for a moment so that its clock has ramped up before timing."""
    lif = ng.component("lif")
    model = lif.model(4096)
    stim = lif_stimulus("default", lif, 100, 4096, np.int16)
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        model.run(stim)


def bench_lfsr(args, rows: list) -> None:
    enc = ng.component("lfsr")
    rng = np.random.default_rng(2)
    for n, steps in ((4096, args.steps), (1, 1_000_000)):
        x = rng.integers(0, 1 << 16, size=(steps, n)).astype(np.uint16)
        model = enc.model(n)
        times = timings(lambda model=model, x=x: model.run({"x": x}), args.repeat)
        add_row(rows, "lfsr model (M bits/s)", n, steps, "uint16", times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1000, help="steps per run (default 1000)")
    parser.add_argument(
        "--sizes",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[1, 64, 4096, 65536],
        help="comma-separated neuron counts (default 1,64,4096,65536)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="best of this many runs (default 5)")
    parser.add_argument(
        "--configs",
        type=lambda s: s.split(","),
        default=list(CONFIGS),
        help=f"comma-separated lif configurations (default {','.join(CONFIGS)})",
    )
    parser.add_argument(
        "--stim-dtype",
        type=lambda s: s.split(","),
        default=["int16", "int64"],
        help="comma-separated stimulus dtypes, one row each (default int16,int64)",
    )
    parser.add_argument("--pysim-steps", type=int, default=2000, help="pysim cycles (default 2000)")
    parser.add_argument("--no-pysim", action="store_true", help="skip the pysim measurement")
    parser.add_argument("--no-lfsr", action="store_true", help="skip the lfsr measurement")
    parser.add_argument(
        "--no-baseline", dest="baseline", action="store_false", help="skip the plain NumPy baseline"
    )
    parser.add_argument("--json", metavar="OUT", help="also write every number to this JSON file")
    args = parser.parse_args(argv)
    for config in args.configs:
        if config not in CONFIGS:
            parser.error(
                f"--configs: unknown configuration {config!r}; known: {', '.join(CONFIGS)}"
            )

    info = machine_info()
    print(f"CPU: {info['cpu']} ({info['cpus_available']} available, timing one thread)")
    print(
        f"Python {info['python']}, NumPy {info['numpy']}, neurogate {info['neurogate']} "
        f"({info['commit']})"
    )
    print("environment: " + (" ".join(f"{k}={v}" for k, v in info["env"].items()) or "-"))
    print(
        f"best of {args.repeat} (median in brackets); M upd/s = million neuron-updates (lfsr: "
        "bits) per second\n"
    )
    print(HEADER)
    rows: list = []
    warm_up()
    bench_lif(args, rows)
    if not args.no_pysim:
        print()
        bench_pysim(args, rows)
    if not args.no_lfsr:
        print()
        bench_lfsr(args, rows)
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": info, "results": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
