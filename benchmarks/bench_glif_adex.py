#!/usr/bin/env python3
"""``glif`` (models 1-5) and ``adex``: NumPy speed, fidelity (with plots), and synthesis.

    OMP_NUM_THREADS=1 python benchmarks/bench_glif_adex.py speed --n 10000
    python benchmarks/bench_glif_adex.py fidelity --plot benchmarks/glif_adex_fidelity.png
    python benchmarks/bench_glif_adex.py synth --arch up5k          # one neuron, 1024 core

``speed`` times ``model(n).run`` per step (best of ``--repeat``, wall clock and CPU time).
``fidelity`` runs 500 ms (dt = 0.1 ms) of constant and noisy (Ornstein-Uhlenbeck, tau 5 ms)
currents: ``glif`` against NEST 3.10's own traces in tests/data/glif_nest_traces.npz and against
the float64 reference :func:`~neurogate.plugins.neurons.glif.glif_float`, ``adex`` against
:func:`~neurogate.plugins.neurons.adex.adex_float` (three parameter sets), and for the bursting
AdEx the float64 model against itself with the current scaled by 1 +- 1e-4 (how sensitive the
reference itself is). ``synth`` synthesises one parallel neuron and a 1024-neuron
:class:`NeuronCore` (EBR on the UP5K, block RAM on the ECP5-85F; when it fits) with the YoWASP
flow of bench_synth.py, DSPs allowed (``--only`` picks by label). ``--stages 0 2`` builds one
core per number of pipeline cuts (the kernel's ``stages``; default: its default) and prints
its cycles per timestep and real-time factor at Fmax; ``--one-pass`` takes the area from the
harness's Yosys run (see bench_hh_elm.py).

    nice -n 10 python benchmarks/bench_glif_adex.py synth --arch ecp5 --models adex,=5 \
        --only core --stages 0 3 --one-pass
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import neurogate as ng
from neurogate.gateware.neuron_core import NeuronCore
from neurogate.plugins.neurons.adex import adex_float
from neurogate.plugins.neurons.glif import glif_float
from neurogate.testing import ou_current as ou
from neurogate.testing import spike_match

ROOT = Path(__file__).resolve().parent.parent
TRACES = ROOT / "tests" / "data" / "glif_nest_traces.npz"
#: AdEx parameter sets: Brette & Gerstner's defaults, a bursting set and one with a < 0.
ADEX = {
    "default": {},
    "burst": {"C": 200.0, "g_L": 10.0, "E_L": -58.0, "V_T": -50.0, "delta_T": 2.0,
              "tau_w": 120.0, "a": 2.0, "b": 100.0, "V_reset": -46.0, "V_peak": 0.0,
              "dt": 0.05},
    "neg_a": {"C": 100.0, "g_L": 12.0, "E_L": -60.0, "V_T": -42.0, "delta_T": 0.8,
              "tau_w": 30.0, "a": -11.0, "b": 0.0, "V_reset": -51.0, "V_peak": -30.0,
              "dt": 0.1},
}  # fmt: skip


def kernels() -> dict:
    out = {f"glif model={k}": ng.component("glif", model=k) for k in range(1, 6)}
    out["adex"] = ng.component("adex")
    return out


def speed(args) -> None:
    rng = np.random.default_rng(1)
    clocks = {"wall": time.perf_counter, "CPU": time.process_time}
    cur = rng.integers(200 << 8, 600 << 8, size=(args.steps, args.n))
    for label, neuron in kernels().items():
        best = {key: math.inf for key in clocks}
        for _ in range(args.repeat):
            model = neuron.model(args.n)
            t0 = {key: clock() for key, clock in clocks.items()}
            model.run({"i_in": cur})
            for key, clock in clocks.items():
                best[key] = min(best[key], clock() - t0[key])
        per = {key: best[key] / args.steps for key in clocks}
        print(f"{label:16} n={args.n}: {per['CPU'] * 1e3:7.3f} ms/step CPU "
              f"({args.n / per['CPU'] / 1e6:6.2f} M neuron-updates/s), "
              f"{per['wall'] * 1e3:7.3f} ms/step wall", flush=True)  # fmt: skip


def _row(label, got, ref, rms, window):
    ratio = got.size / ref.size if ref.size else float("nan")
    match = spike_match(ref, got, window)
    ok = abs(got.size - ref.size) <= 0.02 * ref.size and match >= 0.9
    print(f"| {label} | {ref.size} | {got.size} | {ratio:.3f} | {match:.3f} | {rms:.2e} | "
          f"{'yes' if ok else '**no**'} |")  # fmt: skip


def fidelity(args) -> None:
    rng = np.random.default_rng(args.seed)
    head = (
        "| trace | reference spikes | fixed-point spikes | count ratio | within 1 ms "
        "| V RMS (mV) | bounds hold |"
    )
    print("\n### glif against NEST 3.10 (tests/data/glif_nest_traces.npz)\n")
    print(head + "\n|---|---|---|---|---|---|---|")
    data = np.load(TRACES)
    cur = data["currents"]
    names = ["275 pA", "400 pA", "500 pA", "noisy 300 +- 100 pA"]
    plots = []
    for model in range(1, 6):
        neuron = ng.component("glif", model=model)
        out = neuron.model(cur.shape[0]).run({"i_in": np.rint(cur.T * 256).astype(np.int64)})
        for i, name in enumerate(names):
            ref = data[f"m{model}_c{i}_spikes"]
            got = np.flatnonzero(out["spike"][:, i])
            v = out["v"][9::10, i] / (1 << 20) + neuron.E_L
            rms = float(np.sqrt(np.mean((v - data[f"m{model}_c{i}_vm"]) ** 2)))
            _row(f"GLIF{model}, {name}", got, ref, rms, 10)
        if model == 5:
            v5 = out["v"][9::10, 3] / (1 << 20) + neuron.E_L
            plots.append(
                ("GLIF5 vs NEST, noisy", np.arange(9, 5000, 10) * 0.1, data["m5_c3_vm"], v5)
            )
    print("\n### glif against its float64 reference (noisy, seeded)\n")
    print(head + "\n|---|---|---|---|---|---|---|")
    for model in range(1, 6):
        neuron = ng.component("glif", model=model)
        current = np.array([320.0, 450.0, 600.0]) + ou(rng, 5000, 3, 0.1, sd=150.0)
        raw = np.rint(current * 256).astype(np.int64)
        out = neuron.model(3).run({"i_in": raw})
        v, s = glif_float(neuron, raw / 256)
        for i, mean in enumerate((320, 450, 600)):
            got, ref = np.flatnonzero(out["spike"][:, i]), np.flatnonzero(s[:, i])
            rms = float(np.sqrt(np.mean((out["v"][:, i] / (1 << 20) + neuron.E_L - v[:, i]) ** 2)))
            _row(f"GLIF{model}, noisy {mean} +- 150 pA", got, ref, rms, 10)
    print("\n### adex against float64\n")
    print(head + "\n|---|---|---|---|---|---|---|")
    for label, params in ADEX.items():
        neuron = ng.component("adex", **params)
        steps = round(500 / neuron.dt)
        levels = np.array([500.0, 700.0, 1000.0, 1500.0, 3000.0])
        current = np.concatenate(
            [np.broadcast_to(levels, (steps, 5)), levels + ou(rng, steps, 5, neuron.dt)], axis=1
        )
        raw = np.rint(current * 256).astype(np.int64)
        out = neuron.model(10).run({"i_in": raw})
        v, _, s = adex_float(neuron, raw / 256)
        window = round(1 / neuron.dt)
        for i in range(10):
            name = f"{levels[i % 5]:g} pA" + (" + noise" if i >= 5 else "")
            got, ref = np.flatnonzero(out["spike"][:, i]), np.flatnonzero(s[:, i])
            rms = float(np.sqrt(np.mean((out["v"][:, i] / (1 << 16) - v[:, i]) ** 2)))
            _row(f"adex {label}, {name}", got, ref, rms, window)
        if label == "default":
            t = np.arange(steps) * neuron.dt
            plots.append(("AdEx default vs float64, 1000 pA + noise", t, v[:, 7],
                          out["v"][:, 7] / (1 << 16)))  # fmt: skip
        if label == "burst":
            print("\nbursting AdEx, float64 against float64 with I * (1 + eps):")
            for lvl in levels:
                base = adex_float(neuron, np.full(steps, lvl))[2].sum()
                moved = [adex_float(neuron, np.full(steps, lvl * (1 + e)))[2].sum()
                         for e in (1e-4, -1e-4)]  # fmt: skip
                print(f"  {lvl:g} pA: {base} spikes; eps = +-1e-4: {[int(x) for x in moved]}")
            cur = 600.0 + ou(np.random.default_rng(5), steps, 24, neuron.dt)
            cur = np.rint(cur * 256) / 256
            s1, s2 = adex_float(neuron, cur)[2], adex_float(neuron, cur * (1 + 1e-4))[2]
            bad = 0
            for i in range(24):
                a, b = np.flatnonzero(s1[:, i]), np.flatnonzero(s2[:, i])
                bad += not (
                    abs(b.size - a.size) <= 0.02 * a.size and spike_match(a, b, window) >= 0.9
                )
            print(
                f"  600 pA + noise, 24 seeds: the bounds fail for {bad} of 24 (float64 vs itself)"
            )
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(len(plots), 1, figsize=(9, 2.6 * len(plots)))
        for ax, (title, t, ref, got) in zip(axes, plots, strict=True):
            ax.plot(t, ref, lw=0.8, label="reference")
            ax.plot(t, got, lw=0.8, ls="--", label="fixed point")
            ax.set_title(title, fontsize=9)
            ax.set_ylabel("V (mV)")
        axes[0].legend(loc="upper right", fontsize=8)
        axes[-1].set_xlabel("t (ms)")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=80)
        print(f"wrote {args.plot}")


def synth(args) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from amaranth.back import verilog
    from bench_synth import cells_by_type, columns, place_route, yosys

    from neurogate.boards.top import GatewareHarness

    memory = "bram" if args.arch == "ecp5" else "ebr"
    builds = {}
    for label, neuron in kernels().items():
        if args.models and not any(m in label for m in args.models.split(",")):
            continue
        builds[f"{label}, one parallel neuron"] = (neuron.create, None)
        most = NeuronCore.max_neurons(neuron, memory)
        for stages in args.stages or [None]:
            cell = neuron if stages is None else neuron.replace(stages=stages)
            if args.core and args.core <= most:
                core = NeuronCore(cell, args.core, memory=memory)
                name = f"{label}, core of {args.core} ({memory}), stages={cell.stages}"
                builds[name] = (core.create, core)
            elif args.core:
                print(f"{label}, core of {args.core}: does not fit {memory} (at most {most})")
    for label, (make, core) in builds.items():
        if args.only and args.only not in label:
            continue
        t0 = time.perf_counter()
        if args.one_pass:
            from bench_hh_elm import one_pass

            with tempfile.TemporaryDirectory() as tmp:
                cells, fmax = one_pass(label, make, Path(tmp), args.arch, args.seeds, args.freq)
            best = max(fmax) if fmax else None
            timing = ""
            if core is not None and best:
                factor = best * 1e6 / core.cycles_per_step * core.kernel.dt * 1e-3
                timing = (f", {core.cycles_per_step} cycles per step, {factor:.3f}x real time "
                          f"at dt = {core.kernel.dt} ms")  # fmt: skip
            print(f"{label} on {args.arch}: {columns(cells, args.arch)}, Fmax {best} MHz"
                  f"{timing} ({time.perf_counter() - t0:.0f} s)", flush=True)  # fmt: skip
            continue
        with tempfile.TemporaryDirectory() as tmp:
            # bench_synth.synthesise_gateware's steps, so that the area is printed even when
            # place and route fails (e.g. more DSPs than the device has)
            work = Path(tmp)
            (work / "dut.v").write_text(verilog.convert(make(), name="dut", emit_src=False))
            yosys(work, "dut.v", "dut", args.arch, True, "stat")
            area = columns(cells_by_type(work / "stat.json", "dut"), args.arch)
            print(f"{label} on {args.arch}: {area} ({time.perf_counter() - t0:.0f} s)", flush=True)
            top = GatewareHarness(make())
            text = verilog.convert(top, name="top", ports=[top.sin, top.sout], emit_src=False)
            (work / "top.v").write_text(text)
            yosys(work, "top.v", "top", args.arch, True, "json")
            try:
                fmax = place_route(work, args.arch, args.seeds, args.freq, label)
            except RuntimeError as exc:
                print(f"  place and route failed: {exc}", flush=True)
                continue
        best = max(fmax) if fmax else None
        print(f"  Fmax {best} MHz ({time.perf_counter() - t0:.0f} s)", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("speed")
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--repeat", type=int, default=3)
    p = sub.add_parser("fidelity")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--plot", type=Path)
    p = sub.add_parser("synth")
    p.add_argument("--arch", default="up5k", choices=("ecp5", "up5k"))
    p.add_argument("--core", type=int, default=1024, help="neurons of the core (0: none)")
    p.add_argument("--models", default="", help="comma-separated label parts, e.g. adex,=5")
    p.add_argument("--only", default="")
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--freq", type=float, default=30.0)
    p.add_argument("--stages", type=int, nargs="+", help="pipeline cuts, one core each")
    p.add_argument("--one-pass", action="store_true", help="one Yosys run (area in the harness)")
    args = parser.parse_args(argv)
    {"speed": speed, "fidelity": fidelity, "synth": synth}[args.cmd](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
