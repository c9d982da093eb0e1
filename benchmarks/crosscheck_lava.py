"""Cross-check ``cuba_lif`` bit for bit against Lava's ``PyLifModelBitAcc``.

Lava (PyPI ``lava-nc``, BSD-3-Clause) is only *run* by this script; neurogate neither depends on
it nor contains any of its code. ``lava-nc`` 0.10.0 needs Python 3.10 (neurogate itself asks
for 3.11, but its code imports on 3.10, so the source tree is put on the path instead of
installing it)::

    python3.10 -m venv /tmp/venv310
    /tmp/venv310/bin/pip install lava-nc==0.10.0 "amaranth[builtin-yosys]>=0.5.10,<0.6" pluggy tqdm
    PYTHONPATH=. /tmp/venv310/bin/python benchmarks/crosscheck_lava.py

Each check runs Lava's ``LIF`` process for real: a ``RingBuffer`` source (``fixed_pt``, so the
input arrives as ``int32``) drives ``a_in``, ``Loihi2SimCfg(select_tag="fixed_pt")`` selects
``PyLifModelBitAcc`` (the script asserts it), two ``Monitor``s record ``u`` and ``v`` and a
``RingBuffer`` sink records ``s_out``, every step. A run shares ``du``, ``dv`` and ``vth``
(Lava's scalars); every neuron has its own ``bias_mant``, ``bias_exp`` and stimulus, so each
neuron is one parameter set for neurogate. The same stimulus goes through
``ng.component("cuba_lif", ...).model(1).run`` for neurons that start at reset, and through the
kernel's ``update_np`` for the few that start from a preset ``u``/``v`` (Lava's ``u=``/``v=``),
and ``s_out``, ``u`` and ``v`` are compared at every step.

The runs are seeded random parameter sets (``du``, ``dv`` in 0..4095, ``bias_mant`` 13-bit
signed, ``bias_exp`` 0..7, ``vth`` 17-bit unsigned, edges drawn often) with 16-bit signed
stimuli of several shapes (full range, extremes only, small, sparse, constant blocks), and fixed
corner runs: ``u`` driven to exactly ``2**23``, ``2**23 + 1``, ``2**23 + 64``, ``-2**23``,
``-2**23 + 1`` and ``-2**23 - 1`` before the wrap; ``v`` at the clip ``-(2**23 - 1)``;
``du``/``dv`` at 0 and 4095; negative ``u`` decaying (truncation toward zero); ``vth = 0`` and
``131071``; the largest biases of both signs; preset states at the bounds.

``--write-vectors PATH`` also writes the known-answer file ``tests/test_cuba_lif_lava.py`` reads:
the corner neurons that start at reset and the first random ones, the first ``--vector-steps``
steps of each, one column per neuron.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import importlib.util
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

try:
    import neurogate as ng
except ImportError:  # run from a checkout with another interpreter: use the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import neurogate as ng

MAX_UV = 1 << 23
A_MIN, A_MAX = -(1 << 15), (1 << 15) - 1


def package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


# -- what to run ----------------------------------------------------------------------------
@dataclass
class Run:
    """One Lava ``LIF`` process: shared ``du``, ``dv``, ``vth``; one column per neuron."""

    name: str
    du: int
    dv: int
    vth: int
    bias_mant: list[int] = field(default_factory=list)
    bias_exp: list[int] = field(default_factory=list)
    stimuli: list[np.ndarray] = field(default_factory=list)
    u0: list[int] = field(default_factory=list)
    v0: list[int] = field(default_factory=list)

    def add(self, a_in, bias_mant=0, bias_exp=0, u0=0, v0=0) -> Run:
        self.stimuli.append(np.asarray(a_in, dtype=np.int64))
        self.bias_mant.append(int(bias_mant))
        self.bias_exp.append(int(bias_exp))
        self.u0.append(int(u0))
        self.v0.append(int(v0))
        return self

    def stimulus(self) -> np.ndarray:
        """The ``(T, n)`` input, columns padded with zeros to the longest."""
        steps = max(len(s) for s in self.stimuli)
        a = np.zeros((steps, len(self.stimuli)), dtype=np.int64)
        for i, s in enumerate(self.stimuli):
            a[: len(s), i] = s
        return a


def trunc0(p: int) -> int:
    """``sign(p) * (|p| >> 12)``: Lava's decay shift, in Python integers."""
    return -((-p) >> 12) if p < 0 else p >> 12


def drive_to(target: int, du: int) -> list[int]:
    """An ``a_in`` sequence from ``u = 0`` after which the pre-wrap current is ``target``.

    Greedy: full drive toward the target until some input lands on it exactly. Planned with
    Python integers (Lava and neurogate then both run it); raises if it finds none.
    """
    c = 4095 - du
    u, seq = 0, []
    for _ in range(64):
        d = trunc0(u * c)
        gap = target - d
        if gap % 64 == 0 and A_MIN <= gap // 64 <= A_MAX:
            return [*seq, gap // 64]
        full = A_MAX if target > 0 else A_MIN
        step = full
        for a in range(full, 0, -1) if full > 0 else range(full, 0):
            nxt = d + 64 * a
            if not -MAX_UV < nxt <= MAX_UV:
                continue
            rem = target - trunc0(nxt * c)
            if rem % 64 == 0 and A_MIN <= rem // 64 <= A_MAX:
                step = a
                break
        seq.append(step)
        u = d + 64 * step
        u = u - 2 * MAX_UV if u > MAX_UV else u + 2 * MAX_UV if u <= -MAX_UV else u
    raise ValueError(f"no input sequence reaches u = {target} with du = {du}")


def stimulus(rng, kind: str, steps: int) -> np.ndarray:
    """A random 16-bit signed stimulus of one of several shapes."""
    if kind == "full":
        return rng.integers(A_MIN, A_MAX, size=steps, endpoint=True)
    if kind == "extremes":
        return rng.choice([A_MIN, A_MAX, 0, -1, 1], size=steps)
    if kind == "small":
        return rng.integers(-300, 300, size=steps, endpoint=True)
    if kind == "sparse":
        a = rng.integers(A_MIN, A_MAX, size=steps, endpoint=True)
        return np.where(rng.random(steps) < 0.05, a, 0)
    if kind == "blocks":  # piecewise constant: long pushes to the wrap and the clip, then decay
        out, t = np.zeros(steps, dtype=np.int64), 0
        while t < steps:
            length = int(rng.integers(1, 80))
            out[t : t + length] = rng.choice([A_MAX, A_MIN, 0, int(rng.integers(A_MIN, A_MAX))])
            t += length
        return out
    if kind == "mixed":
        a = rng.integers(-2000, 2000, size=steps, endpoint=True)
        return np.where(rng.random(steps) < 0.03, rng.choice([A_MIN, A_MAX], size=steps), a)
    raise ValueError(kind)


KINDS = ("full", "extremes", "small", "sparse", "blocks", "mixed")


def pick(rng, lo: int, hi: int, edges) -> int:
    """Uniform in ``lo..hi``, or one of ``edges`` a fifth of the time."""
    if rng.random() < 0.2:
        return int(rng.choice(edges))
    return int(rng.integers(lo, hi, endpoint=True))


def random_run(rng, index: int, steps: int, n: int) -> Run:
    vth = pick(rng, 0, 131071, [0, 1, 131071])
    if rng.random() < 0.4:  # thresholds a working neuron reaches
        vth = int(2 ** rng.uniform(0, 12)) - 1
    run = Run(
        f"random {index}",
        du=pick(rng, 0, 4095, [0, 1, 4094, 4095]),
        dv=pick(rng, 0, 4095, [0, 1, 4094, 4095]),
        vth=vth,
    )
    for _ in range(n):
        run.add(
            stimulus(rng, str(rng.choice(KINDS)), steps),
            bias_mant=pick(rng, -4096, 4095, [-4096, -1, 0, 1, 4095]),
            bias_exp=pick(rng, 0, 7, [0, 7]),
        )
    return run


def corner_runs(rng, steps: int) -> list[Run]:
    """Fixed corner cases; neurons start at reset unless ``u0``/``v0`` are given."""

    def tail(prefix):
        rest = stimulus(rng, "full", steps - len(prefix))
        return np.concatenate([np.asarray(prefix, dtype=np.int64), rest])

    runs = []
    targets = [MAX_UV, MAX_UV + 1, MAX_UV + 64, MAX_UV - 1, -MAX_UV, -MAX_UV + 1, -MAX_UV - 1]
    for du, dv, vth in [(0, 4095, 131071), (7, 0, 0), (100, 2048, 1000)]:
        run = Run(f"u wrap edges du={du}", du=du, dv=dv, vth=vth)
        for target in targets:
            run.add(tail(drive_to(target, du)))
        run.add(np.full(steps, A_MAX))  # wraps again and again
        run.add(np.full(steps, A_MIN))
        runs.append(run)
    run = Run("v clip", du=0, dv=0, vth=131071)
    run.add(np.full(steps, A_MIN), bias_mant=-4096, bias_exp=7)  # sits at -(2**23 - 1)
    run.add(np.full(steps, A_MAX), bias_mant=4095, bias_exp=7)  # clipped, spikes every time
    run.add(np.full(steps, A_MIN), bias_mant=4095, bias_exp=7)
    run.add(stimulus(rng, "blocks", steps), bias_mant=-4096, bias_exp=7)
    runs.append(run)
    for du, dv in [(4095, 4095), (4095, 0), (0, 4095), (0, 0)]:
        run = Run(f"decay du={du} dv={dv}", du=du, dv=dv, vth=int(rng.integers(0, 2000)))
        for kind in ("full", "extremes", "small", "sparse"):
            run.add(stimulus(rng, kind, steps), bias_mant=int(rng.integers(-200, 200)))
        runs.append(run)
    run = Run("negative u, truncation toward zero", du=2048, dv=1, vth=131071)
    for a in (-1, -5, -32768, -77):
        run.add([a] + [0] * (steps - 1))
    run.add([-3, 0, 0, 0, -1000] + [0] * (steps - 5), bias_mant=-1, bias_exp=0)
    runs.append(run)
    run = Run("vth = 0, huge bias", du=300, dv=300, vth=0)
    for bm, be in [(4095, 7), (-4096, 7), (1, 0), (-1, 0), (0, 0)]:
        run.add(stimulus(rng, "mixed", steps), bias_mant=bm, bias_exp=be)
    runs.append(run)
    run = Run("preset states at the bounds", du=0, dv=0, vth=131071)
    for u0, v0, kind in [
        (MAX_UV, MAX_UV - 1, "extremes"),
        (-MAX_UV + 1, -MAX_UV + 1, "extremes"),
        (MAX_UV, 0, "full"),
        (MAX_UV - 1, -MAX_UV + 1, "blocks"),
        (-1, 1, "small"),
    ]:
        run.add(stimulus(rng, kind, steps), u0=u0, v0=v0)
    runs.append(run)
    return runs


# -- Lava -----------------------------------------------------------------------------------
def run_lava(run: Run):
    """Run Lava's ``LIF`` with ``PyLifModelBitAcc``; return ``(u, v, s_out)``, each ``(T, n)``."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source
    from lava.proc.lif.models import PyLifModelBitAcc
    from lava.proc.lif.process import LIF
    from lava.proc.monitor.process import Monitor

    a = run.stimulus()
    steps, n = a.shape
    source = Source(data=a.T)
    lif = LIF(
        shape=(n,),
        du=run.du,
        dv=run.dv,
        vth=run.vth,
        bias_mant=np.array(run.bias_mant),
        bias_exp=np.array(run.bias_exp),
        u=np.array(run.u0),
        v=np.array(run.v0),
    )
    sink = Sink(shape=(n,), buffer=steps)
    source.s_out.connect(lif.a_in)
    lif.s_out.connect(sink.a_in)
    mon_u, mon_v = Monitor(), Monitor()
    mon_u.probe(lif.u, steps)
    mon_v.probe(lif.v, steps)
    try:
        lif.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        if lif.model_class is not PyLifModelBitAcc:
            raise SystemExit(f"Lava selected {lif.model_class}, not PyLifModelBitAcc")
        u = mon_u.get_data()[lif.name]["u"]
        v = mon_v.get_data()[lif.name]["v"]
        s = sink.data.get().T
    finally:
        lif.stop()
    out = []
    for x in (u, v, s):
        x = np.asarray(x)
        xi = x.astype(np.int64)
        if x.shape != (steps, n) or not np.array_equal(xi, x):  # Monitors hold float64
            raise SystemExit(f"unexpected Lava trace: shape {x.shape}, dtype {x.dtype}")
        out.append(xi)
    return tuple(out)


# -- neurogate ------------------------------------------------------------------------------
def run_neurogate(run: Run):
    """``(u, v, spike)`` from neurogate, one ``cuba_lif`` component per neuron."""
    a = run.stimulus()
    steps, n = a.shape
    u, v, s = (np.zeros((steps, n), dtype=np.int64) for _ in range(3))
    for i in range(n):
        comp = ng.component(
            "cuba_lif",
            du=run.du,
            dv=run.dv,
            vth=run.vth,
            bias_mant=run.bias_mant[i],
            bias_exp=run.bias_exp[i],
        )
        if run.u0[i] == 0 and run.v0[i] == 0:  # from reset: the parallel model
            out = comp.model(1).run({"a_in": a[:, i : i + 1]})
            u[:, i], v[:, i], s[:, i] = out["u"][:, 0], out["v"][:, 0], out["spike"][:, 0]
            continue
        state = {"u": np.array([run.u0[i]]), "v": np.array([run.v0[i]])}  # preset: the kernel
        for t in range(steps):
            state, spike = comp.update_np(state, {"a_in": a[t, i : i + 1]})
            u[t, i], v[t, i], s[t, i] = state["u"][0], state["v"][0], spike[0]
    return u, v, s


def compare(run: Run, lava, ours) -> None:
    a = run.stimulus()
    bad = np.zeros(a.shape, dtype=bool)
    for x, y in zip(lava, ours, strict=True):
        bad |= x != y
    if not bad.any():
        return
    t, i = (int(x) for x in np.argwhere(bad)[0])
    params = (
        f"du={run.du} dv={run.dv} vth={run.vth} bias_mant={run.bias_mant[i]} "
        f"bias_exp={run.bias_exp[i]} u0={run.u0[i]} v0={run.v0[i]}"
    )
    u_prev, v_prev = (lava[0][t - 1, i], lava[1][t - 1, i]) if t else (run.u0[i], run.v0[i])
    before = f"u={u_prev} v={v_prev}"
    raise SystemExit(
        f"cuba_lif disagrees with PyLifModelBitAcc in run {run.name!r}, neuron {i} ({params}) "
        f"at step {t} (from {before}, a_in={a[t, i]}): Lava u={lava[0][t, i]} v={lava[1][t, i]} "
        f"s_out={lava[2][t, i]}, neurogate u={ours[0][t, i]} v={ours[1][t, i]} "
        f"spike={ours[2][t, i]}"
    )


# -- known-answer vectors ---------------------------------------------------------------------
def write_vectors(path: Path, results, columns: int, steps: int, argv) -> None:
    """Save the first ``columns`` reset-start neurons (corners first), ``steps`` steps each."""
    keys = ("du", "dv", "vth", "bias_mant", "bias_exp", "corner", "a_in", "u", "v", "s")
    cols = {k: [] for k in keys}
    for run, (u, v, s) in results:
        a = run.stimulus()
        for i in range(a.shape[1]):
            if run.u0[i] or run.v0[i] or len(cols["du"]) == columns:
                continue
            for key in ("du", "dv", "vth"):
                cols[key].append(getattr(run, key))
            cols["bias_mant"].append(run.bias_mant[i])
            cols["bias_exp"].append(run.bias_exp[i])
            cols["corner"].append(not run.name.startswith("random"))
            for key, x in (("a_in", a), ("u", u), ("v", v), ("s", s)):
                cols[key].append(x[:steps, i])
    dtypes = {"du": np.uint16, "dv": np.uint16, "vth": np.int32, "bias_mant": np.int16}
    data = {key: np.array(cols[key], dtype=dtype) for key, dtype in dtypes.items()}
    data["bias_exp"] = np.array(cols["bias_exp"], dtype=np.uint8)
    data["corner"] = np.array(cols["corner"], dtype=bool)  # a fixed corner case, not random
    for key, dtype in (("a_in", np.int16), ("u", np.int32), ("v", np.int32), ("s", np.uint8)):
        data["spike" if key == "s" else key] = np.array(cols[key], dtype=dtype).T  # (T, n)
    data["source"] = np.array(
        f"lava-nc {package_version('lava-nc')} PyLifModelBitAcc, NumPy {np.__version__}, "
        f"Python {sys.version.split()[0]}; PYTHONPATH=. python benchmarks/crosscheck_lava.py "
        + " ".join(argv)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **data)
    steps, n = data["u"].shape
    print(f"wrote {path}: {n} neurons x {steps} steps, {path.stat().st_size} bytes")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40, help="random Lava runs (du, dv, vth)")
    parser.add_argument("--neurons", type=int, default=32, help="neurons per random run")
    parser.add_argument("--steps", type=int, default=400, help="steps per run")
    parser.add_argument("--seed", type=int, default=2026, help="seed of every random choice")
    parser.add_argument("--write-vectors", type=Path, help="also write known-answer vectors here")
    parser.add_argument("--vector-columns", type=int, default=96, help="neurons in the file")
    parser.add_argument("--vector-steps", type=int, default=160, help="steps in the file")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("lava") is None:
        print(
            "lava-nc is not importable here; see this script's docstring to install it in a "
            "separate Python 3.10 virtual environment. Nothing checked."
        )
        return 0
    print(
        f"neurogate {ng.__version__}, lava-nc {package_version('lava-nc')}, "
        f"NumPy {np.__version__}, Python {sys.version.split()[0]}"
    )
    rng = np.random.default_rng(args.seed)
    runs = corner_runs(rng, args.steps)
    runs += [random_run(rng, k, args.steps, args.neurons) for k in range(args.runs)]
    results, sets, neuron_steps, seconds = [], 0, 0, [0.0, 0.0]
    for run in runs:
        start = time.perf_counter()
        lava = run_lava(run)
        middle = time.perf_counter()
        ours = run_neurogate(run)
        seconds[0] += middle - start
        seconds[1] += time.perf_counter() - middle
        compare(run, lava, ours)
        results.append((run, lava))
        sets += len(run.stimuli)
        neuron_steps += lava[0].size
    corners = sum(len(r.stimuli) for r in runs if not r.name.startswith("random"))
    spikes = sum(int(lava[2].sum()) for _, lava in results)
    print(
        f"cuba_lif == PyLifModelBitAcc (s_out, u, v every step): {len(runs)} Lava runs, "
        f"{sets} parameter sets ({corners} corner cases), {neuron_steps} neuron-steps, "
        f"{spikes} spikes; Lava {seconds[0]:.0f} s, neurogate {seconds[1]:.0f} s"
    )
    u_all = np.concatenate([lava[0].ravel() for _, lava in results])
    v_all = np.concatenate([lava[1].ravel() for _, lava in results])
    print(
        f"reached: u = 2**23 {int((u_all == MAX_UV).sum())} times, u min {u_all.min()}, "
        f"v = -(2**23 - 1) {int((v_all == -MAX_UV + 1).sum())} times"
    )
    if args.write_vectors:
        write_vectors(args.write_vectors, results, args.vector_columns, args.vector_steps, argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
