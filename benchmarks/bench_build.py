#!/usr/bin/env python3
"""Build the example networks for boards with ``neurogate.boards.build``; tabulate area, Fmax, time.

Each (design, board) pair is built three ways:

* **cold**: the first build on a machine, YoWASP compiling each tool's WebAssembly first (a
  fresh ``YOWASP_CACHE_DIR``; only with ``--cold``, for the first design of each board family);
* **warm**: the tools compiled, the build itself run (neurogate's build cache bypassed);
* **cached**: the same build again, copied from neurogate's build cache.

Designs: ``feedforward`` and ``classifier`` (the files in examples/), and two 1024-neuron LIF
networks built here (UP5K targets only): ``lif1024`` (a value input writes each neuron's
current) and ``lif1024_dense`` (16 spike inputs into 1024 LIF neurons through a 4-bit dense
layer, weights in block RAM). A network is built as ``neurogate build`` builds it, behind the
UART host link on the board's pins; ``--alone`` also builds each network's gateware without the
link, in the measurement harness of :mod:`neurogate.boards.top` (inputs from a shift register
on the rx pin, the XOR of the outputs on tx), for the cost of the network itself.

    pip install -e ".[build]"
    python benchmarks/bench_build.py --cold --alone --markdown
    python benchmarks/bench_build.py --designs feedforward --boards icebreaker
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import neurogate as ng

ROOT = Path(__file__).resolve().parent.parent
UP5K = ("iCE40UP5K",)


def lif1024() -> ng.Network:
    net = ng.Network("lif1024")
    net.input("drive", size=1024, kind="value", width=16, signed=True)
    net.population("n", "lif", size=1024)
    net.connect("drive", "n", delay=0)
    return net


def lif1024_dense() -> ng.Network:
    rng = np.random.default_rng(1)
    net = ng.Network("lif1024_dense")
    net.input("x", size=16)
    net.population("n", "lif", size=1024)
    net.connect("x", "n", "dense", weights=rng.integers(-8, 8, (16, 1024)), weight_bits=4)
    return net


DESIGNS = {
    "feedforward": (lambda: ng.load_design(ROOT / "examples" / "feedforward.toml"), None),
    "classifier": (
        lambda: ng.load_design(ROOT / "examples" / "classifier" / "classifier.toml"),
        None,
    ),
    "lif1024": (lif1024, UP5K),
    "lif1024_dense": (lif1024_dense, UP5K),
}


def alone(net):
    from neurogate.gateware.network import NetworkGateware

    return NetworkGateware(net)


def one(design, board, out: Path, label: str, *, cold: bool, seed: int) -> dict:
    row = {"design": label, "board": board}
    if cold:
        with tempfile.TemporaryDirectory(prefix="yowasp-cold-") as wasm:
            saved = os.environ.get("YOWASP_CACHE_DIR")
            os.environ["YOWASP_CACHE_DIR"] = wasm
            try:
                t0 = time.perf_counter()
                ng.boards.build(design, board, out / "cold", name=label, seed=seed,
                                cache=False, progress=False)  # fmt: skip
                row["cold_s"] = round(time.perf_counter() - t0, 1)
            finally:
                if saved is None:
                    del os.environ["YOWASP_CACHE_DIR"]
                else:
                    os.environ["YOWASP_CACHE_DIR"] = saved
    t0 = time.perf_counter()
    try:  # a cache miss (the cold build is not stored): the tools run, the result is stored
        result = ng.boards.build(design, board, out / "warm", name=label, seed=seed,
                                 progress=False)  # fmt: skip
    except ng.boards.BuildError as exc:
        row.update(error=str(exc), report=exc.report)
        return row
    assert not result.cached
    row["warm_s"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    again = ng.boards.build(design, board, out / "cached", name=label, seed=seed, progress=False)
    assert again.cached
    row["cached_s"] = round(time.perf_counter() - t0, 1)
    rep = result.report
    util = rep["utilisation"]
    (clock,) = rep["clocks"].values()
    row.update(
        device=rep["device"],
        lut4=rep["cells"]["lut"],
        carry=rep["cells"]["carry"],
        ff=rep["cells"]["ff"],
        logic=f"{util['logic']['used']}/{util['logic']['available']}",
        bram=f"{util['bram']['used']}/{util['bram']['available']}",
        spram=f"{util['spram']['used']}/{util['spram']['available']}" if "spram" in util else "",
        dsp=f"{util['dsp']['used']}/{util['dsp']['available']}",
        fmax_mhz=clock["achieved_mhz"],
        target_mhz=clock["requested_mhz"],
        tools_s=rep["seconds"],
    )
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--designs", default=",".join(DESIGNS), help="comma list (default: all)")
    parser.add_argument("--boards", default="icebreaker,ulx3s_85f", help="comma list of boards")
    parser.add_argument("--cold", action="store_true",
                        help="also time a cold build (fresh YoWASP cache) per board")  # fmt: skip
    parser.add_argument("--alone", action="store_true",
                        help="also build each network without the host link (harness)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=1, help="nextpnr seed (default: 1)")
    parser.add_argument("--json", metavar="FILE", help="write the rows as JSON")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)

    designs = [d.strip() for d in args.designs.split(",") if d.strip()]
    unknown = [d for d in designs if d not in DESIGNS]
    if unknown:
        parser.error(f"unknown designs: {', '.join(unknown)} (choose from {', '.join(DESIGNS)})")
    boards = [b.strip() for b in args.boards.split(",") if b.strip()]
    for b in boards:
        try:
            ng.boards.board(b)
        except ng.boards.UnknownBoardError as exc:
            parser.error(str(exc))
    tc = ng.boards.get_toolchain()
    versions = tc.versions(["yosys", "nextpnr-ice40", "nextpnr-ecp5"])
    print(f"# neurogate {ng.__version__}; {', '.join(versions.values())}; "
          f"{platform.machine()} {os.cpu_count()} cores; seed {args.seed}", flush=True)  # fmt: skip
    rows = []
    with tempfile.TemporaryDirectory(prefix="ng-bench-build-") as tmp:
        os.environ["NEUROGATE_CACHE_DIR"] = str(Path(tmp) / "cache")
        for board in boards:
            device = ng.boards.board(board).device
            first = True
            for name in designs:
                make, only = DESIGNS[name]
                if only and device not in only:
                    continue
                variants = [(f"{name}+hostlink", lambda make=make: make())]
                if args.alone:
                    variants.insert(0, (name, lambda make=make: alone(make())))
                for label, build_design in variants:
                    try:
                        design = build_design()
                    except ImportError as exc:
                        print(f"{label:<24} {board:<11} skipped: {exc}", flush=True)
                        continue
                    out = Path(tmp) / f"{label}-{board}"
                    row = one(design, board, out, label, cold=args.cold and first, seed=args.seed)
                    first = False
                    rows.append(row)
                    if "error" in row:
                        print(f"{label:<24} {board:<11} FAILED: {row['error']}", flush=True)
                        continue
                    cold = f"cold {row['cold_s']:>5.1f} s  " if "cold_s" in row else ""
                    print(f"{label:<24} {board:<11} LUT4 {row['lut4']:>5} FF {row['ff']:>5} "
                          f"logic {row['logic']:>11} BRAM {row['bram']:>7} "
                          f"SPRAM {row['spram'] or '-':>4} DSP {row['dsp']:>6} "
                          f"Fmax {row['fmax_mhz']:>6.2f}/{row['target_mhz']:g} MHz  {cold}"
                          f"warm {row['warm_s']:>5.1f} s  cached {row['cached_s']:.1f} s",
                          flush=True)  # fmt: skip
    if args.markdown:
        print("\n| design | board | LUT4 | carry | FF | logic cells / LUT sites | block RAM | "
              "SPRAM | DSP | Fmax (MHz) | target | cold (s) | warm (s) | cached (s) |")  # fmt: skip
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            if "error" in r:
                print(f"| {r['design']} | {r['board']} | failed: {r['error']} |")
                continue
            print(f"| {r['design']} | {r['board']} | {r['lut4']} | {r['carry']} | {r['ff']} | "
                  f"{r['logic']} | {r['bram']} | {r['spram'] or '-'} | {r['dsp']} | "
                  f"{r['fmax_mhz']:.2f} | {r['target_mhz']:g} | {r.get('cold_s', '')} | "
                  f"{r['warm_s']} | {r['cached_s']} |")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
