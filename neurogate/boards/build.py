"""The build flow: a design to a bitstream, a Verilog file and a report, for one board.

:func:`build` wraps the design's gateware for the board (:func:`neurogate.boards.top.wrap`),
lets Amaranth's platform write the build plan (RTLIL, the Yosys script, the pin constraints
and the tool command lines, exactly as ``platform.build()`` would run them), then runs those
commands itself with the chosen toolchain (:mod:`neurogate.boards.toolchain`), so that it can
show progress, read the tools' reports (:mod:`neurogate.boards.report`) and turn a design
that does not fit or misses timing into a :class:`BuildError` carrying the report.

A build is cached by a digest of its build plan (which holds the design's RTLIL, the board's
constraints, the seed and the target frequency) and the toolchain's versions: building the same
design for the same board again copies the products from the cache instead of running the
tools. The cache lives in ``NEUROGATE_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/neurogate``
(``~/.cache/neurogate``).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from amaranth.lib import wiring

import neurogate as ng
from neurogate.boards import report as rep
from neurogate.boards.board import Board
from neurogate.boards.toolchain import Toolchain, get_toolchain
from neurogate.boards.top import wrap

__all__ = [
    "BuildError",
    "BuildResult",
    "DesignTooBigError",
    "PreparedBuild",
    "TimingError",
    "UnknownBoardError",
    "board",
    "boards",
    "build",
    "cache_dir",
    "prepare",
    "program",
]

#: Bumped when the report or the cached files change shape (part of the cache digest).
REPORT_VERSION = 1
#: The name of the top-level module and of the tools' files inside the work directory.
TOP = "top"


class BuildError(Exception):
    """A build that ran but failed; :attr:`report` holds what the tools measured, if anything.

    :attr:`out_dir` is the build's folder (its ``report.json`` and the tools' logs in ``work``).
    """

    def __init__(self, message: str, report: dict | None = None, out_dir: Path | None = None):
        super().__init__(message)
        self.report = report
        self.out_dir = out_dir


class DesignTooBigError(BuildError):
    """The design needs more of some resource than the device has."""


class TimingError(BuildError):
    """A clock's achieved Fmax is below the requested frequency."""


class UnknownBoardError(LookupError):
    """No board of that name is registered; the message lists the known ones."""

    def __str__(self) -> str:
        return str(self.args[0])


def boards(pm=None) -> dict[str, Board]:
    """Return ``{name: board}`` of every registered board (built-ins and plugins)."""
    pm = pm or ng.plugin_manager()
    return {name: reg.obj for name, reg in sorted(pm.boards().items())}


def board(name: str | Board, pm=None) -> Board:
    """Return the registered board called ``name`` (a :class:`Board` is returned as it is)."""
    if isinstance(name, Board):
        return name
    known = boards(pm)
    if name in known and isinstance(known[name], Board):
        return known[name]
    if name in known:
        raise UnknownBoardError(
            f"board {name!r} ({type(known[name]).__qualname__}) is not a neurogate.boards.Board"
        )
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise UnknownBoardError(f"unknown board {name!r}{hint}; known boards: {', '.join(known)}")


def cache_dir() -> Path:
    """Return the directory of cached builds."""
    if os.environ.get("NEUROGATE_CACHE_DIR"):
        return Path(os.environ["NEUROGATE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "neurogate" / "builds"


@dataclass
class PreparedBuild:
    """A build plan ready to run: what :func:`prepare` returns."""

    board: Board
    design_name: str
    plan: object  # amaranth.build.run.BuildPlan
    commands: list[list[str]]
    requested_mhz: float
    seed: int
    #: Files the top level adds next to the bitstream (``{file name: text}``, e.g. the host
    #: link's map), from the ``extra_files`` attribute of what :func:`~.top.wrap` returned.
    extra_files: dict
    #: The extra ``synth_*`` options.
    synth_opts: str = ""

    @property
    def tools(self) -> list[str]:
        """The tools the commands run, in order."""
        return [cmd[0] for cmd in self.commands]


@dataclass
class BuildResult:
    """A finished (or cached) build."""

    report: dict
    out_dir: Path
    bitstream: Path
    verilog: Path
    cached: bool
    seconds: float
    #: The other files written next to the bitstream (e.g. ``hostlink.json``).
    extra_files: tuple = ()


def _gateware(design):
    """Return ``(gateware, network or None, name)`` of a design file, network or component."""
    from neurogate.core.network import Network
    from neurogate.gateware.network import NetworkGateware

    if isinstance(design, (str, os.PathLike)):
        design = ng.load_design(design)
    if isinstance(design, Network):
        return NetworkGateware(design), design, design.name
    if isinstance(design, wiring.Component):
        return design, None, type(design).__name__.lower()
    raise TypeError(
        f"design must be a design file, a Network or an Amaranth component, not {design!r}"
    )


def prepare(
    design,
    board_name,
    *,
    seed: int = 1,
    freq: float | None = None,
    name: str | None = None,
    synth_opts: str = "",
) -> PreparedBuild:
    """Elaborate ``design`` for the board and return the build plan, without running any tool.

    Parameters
    ----------
    design : str, os.PathLike, Network or amaranth.lib.wiring.Component
        A TOML design file, a network, or any component clocked by the ``sync`` domain.
    board_name : str or Board
        A registered board (``neurogate boards`` lists them).
    seed : int
        nextpnr's placement seed.
    freq : float, optional
        The target frequency of the design's clock in MHz (default: the board's clock). It is
        a timing target: the bitstream runs on the board's clock.
    name : str, optional
        The design's name in the products' file names (default: the network's name, or the
        component's class name).
    synth_opts : str
        Extra options of Yosys's ``synth_ice40`` / ``synth_ecp5`` (e.g. ``"-nodsp"``).
    """
    target = board(board_name)
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, not {seed!r}")
    if freq is not None and not freq > 0:
        raise ValueError(f"freq must be > 0 MHz, not {freq!r}")
    gateware, network, default_name = _gateware(design)
    name = name or default_name
    plat = target.create_platform(clock_hz=None if freq is None else freq * 1e6)
    mhz = float(freq) if freq is not None else plat.default_clk_frequency / 1e6
    top = wrap(gateware, plat, network=network)
    plan = plat.build(
        top,
        name=TOP,
        do_build=False,
        emit_src=False,
        debug_verilog=True,
        nextpnr_opts=(f"--seed {seed} --freq {mhz:g} --timing-allow-fail --report {TOP}.pnr.json"),
        script_after_synth=f"tee -q -o {TOP}.stat.json stat -json",
        synth_opts=synth_opts,
    )
    commands = json.loads(plan.files[f"build_{TOP}.json"])["commands"]
    extra = dict(getattr(top, "extra_files", None) or {})
    return PreparedBuild(target, name, plan, commands, mhz, seed, extra, synth_opts)


class _Progress:
    """One status line per step: a live elapsed-time line on a terminal, start/end otherwise."""

    def __init__(self, stream):
        self.stream = stream
        self.live = stream is not None and stream.isatty()

    def run(self, label: str, argv: list[str], cwd: Path):
        """Run ``argv`` in ``cwd``; return ``(CompletedProcess, seconds)``."""
        start = time.perf_counter()
        stop = threading.Event()
        if self.stream is not None and not self.live:
            print(f"  {label} ...", file=self.stream, flush=True)
        if self.live:

            def tick():
                frames = "|/-\\"
                i = 0
                while not stop.wait(0.25):
                    took = time.perf_counter() - start
                    print(f"\r  {frames[i % 4]} {label}  {took:5.1f} s", end="", file=self.stream,
                          flush=True)  # fmt: skip
                    i += 1

            thread = threading.Thread(target=tick, daemon=True)
            thread.start()
        try:
            proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
        finally:
            stop.set()
            if self.live:
                thread.join()
        took = time.perf_counter() - start
        if self.stream is not None:
            state = "done" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})"
            line = f"  {label}  {state} in {took:.1f} s"
            print(f"\r{line}   " if self.live else line, file=self.stream, flush=True)
        return proc, took


_LABELS = {
    "yosys": "synthesis (Yosys)",
    "nextpnr-ice40": "place and route (nextpnr-ice40)",
    "nextpnr-ecp5": "place and route (nextpnr-ecp5)",
    "icepack": "bitstream (icepack)",
    "ecppack": "bitstream (ecppack)",
}


# the log file each tool writes (the build plan's command lines name them)
_LOGS = {"yosys": f"{TOP}.rpt", "nextpnr-ice40": f"{TOP}.tim", "nextpnr-ecp5": f"{TOP}.tim"}


def _digest(prepared: PreparedBuild, toolchain: Toolchain, versions: dict) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(prepared.plan.digest())
    h.update(json.dumps([REPORT_VERSION, toolchain.kind, versions], sort_keys=True).encode())
    return h.hexdigest()


def _tail(text: str, n: int = 6) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[-n:])


def build(
    design,
    board_name,
    out_dir=None,
    *,
    seed: int = 1,
    freq: float | None = None,
    name: str | None = None,
    synth_opts: str = "",
    toolchain: str | Toolchain | None = None,
    cache: bool = True,
    progress=True,
) -> BuildResult:
    """Build ``design`` for a board: bitstream, Verilog and ``report.json`` in ``out_dir``.

    Parameters
    ----------
    design, board_name, seed, freq, name, synth_opts
        As for :func:`prepare`. On ECP5, a Yosys internal error (an ``Assert`` failing) is
        retried once with ``-nolutram`` added to ``synth_opts`` (YoWASP's Yosys 0.70 fails that
        way mapping some registered memory reads to LUT RAM); the report's ``notes`` say so.
    out_dir : str or os.PathLike, optional
        Where the products go (default ``build/<design>-<board>``); the tools' own files
        (scripts, logs, netlists) go into its ``work`` folder.
    toolchain : str or Toolchain, optional
        ``"yowasp"`` or ``"system"`` (default: ``NEUROGATE_TOOLCHAIN``, else YoWASP).
    cache : bool
        Reuse a cached build of the same plan and toolchain (and store this one).
    progress : bool or file
        Where progress lines go: standard error (``True``), a file, or nowhere (``False``).

    Raises
    ------
    ToolchainError
        A tool is missing (the message says what to install).
    DesignTooBigError, TimingError, BuildError
        The design does not fit, misses the requested frequency, or a tool failed; each has a
        ``report`` (also written to ``report.json``) when the tools got far enough.
    """
    start = time.perf_counter()
    if progress is True:
        progress = sys.stderr
    progress = progress or None
    prepared = prepare(design, board_name, seed=seed, freq=freq, name=name, synth_opts=synth_opts)
    target = prepared.board
    tc = toolchain if isinstance(toolchain, Toolchain) else get_toolchain(toolchain)
    main_tools = [t for t in prepared.tools if tc.knows(t)]
    tc.check(main_tools)
    versions = tc.versions(main_tools)
    digest = _digest(prepared, tc, versions)
    if out_dir is None:
        out_dir = Path("build") / f"{prepared.design_name}-{target.name}"
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = {
        "bitstream": f"{prepared.design_name}{target.bitstream_suffix}",
        "verilog": f"{prepared.design_name}.v",
        "report": "report.json",
        **{f: f for f in prepared.extra_files},
    }
    entry = cache_dir() / digest
    if cache and all((entry / f).exists() for f in names.values()):
        for f in names.values():
            shutil.copyfile(entry / f, out / f)
        report = json.loads((out / names["report"]).read_text())
        report["cached"] = True
        if progress is not None:
            print(f"  cached build {digest[:12]} (no tools run)", file=progress, flush=True)
        return BuildResult(report, out, out / names["bitstream"], out / names["verilog"], True,
                           time.perf_counter() - start, tuple(prepared.extra_files))  # fmt: skip

    work = out / "work"
    if work.exists():
        shutil.rmtree(work)
    prepared.plan.extract(work)
    shutil.copyfile(work / f"{TOP}.debug.v", out / names["verilog"])
    for file_name, text in prepared.extra_files.items():
        (out / file_name).write_text(text)
    report = {
        "neurogate": ng.__version__,
        "design": prepared.design_name,
        "board": target.name,
        "family": target.family,
        "device": target.device,
        "package": target.package,
        "seed": seed,
        "synth_opts": synth_opts,
        "notes": [],
        "requested_mhz": prepared.requested_mhz,
        "board_clock_mhz": target.clock_hz / 1e6,
        "toolchain": {"kind": tc.kind, **versions},
        "digest": digest,
        "cells": {},
        "utilisation": {},
        "clocks": {},
        "fits": None,
        "timing_met": None,
        "seconds": {},
        "cached": False,
    }
    bar = _Progress(progress)

    def save():
        report["seconds"]["total"] = round(time.perf_counter() - start, 2)
        (out / names["report"]).write_text(json.dumps(report, indent=2) + "\n")

    for argv in prepared.commands:
        tool = argv[0]
        if tc.knows(tool):
            exe = tc.path(tool)
        elif shutil.which(tool):  # a board's extra step (e.g. dfu-suffix)
            exe = shutil.which(tool)
        else:
            if progress is not None:
                print(f"  skipped {' '.join(argv)}: {tool} is not installed", file=progress)
            continue
        proc, took = bar.run(_LABELS.get(tool, tool), [exe, *argv[1:]], work)
        report["seconds"][tool] = round(took, 2)
        log_text = (proc.stdout or "") + (proc.stderr or "")
        log_file = work / _LOGS.get(tool, "-")
        if log_file.is_file() and (tool.startswith("nextpnr") or not log_text.strip()):
            log_text = log_file.read_text(errors="replace")
        if tool.startswith("nextpnr") and proc.returncode != 0:
            sites = rep.log_utilisation(log_text)
            over = rep.overfull(sites)
            report["utilisation"] = {k: v for k, v in sites.items() if v["used"]}
            if over:
                report["fits"] = False
                save()
                raise DesignTooBigError(_too_big_message(prepared, over), report, out)
        if (
            proc.returncode > 0
            and tool == "yosys"
            and target.family == "ecp5"
            and "ERROR: Assert" in log_text
            and "-nolutram" not in synth_opts.split()
        ):
            note = "Yosys failed an internal assertion; built again without LUT RAM (-nolutram)"
            if progress is not None:
                print(f"  {note}", file=progress, flush=True)
            result = build(
                design, target, out, seed=seed, freq=freq, name=name,
                synth_opts=f"{synth_opts} -nolutram".strip(), toolchain=tc, cache=cache,
                progress=progress or False,
            )  # fmt: skip
            result.report["notes"].insert(0, note)
            (out / names["report"]).write_text(json.dumps(result.report, indent=2) + "\n")
            if cache:  # the next build of this plan goes straight to the cache
                _store(entry, out, names.values())
            return result
        if proc.returncode != 0:
            save()
            how = f"exit {proc.returncode}"
            if proc.returncode < 0:
                how = f"killed by signal {-proc.returncode}; out of memory?"
            raise BuildError(
                f"{tool} failed ({how}); the log is in {work}:\n{_tail(log_text)}", report, out
            )
        if tool == "yosys":
            stat = rep.read_json(work / f"{TOP}.stat.json")
            report["cells"] = rep.cell_columns(stat, target.family)
        elif tool.startswith("nextpnr"):
            pnr = rep.read_json(work / f"{TOP}.pnr.json")
            report["utilisation"] = rep.pnr_utilisation(pnr, target.family)
            report["clocks"] = rep.pnr_clocks(pnr, prepared.requested_mhz)
            report["fits"] = True
            report["timing_met"] = all(c["met"] for c in report["clocks"].values())
            if not report["timing_met"]:
                save()
                raise TimingError(_timing_message(prepared, report), report, out)
    bitstream = work / f"{TOP}{target.bitstream_suffix}"
    shutil.copyfile(bitstream, out / names["bitstream"])
    save()
    if cache:
        _store(entry, out, names.values())
    return BuildResult(report, out, out / names["bitstream"], out / names["verilog"], False,
                       time.perf_counter() - start, tuple(prepared.extra_files))  # fmt: skip


def _store(entry: Path, out: Path, files) -> None:
    """Copy ``files`` from ``out`` into the cache entry ``entry`` (atomically, first one wins)."""
    tmp = entry.with_name(entry.name + f".tmp{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copyfile(out / f, tmp / f)
    try:
        tmp.rename(entry)
    except OSError:  # another build stored it first
        shutil.rmtree(tmp, ignore_errors=True)


def _too_big_message(prepared: PreparedBuild, over: dict) -> str:
    parts = []
    for site, v in over.items():
        extra = v["used"] - v["available"]
        parts.append(
            f"{site} {v['used']} of {v['available']} ({extra} too many, "
            f"{100.0 * v['used'] / v['available']:.0f}% of the device)"
        )
    return (
        f"{prepared.design_name} does not fit the {prepared.board.device} of "
        f"{prepared.board.name}: {'; '.join(parts)}"
    )


def _timing_message(prepared: PreparedBuild, report: dict) -> str:
    parts = [
        f"{name} reaches {c['achieved_mhz']:.2f} MHz, {c['requested_mhz']:g} MHz requested "
        f"({c['requested_mhz'] - c['achieved_mhz']:.2f} MHz short)"
        for name, c in report["clocks"].items()
        if not c["met"]
    ]
    return (
        f"{prepared.design_name} misses timing on {prepared.board.name} (seed "
        f"{prepared.seed}): {'; '.join(parts)}; no bitstream written (try another --seed, a "
        "lower --freq, or a smaller design)"
    )


def program(result: BuildResult, *, run=subprocess.run) -> str:
    """Load a build's bitstream onto its board; return what was done, or how to do it."""
    target = board(result.report["board"])
    cmd = target.program_command(str(result.bitstream))
    if cmd is None:
        return f"no programmer found: {target.program_hint(str(result.bitstream))}"
    proc = run(cmd)
    if proc.returncode != 0:
        raise BuildError(f"{' '.join(cmd)} failed (exit {proc.returncode})")
    return f"programmed {target.name} with {' '.join(cmd)}"
